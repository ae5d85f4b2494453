//! `GET /metrics`: Prometheus text format. Queue depths and ages are sampled from the
//! database at scrape time (one short query each, bounded by the pool's acquire timeout),
//! then everything recorded in `telemetry::metrics` is rendered.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::HttpState;
use crate::storage;
use crate::telemetry::metrics::{handle, sample, zero_samples};

pub async fn metrics(State(state): State<HttpState>) -> Response {
    let Some(handle) = handle() else {
        return (StatusCode::NOT_FOUND, "metrics go to another recorder").into_response();
    };
    zero_samples();
    if let Err(err) = sample_database(&state).await {
        // Still answer: the recorded counters are worth having during an outage.
        tracing::warn!(error = %err, "metrics: database figures not sampled");
    }
    let pool = &state.pool;
    let idle = pool.num_idle() as f64;
    sample("steward_db_pool_connections", &[("state", "idle".into())], idle);
    sample("steward_db_pool_connections", &[("state", "in_use".into())], pool.size() as f64 - idle);
    let content_type = [(header::CONTENT_TYPE, "text/plain; version=0.0.4")];
    (StatusCode::OK, content_type, handle.render()).into_response()
}

async fn sample_database(state: &HttpState) -> sqlx::Result<()> {
    let now = Utc::now();
    let seconds = |at: chrono::DateTime<Utc>| (now - at).num_milliseconds().max(0) as f64 / 1000.0;
    for row in storage::outbox::depth(&state.pool).await? {
        let labels = [("platform", row.platform.clone()), ("state", row.state.clone())];
        sample("steward_outbox_messages", &labels, row.count as f64);
        if row.state == "pending" {
            let age = row.oldest.map(seconds).unwrap_or(0.0);
            sample("steward_outbox_oldest_pending_seconds", &[("platform", row.platform)], age);
        }
    }
    let mut dead = 0;
    for row in storage::jobs::depth(&state.pool, now).await? {
        let labels = [("kind", row.kind.clone()), ("state", row.state.clone())];
        sample("steward_jobs", &labels, row.count as f64);
        if row.state == "pending" {
            let lag = row.oldest_due.map(seconds).unwrap_or(0.0);
            sample("steward_job_lag_seconds", &[("kind", row.kind)], lag);
        } else if row.state == "dead" {
            dead += row.count;
        }
    }
    sample("steward_jobs_dead", &[], dead as f64);
    Ok(())
}
