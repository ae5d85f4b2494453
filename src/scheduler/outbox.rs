//! The outbox dispatcher: sends claimed messages through the platform's [`ChatPort`],
//! posting living cards once and updating them in place afterwards.
//!
//! Attempts and budgets: only a send that reached the platform and failed counts as an
//! attempt. Waiting — for the channel's pacing, for a method paused by a 429, for a parent
//! card to be posted — hands the message back without counting (`storage::outbox::defer`).
//! A message is given up when retrying cannot help (`SendError::Permanent`) or when its time
//! budget (`outbox.post_budget_minutes`, `outbox.dm_budget_minutes`, from when it was
//! enqueued) is spent after at least `outbox.max_attempts` real attempts. A page that is
//! given up escalates to the next level at once (`services::escalations::page_undeliverable`).
//!
//! Stopping: between messages the dispatcher looks at its shutdown token; once it is
//! cancelled it claims nothing more, gives a send under way half of
//! `server.shutdown_timeout_seconds` to finish, and releases the rest of its batch so the
//! next start (or another replica) sends them at once, each exactly once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::backoff;
use crate::domain::ids::Platform;
use crate::domain::incident::RoomOp;
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

/// When to stop: the shutdown token, and how long a send under way may still take after it.
struct Stop<'a> {
    token: &'a CancellationToken,
    grace: Duration,
}

impl Stop<'_> {
    /// Runs `work` to its end, or until the grace after shutdown ran out (`None`).
    async fn bounded<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        let grace_over = async {
            self.token.cancelled().await;
            tokio::time::sleep(self.grace).await;
        };
        tokio::select! {
            biased;
            done = work => Some(done),
            _ = grace_over => None,
        }
    }
}

/// What happened to one claimed message, as far as the outbox row is concerned.
enum Outcome {
    Sent(Option<MessageRef>),
    /// Not sent and not an attempt: try again after the wait.
    Wait(Duration),
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    Failed(String),
}

impl Dispatcher {
    pub fn new(services: Services, ports: Vec<Arc<dyn ChatPort>>) -> Dispatcher {
        let ports = ports.into_iter().map(|p| (p.platform(), p)).collect();
        Dispatcher { services, ports }
    }

    fn platforms(&self) -> Vec<String> {
        self.ports.keys().map(|p| p.as_str().to_owned()).collect()
    }

    /// How long sends under way may still take once a stop was asked for.
    fn grace(&self) -> Duration {
        Duration::from_secs(self.services.setup().settings.server.shutdown_timeout_seconds) / 2
    }

    /// Claims one batch of due messages and sends them; returns how many were claimed.
    pub async fn dispatch_once(&self) -> anyhow::Result<usize> {
        let never = CancellationToken::new();
        self.dispatch_batch(&Stop { token: &never, grace: self.grace() }).await
    }

    async fn dispatch_batch(&self, stop: &Stop<'_>) -> anyhow::Result<usize> {
        let settings = &self.services.setup().settings.outbox;
        let pool = self.services.pool();
        let now = self.services.clock().now();
        let lease = chrono::Duration::seconds(settings.lease_seconds as i64);
        let batch =
            outbox::claim_due(pool, &self.platforms(), now, now + lease, settings.batch_size)
                .await?;
        for (index, message) in batch.iter().enumerate() {
            let untried: Vec<i64> = batch[index..].iter().map(|m| m.id).collect();
            if stop.token.is_cancelled() {
                outbox::release(pool, &untried, false).await?;
                tracing::info!(released = untried.len(), "outbox: stopping, batch released");
                break;
            }
            if stop.bounded(self.deliver(message)).await.transpose()?.is_none() {
                outbox::release(pool, &[message.id], true).await?;
                outbox::release(pool, &untried[1..], false).await?;
                tracing::warn!(outbox_id = message.id, "outbox: send cut off by shutdown");
                break;
            }
        }
        Ok(batch.len())
    }

