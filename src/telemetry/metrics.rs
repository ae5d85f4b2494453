//! Prometheus metrics through the `metrics` facade: counters and histograms are recorded
//! where things happen (inbound events, sends, digest slots); queue depths, ages and the
//! pool are sampled from the database when `/metrics` is scraped (`http::metrics`), so they
//! are right across replicas and restarts.
//!
//! Names (all prefixed `steward_`):
//! - `inbound_events_total{platform, kind, outcome}` — `kind`: command, click, submission;
//!   `outcome`: ok, refused, database_unavailable, error.
//! - `ack_seconds{platform}` — histogram of the time from receiving an event to its answer.
//! - `outbox_sends_total{platform, outcome}` — sent, waited (pacing or a 429), retry, failed.
//! - `rate_limited_total{platform, method}` — 429s received (Slack: the Web API method;
//!   Discord: `route` or `global`).
//! - `digest_slots_total{outcome}` — posted, late, skipped.
//! - `token_refresh_failures_total{platform, team}` — a rotating token the platform would not
//!   refresh: its messages wait until someone reinstalls the app there (or the platform
//!   answers again).
//! - sampled: `outbox_messages{platform, state}`, `outbox_oldest_pending_seconds{platform}`,
//!   `jobs{kind, state}`, `job_lag_seconds{kind}`, `jobs_dead`, `db_pool_connections{state}`.

use std::sync::{Mutex, OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Acknowledgement latency buckets, in seconds: Slack's deadline is 3 s.
const ACK_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The recorder's handle, installed on first use (once per process). `None` when another
/// recorder was installed first (then Steward's metrics go there).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("steward_ack_seconds".into()), ACK_BUCKETS)
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// One inbound event answered.
pub fn inbound(platform: &str, kind: &'static str, outcome: &'static str, seconds: f64) {
    let labels =
        [("platform", platform.to_owned()), ("kind", kind.into()), ("outcome", outcome.into())];
    metrics::counter!("steward_inbound_events_total", &labels).increment(1);
    metrics::histogram!("steward_ack_seconds", "platform" => platform.to_owned()).record(seconds);
}

/// One outbox send's outcome.
pub fn send(platform: &str, outcome: &'static str) {
    let labels = [("platform", platform.to_owned()), ("outcome", outcome.into())];
    metrics::counter!("steward_outbox_sends_total", &labels).increment(1);
}

/// A 429 from a platform.
pub fn rate_limited(platform: &'static str, method: &str) {
    let labels = [("platform", platform.to_owned()), ("method", method.to_owned())];
    metrics::counter!("steward_rate_limited_total", &labels).increment(1);
}

/// A rotating token of `team` that could not be refreshed.
pub fn token_refresh_failed(platform: &'static str, team: &str) {
    let labels = [("platform", platform.to_owned()), ("team", team.to_owned())];
    metrics::counter!("steward_token_refresh_failures_total", &labels).increment(1);
}

/// Digest slots handled by the scheduler.
pub fn digest_slots(outcome: &'static str, count: usize) {
    if count > 0 {
        metrics::counter!("steward_digest_slots_total", "outcome" => outcome)
            .increment(count as u64);
    }
}

type GaugeKey = (&'static str, Vec<(&'static str, String)>);

/// Every gauge sampled so far, so a queue that emptied reads 0 rather than its last value.
static SAMPLED: Mutex<Vec<GaugeKey>> = Mutex::new(Vec::new());

/// Sets every gauge sampled before to 0; the scrape then samples the current values.
pub fn zero_samples() {
    let sampled = SAMPLED.lock().unwrap_or_else(|e| e.into_inner());
    for (name, labels) in sampled.iter() {
        metrics::gauge!(*name, labels).set(0.0);
    }
}

/// A gauge sampled at scrape time.
pub fn sample(name: &'static str, labels: &[(&'static str, String)], value: f64) {
    let labels: Vec<(&'static str, String)> = labels.to_vec();
    metrics::gauge!(name, &labels).set(value);
    let mut sampled = SAMPLED.lock().unwrap_or_else(|e| e.into_inner());
    if !sampled.iter().any(|(n, l)| *n == name && *l == labels) {
        sampled.push((name, labels));
    }
}
