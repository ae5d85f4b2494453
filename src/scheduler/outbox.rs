//! The outbox dispatcher: sends claimed messages through the platform's [`ChatPort`],
//! posting living cards once and updating them in place afterwards.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::backoff;
use crate::domain::ids::Platform;
use crate::domain::reply::MessageRef;
use crate::services::Services;
use crate::services::ports::{ChatPort, Delivery, SendError};
use crate::storage::outbox::{self, OutboxKind, OutboxMessage};

/// First retry delay after a temporary failure without `Retry-After`.
const RETRY_BASE: Duration = Duration::from_secs(2);
/// Longest delay between retries of one message.
const RETRY_MAX: Duration = Duration::from_secs(300);
/// How long a threaded reply waits for its parent card to be posted before looking again.
const PARENT_WAIT: Duration = Duration::from_secs(1);

/// Drains the outbox for the platforms it has ports for.
#[derive(Clone)]
pub struct Dispatcher {
    services: Services,
    ports: HashMap<Platform, Arc<dyn ChatPort>>,
}

impl Dispatcher {
    pub fn new(services: Services, ports: Vec<Arc<dyn ChatPort>>) -> Dispatcher {
        let ports = ports.into_iter().map(|p| (p.platform(), p)).collect();
        Dispatcher { services, ports }
    }

    fn platforms(&self) -> Vec<String> {
        self.ports.keys().map(|p| p.as_str().to_owned()).collect()
    }

    /// Claims one batch of due messages and sends them; returns how many were claimed.
    pub async fn dispatch_once(&self) -> anyhow::Result<usize> {
        let settings = &self.services.settings.outbox;
        let now = self.services.clock.now();
        let lease = chrono::Duration::seconds(settings.lease_seconds as i64);
        let batch = outbox::claim_due(
            &self.services.pool,
            &self.platforms(),
            now,
            now + lease,
            settings.batch_size,
        )
        .await?;
        for message in &batch {
            self.deliver(message).await?;
        }
        Ok(batch.len())
    }

    /// Sends until nothing is due (the console calls this before it exits).
    pub async fn flush(&self) -> anyhow::Result<()> {
        loop {
            let claimed = self.dispatch_once().await?;
            let now = self.services.clock.now();
            if claimed == 0 && !outbox::has_due(&self.services.pool, &self.platforms(), now).await?
            {
                return Ok(());
            }
        }
    }

    /// Runs until `shutdown`, polling when idle.
    pub async fn run(self, shutdown: CancellationToken) {
        let idle = Duration::from_millis(self.services.settings.outbox.poll_interval_ms);
        loop {
            let pause = match self.dispatch_once().await {
                Ok(0) => idle,
                Ok(_) => continue,
                Err(err) => {
                    tracing::error!(error = ?err, "outbox dispatcher error");
                    idle * 4
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn deliver(&self, message: &OutboxMessage) -> anyhow::Result<()> {
        let pool = &self.services.pool;
        let Some(port) = Platform::parse(&message.platform).and_then(|p| self.ports.get(&p)) else {
            return Ok(()); // claimed only for platforms we have; unreachable in practice
        };
        if let Some(key) = message.message.living_key()
            && outbox::supersede_if_newer(pool, message.id, &message.platform, key).await?
        {
            return Ok(());
        }
        let result = self.send(port.as_ref(), message).await?;
        let now = self.services.clock.now();
        match result {
            Ok(sent_ref) => {
                if let (Some(key), Some(sent)) = (message.message.living_key(), &sent_ref) {
                    outbox::set_living_ref(pool, &message.platform, key, sent, now).await?;
                }
                outbox::mark_sent(pool, message.id, sent_ref.as_ref(), now).await?;
            }
            Err(SendError::Permanent { reason }) => {
                tracing::warn!(outbox_id = message.id, %reason, "message failed permanently");
                outbox::mark_failed(pool, message.id, &reason).await?;
            }
            Err(SendError::Paced { retry_after }) => {
                let not_before = now + chrono::Duration::from_std(retry_after)?;
                outbox::defer(pool, message.id, not_before).await?;
            }
            Err(SendError::Retryable { reason, retry_after }) => {
                let max_attempts = self.services.settings.outbox.max_attempts;
                if message.attempts >= max_attempts {
                    let reason = format!("gave up after {max_attempts} attempts: {reason}");
                    tracing::warn!(outbox_id = message.id, %reason, "message failed");
                    outbox::mark_failed(pool, message.id, &reason).await?;
                } else {
                    let wait = retry_after.unwrap_or_else(|| jittered_backoff(message.attempts));
                    let not_before = now + chrono::Duration::from_std(wait)?;
                    tracing::info!(outbox_id = message.id, %reason, ?wait, "message will be retried");
                    outbox::mark_retry(pool, message.id, not_before, &reason).await?;
                }
            }
        }
        Ok(())
    }

    /// Sends one message. `Ok(Ok(Some(ref)))` when a new platform message was created.
    async fn send(
        &self,
        port: &dyn ChatPort,
        message: &OutboxMessage,
    ) -> anyhow::Result<Result<Option<MessageRef>, SendError>> {
        let pool = &self.services.pool;
        let platform = &message.platform;
        let delivery = Delivery { outbox_id: message.id, attempt: message.attempts };
        if message.kind == OutboxKind::Dm {
            return Ok(port
                .direct_message(delivery, &message.target, &message.message)
                .await
                .map(Some));
        }
        if let Some(key) = message.message.living_key()
            && let Some(existing) = outbox::living_ref(pool, platform, key).await?
        {
            return Ok(port.update(delivery, &existing, &message.message).await.map(|()| None));
        }
        let thread = match &message.message.thread_of {
            Some(parent) => match outbox::living_ref(pool, platform, parent).await? {
                Some(parent_ref) => Some(parent_ref),
                None => {
                    return Ok(Err(SendError::Retryable {
                        reason: format!("waiting for `{parent}` to be posted"),
                        retry_after: Some(PARENT_WAIT),
                    }));
                }
            },
            None => None,
        };
        Ok(port.post(delivery, &message.target, &message.message, thread.as_ref()).await.map(Some))
    }
}

/// Backoff with ±25 % jitter, so many failed sends don't retry in lockstep.
fn jittered_backoff(attempt: i32) -> Duration {
    let wait = backoff(attempt, RETRY_BASE, RETRY_MAX);
    wait.mul_f64(rand::rng().random_range(0.75..1.25))
}