    /// Sends until nothing is due (the console calls this before it exits).
    pub async fn flush(&self) -> anyhow::Result<()> {
        loop {
            let claimed = self.dispatch_once().await?;
            let now = self.services.clock().now();
            if claimed == 0
                && !outbox::has_due(self.services.pool(), &self.platforms(), now).await?
            {
                return Ok(());
            }
        }
    }

    /// Runs until `shutdown`, polling when idle; returns within the shutdown grace.
    pub async fn run(self, shutdown: CancellationToken) {
        let idle = Duration::from_millis(self.services.setup().settings.outbox.poll_interval_ms);
        let stop = Stop { token: &shutdown, grace: self.grace() };
        while !shutdown.is_cancelled() {
            let pause = match self.dispatch_batch(&stop).await {
                Ok(0) => idle,
                Ok(_) => continue,
                Err(err) => {
                    tracing::error!(error = %err, "outbox dispatcher error");
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
        let pool = self.services.pool();
        let Some(port) = Platform::parse(&message.platform).and_then(|p| self.ports.get(&p)) else {
            return Ok(()); // claimed only for platforms we have; unreachable in practice
        };
        if let Some(key) = message.message.living_key()
            && outbox::supersede_if_newer(pool, message.id, &message.platform, key).await?
        {
            return Ok(());
        }
        let outcome = self.send(port.as_ref(), message).await?;
        let now = self.services.clock().now();
        let counted = match &outcome {
            Outcome::Sent(_) => "sent",
            Outcome::Wait(_) => "waited",
            Outcome::Retry { .. } => "retry",
            Outcome::Failed(_) => "failed",
        };
        crate::telemetry::metrics::send(&message.platform, counted);
        match outcome {
            Outcome::Sent(sent_ref) => {
                if let (Some(key), Some(sent)) = (message.message.living_key(), &sent_ref) {
                    outbox::set_living_ref(pool, &message.platform, key, sent, now).await?;
                }
                outbox::mark_sent(pool, message.id, sent_ref.as_ref(), now).await?;
            }
            Outcome::Wait(wait) => {
                outbox::defer(pool, message.id, now + chrono::Duration::from_std(wait)?).await?;
            }
            Outcome::Retry { reason, .. } if self.budget_spent(message, now) => {
                let reason = format!("gave up after {} attempts: {reason}", message.attempts);
                self.give_up(message, &reason).await?;
            }
            Outcome::Retry { reason, retry_after } => {
                let wait = retry_after.unwrap_or_else(|| jittered_backoff(message.attempts));
                let not_before = now + chrono::Duration::from_std(wait)?;
                tracing::info!(outbox_id = message.id, %reason, ?wait, "message will be retried");
                outbox::mark_retry(pool, message.id, not_before, &reason).await?;
            }
            Outcome::Failed(reason) => self.give_up(message, &reason).await?,
        }
        Ok(())
    }

    /// Whether a message that failed again has had its chances: its kind's time budget is
    /// spent and it reached the platform at least `max_attempts` times.
    fn budget_spent(&self, message: &OutboxMessage, now: DateTime<Utc>) -> bool {
        let settings = &self.services.setup().settings.outbox;
        let minutes = match message.kind {
            // A home view is as personal as a DM, and a later one replaces it anyway.
            OutboxKind::Dm | OutboxKind::Home => settings.dm_budget_minutes,
            // Webhooks have their own sender (`scheduler::webhooks`); posts' budget if ever.
            OutboxKind::Post | OutboxKind::Webhook | OutboxKind::Room => {
                settings.post_budget_minutes
            }
        };
        let budget = chrono::Duration::minutes(minutes as i64);
        now - message.created_at >= budget && message.attempts >= settings.max_attempts
    }

    /// Marks the message failed; a page that could not be delivered pages the next level.
    async fn give_up(&self, message: &OutboxMessage, reason: &str) -> anyhow::Result<()> {
        tracing::warn!(outbox_id = message.id, %reason, "message failed permanently");
        let mut tx = crate::storage::Tx::begin(self.services.pool()).await?;
        outbox::mark_failed(tx.conn().await?, message.id, reason).await?;
        crate::services::escalations::page_undeliverable(
            &self.services,
            &mut tx,
            &message.dedupe_key,
            reason,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends one message and says what became of it.
    async fn send(&self, port: &dyn ChatPort, message: &OutboxMessage) -> anyhow::Result<Outcome> {
        let pool = self.services.pool();
        let platform = &message.platform;
        let delivery = Delivery {
            outbox_id: message.id,
            attempt: message.attempts,
            workspace: message.workspace.clone(),
        };
        if message.kind == OutboxKind::Room {
            return self.send_room(port, message, delivery).await;
        }
        let sent = if message.kind == OutboxKind::Home {
            port.publish_home(delivery, &message.target, &message.message).await.map(|()| None)
        } else if message.kind == OutboxKind::Dm {
            port.direct_message(delivery, &message.target, &message.message).await.map(Some)
        } else if let Some(key) = message.message.living_key()
            && let Some(existing) = outbox::living_ref(pool, platform, key).await?
        {
            port.update(delivery, &existing, &message.message).await.map(|()| None)
        } else {
            let thread = match &message.message.thread_of {
                Some(parent) => match outbox::living_ref(pool, platform, parent).await? {
                    Some(parent_ref) => Some(parent_ref),
                    None => return Ok(self.parent_missing(message, parent)),
                },
                None => None,
            };
            port.post(delivery, &message.target, &message.message, thread.as_ref()).await.map(Some)
        };
        Ok(outcome_of(sent))
    }

    /// One step of a war room. A pin waits (without spending an attempt) for its message to
    /// be posted; a room that was made is recorded with its incident before the row is
    /// marked sent, so a crash in between only repeats the step, which finds the room.
    async fn send_room(
        &self,
        port: &dyn ChatPort,
        message: &OutboxMessage,
        delivery: Delivery,
    ) -> anyhow::Result<Outcome> {
        let op = message.message.text.as_deref().map(serde_json::from_str::<RoomOp>);
        let Some(Ok(op)) = op else {
            return Ok(Outcome::Failed("not a room step".into()));
        };
        let pinned = match op.waits_for() {
            Some(key) => {
                match outbox::living_ref(self.services.pool(), &message.platform, key).await? {
                    Some(posted) => Some(posted),
                    None => return Ok(self.parent_missing(message, key)),
                }
            }
            None => None,
        };
        let made = match port.room(delivery, &op, pinned.as_ref()).await {
            Ok(made) => made,
            Err(err) => return Ok(outcome_of(Err(err))),
        };
        if let (Some(incident), Some(channel)) = (op.makes_room_of(), made) {
            let platform = port.platform();
            crate::services::incidents::room_created(&self.services, platform, incident, &channel)
                .await?;
        }
        Ok(Outcome::Sent(None))
    }

    /// A thread line whose parent card is not posted yet waits (without spending an
    /// attempt) for as long as a post may take; after that the parent is not coming.
    fn parent_missing(&self, message: &OutboxMessage, parent: &str) -> Outcome {
        let budget = chrono::Duration::minutes(
            self.services.setup().settings.outbox.post_budget_minutes as i64,
        );
        if self.services.clock().now() - message.created_at >= budget {
            Outcome::Failed(format!("`{parent}` was never posted"))
        } else {
            Outcome::Wait(PARENT_WAIT)
        }
    }
}

/// What a send's result means for its outbox row.
fn outcome_of(sent: Result<Option<MessageRef>, SendError>) -> Outcome {
    match sent {
        Ok(sent_ref) => Outcome::Sent(sent_ref),
        Err(SendError::Paced { retry_after }) => Outcome::Wait(retry_after),
        Err(SendError::Retryable { reason, retry_after }) => Outcome::Retry { reason, retry_after },
        Err(SendError::Permanent { reason }) => Outcome::Failed(reason),
    }
}

/// Backoff with ±25 % jitter, so many failed sends don't retry in lockstep.
fn jittered_backoff(attempt: i32) -> Duration {
    let wait = backoff(attempt, RETRY_BASE, RETRY_MAX);
    wait.mul_f64(rand::rng().random_range(0.75..1.25))
}
