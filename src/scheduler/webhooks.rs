//! The webhook dispatcher: sends the outbox's signed HTTP calls to outside systems (grant
//! changes for access provisioning) and reports each call's final outcome to the item it
//! belongs to, as a job in the same transaction that marks the call sent or failed.
//!
//! A call is signed like intake (`http::signature`, scheme `v1`): `X-Steward-Timestamp` (unix
//! seconds on the services' clock) and `X-Steward-Signature: v1=<hex HMAC-SHA256 over
//! "v1:<timestamp>:<body>">`, with the first secret of `STEWARD_ACCESS_WEBHOOK_SECRETS`.
//! `X-Steward-Delivery` is the same on every retry of a call, so receivers can drop repeats
//! (a retry after a timeout may repeat a call that arrived). 5xx, 429 and connection
//! failures are retried with backoff up to `outbox.max_attempts`; other answers are final.

use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::backoff;
use crate::domain::item::ItemKind;
use crate::http::intake::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::http::signature::VersionedHmac;
use crate::services::Services;
use crate::storage::jobs::NewJob;
use crate::storage::outbox::{self, OutboxMessage, WEBHOOK_PLATFORM};

/// The timer name of an item's webhook outcome report: job kind `<noun>.webhook`.
pub const WEBHOOK_OUTCOME: &str = "webhook";
/// The header carrying the call's idempotency key.
pub const DELIVERY_HEADER: &str = "x-steward-delivery";
/// The signing scheme: intake's.
const SCHEME: VersionedHmac = VersionedHmac("v1");
/// First retry delay; doubles per attempt.
const RETRY_BASE: Duration = Duration::from_secs(5);
/// Longest delay between retries of one call.
const RETRY_MAX: Duration = Duration::from_secs(600);

/// Sends due webhook calls.
#[derive(Clone)]
pub struct WebhookDispatcher {
    services: Services,
    client: reqwest::Client,
}

/// How one attempt went.
enum Attempt {
    Delivered(String),
    Retry(String),
    Failed(String),
}

impl WebhookDispatcher {
    pub fn new(services: Services) -> anyhow::Result<WebhookDispatcher> {
        let timeout =
            Duration::from_secs(services.setup().settings.access.webhook_timeout_seconds.max(1));
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(WebhookDispatcher { services, client })
    }

    fn platforms() -> Vec<String> {
        vec![WEBHOOK_PLATFORM.to_owned()]
    }

    /// Claims one batch of due calls and sends them; returns how many were claimed.
    pub async fn dispatch_once(&self) -> anyhow::Result<usize> {
        let settings = &self.services.setup().settings.outbox;
        let now = self.services.clock().now();
        let lease = chrono::Duration::seconds(settings.lease_seconds as i64);
        let pool = self.services.pool();
        let batch =
            outbox::claim_due(pool, &Self::platforms(), now, now + lease, settings.batch_size)
                .await?;
        for call in &batch {
            self.deliver(call).await?;
        }
        Ok(batch.len())
    }

    /// Sends until nothing is due now.
    pub async fn flush(&self) -> anyhow::Result<()> {
        while self.dispatch_once().await? > 0 {}
        Ok(())
    }

    /// Runs until `shutdown`, polling when idle.
    pub async fn run(self, shutdown: CancellationToken) {
        let idle = Duration::from_millis(self.services.setup().settings.outbox.poll_interval_ms);
        loop {
            let pause = match self.dispatch_once().await {
                Ok(0) => idle,
                Ok(_) => continue,
                Err(err) => {
                    tracing::error!(error = ?err, "webhook dispatcher error");
                    idle * 4
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn attempt(&self, call: &OutboxMessage) -> Attempt {
        let settings = &self.services.setup().settings;
        let url = if call.target == crate::services::audit_checkpoint::WEBHOOK_TARGET {
            settings.audit.checkpoint_webhook_url.as_deref()
        } else {
            settings.access_webhook_url(&call.target)
        };
        let Some(url) = url else {
            return Attempt::Failed(format!("no webhook_url configured for `{}`", call.target));
        };
        let Some(secret) = settings.access.webhook_secrets.first() else {
            let env = crate::config::ACCESS_WEBHOOK_SECRETS_ENV;
            return Attempt::Failed(format!("no signing secret: {env} is not set"));
        };
        let body = call.message.text.clone().unwrap_or_default();
        let timestamp = self.services.clock().now().timestamp();
        let signature = SCHEME.sign(secret.expose(), timestamp, body.as_bytes());
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .header(DELIVERY_HEADER, format!("steward-{}", call.id))
            .body(body)
            .send()
            .await;
        match sent {
            Err(err) => Attempt::Retry(format!("could not reach {url}: {err}")),
            Ok(response) => {
                let status = response.status();
                let answer = format!("HTTP {}", status.as_u16());
                if status.is_success() {
                    Attempt::Delivered(answer)
                } else if status.is_server_error() || status.as_u16() == 429 {
                    Attempt::Retry(answer)
                } else {
                    Attempt::Failed(answer)
                }
            }
        }
    }

    async fn deliver(&self, call: &OutboxMessage) -> anyhow::Result<()> {
        let max_attempts = self.services.setup().settings.outbox.max_attempts;
        let attempt = match self.attempt(call).await {
            Attempt::Retry(reason) if call.attempts >= max_attempts => {
                Attempt::Failed(format!("gave up after {max_attempts} attempts: {reason}"))
            }
            other => other,
        };
        let now = self.services.clock().now();
        let (ok, detail) = match attempt {
            Attempt::Retry(reason) => {
                let wait = backoff(call.attempts, RETRY_BASE, RETRY_MAX)
                    .mul_f64(rand::rng().random_range(0.75..1.25));
                tracing::info!(outbox_id = call.id, %reason, ?wait, "webhook call will be retried");
                let not_before = now + chrono::Duration::from_std(wait)?;
                outbox::mark_retry(self.services.pool(), call.id, not_before, &reason).await?;
                return Ok(());
            }
            Attempt::Delivered(answer) => (true, answer),
            Attempt::Failed(reason) => (false, reason),
        };
        // The outcome and the report to the item commit together: shown on the card once.
        let mut tx = self.services.pool().begin().await?;
        if ok {
            outbox::mark_sent(&mut *tx, call.id, None, now).await?;
        } else {
            tracing::warn!(outbox_id = call.id, reason = %detail, "webhook call failed");
            outbox::mark_failed(&mut *tx, call.id, &detail).await?;
        }
        let item = call.message.thread_of.as_deref().and_then(|key| key.split(':').next());
        if let Some(kind) = item.and_then(ItemKind::from_prefix) {
            let body: serde_json::Value =
                serde_json::from_str(call.message.text.as_deref().unwrap_or("null"))?;
            let job = NewJob {
                kind: kind.job_kind(WEBHOOK_OUTCOME),
                payload: serde_json::json!({ "call": body, "ok": ok, "detail": detail }),
                run_at: now,
                dedupe_key: Some(format!("webhook-outcome:{}", call.id)),
                max_attempts: 10,
            };
            crate::storage::jobs::enqueue(&mut *tx, &job, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
