//! Sealing the global checkpoint chain (DESIGN.md §6): the periodic job, its first
//! scheduling at start-up, and `steward audit checkpoint`.
//!
//! Which chains moved since the previous checkpoint: the log's `seq` is a bigserial, and
//! bigserial order is not commit order (a transaction that took a smaller number may commit
//! after one that took a larger). So the sealer does not keep a "last seq seen" watermark;
//! it takes every subject with a record at or after the previous checkpoint's time minus
//! [`GRACE`], and compares that subject's current chain tail with its last sealed entry.
//! A record that commits more than [`GRACE`] after its `at` would be sealed only with the
//! subject's next change; transitions commit within milliseconds, so the window is ample.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

use super::Services;
use super::jobs::{JobError, JobHandler, JobRegistry};
use crate::domain::audit_checkpoint::{self, Checkpoint};
use crate::domain::reply::Message;
use crate::storage::jobs::{Job, NewJob};
use crate::storage::outbox::{NewOutboxMessage, OutboxKind, WEBHOOK_PLATFORM};
use crate::storage::{self, Tx};

/// The job kind of the periodic checkpoint.
pub const CHECKPOINT_JOB: &str = "audit.checkpoint";

/// How far before the previous checkpoint the sealer looks for moved chains: longer than any
/// transaction takes to commit after stamping its records, plus clock skew between replicas.
pub const GRACE: Duration = Duration::minutes(10);

/// A checkpoint just sealed and how many chain heads it sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub checkpoint: Checkpoint,
    pub entries: usize,
}

/// The log target of the line each sealed checkpoint is written out as: keep these lines
/// outside the database (`steward audit verify --checkpoint <file>` reads them).
pub const LOG_TARGET: &str = "steward::audit_checkpoint";

/// The outbox target of the checkpoint webhook (`[audit] checkpoint_webhook_url`).
pub const WEBHOOK_TARGET: &str = "audit.checkpoint";

/// Seals the chain heads that moved since the previous checkpoint, in the caller's
/// transaction, and writes it out: a log line (target [`LOG_TARGET`]) and, with `webhook`,
/// a call in the outbox in the same transaction (so it is sent once per checkpoint, and
/// retried). `None` when nothing moved: no empty checkpoint is written.
pub async fn seal(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    webhook: bool,
) -> sqlx::Result<Option<Sealed>> {
    storage::audit_checkpoints::lock_sealer(conn).await?;
    let prev = storage::audit_checkpoints::last_checkpoint(&mut *conn).await?;
    let from = audit_checkpoint::scan_from(prev.as_ref(), GRACE);
    let tails = storage::audit_checkpoints::tails_since(&mut *conn, from).await?;
    let entries = audit_checkpoint::to_seal(tails);
    if entries.is_empty() {
        return Ok(None);
    }
    let (checkpoint, entries) = audit_checkpoint::seal(prev.as_ref(), now, entries);
    storage::audit_checkpoints::insert(&mut *conn, &checkpoint, &entries).await?;
    let sealed = Sealed { checkpoint, entries: entries.len() };
    if webhook {
        storage::outbox::enqueue(conn, &webhook_call(&sealed, now), now).await?;
    }
    let c = &sealed.checkpoint;
    tracing::info!(
        target: LOG_TARGET,
        checkpoint = c.seq,
        hash = %c.hash,
        prev_hash = %c.prev_hash,
        at = %c.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        entries = sealed.entries,
        "audit checkpoint sealed"
    );
    Ok(Some(sealed))
}

/// The signed call announcing a checkpoint; its dedupe key names the checkpoint.
fn webhook_call(sealed: &Sealed, now: DateTime<Utc>) -> NewOutboxMessage {
    let c = &sealed.checkpoint;
    let body = serde_json::json!({
        "checkpoint": c.seq,
        "hash": c.hash,
        "prev_hash": c.prev_hash,
        "at": c.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "entries": sealed.entries,
    });
    NewOutboxMessage {
        platform: WEBHOOK_PLATFORM.to_owned(),
        kind: OutboxKind::Webhook,
        target: WEBHOOK_TARGET.to_owned(),
        message: Message::text(body.to_string()),
        dedupe_key: format!("{CHECKPOINT_JOB}:{}:webhook", c.seq),
        not_before: now,
        workspace: None,
    }
}

/// `steward audit checkpoint`: seals one checkpoint now, in its own transaction (without
/// the webhook: see [`seal_now_with`]).
pub async fn seal_now(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<Option<Sealed>> {
    seal_now_with(pool, now, false).await
}

/// [`seal_now`], with the webhook call when `webhook`.
pub async fn seal_now_with(
    pool: &PgPool,
    now: DateTime<Utc>,
    webhook: bool,
) -> sqlx::Result<Option<Sealed>> {
    let mut tx = pool.begin().await?;
    let sealed = seal(&mut tx, now, webhook).await?;
    tx.commit().await?;
    Ok(sealed)
}

/// The job for the slot after `now`; its dedupe key names the slot, so every replica
/// scheduling it (and the previous run re-scheduling it) yields one run.
fn next_job(services: &Services, now: DateTime<Utc>) -> NewJob {
    let every = Duration::minutes(services.setup().settings.audit.checkpoint_every_minutes as i64);
    let slot = audit_checkpoint::next_slot(now, every);
    NewJob {
        kind: CHECKPOINT_JOB.to_owned(),
        payload: serde_json::json!({}),
        run_at: slot,
        dedupe_key: Some(format!("{CHECKPOINT_JOB}:{}", slot.to_rfc3339())),
        max_attempts: services.setup().settings.jobs.max_attempts,
    }
}

/// Schedules the next checkpoint (at start-up; afterwards each run schedules the next).
pub async fn schedule(services: &Services) -> sqlx::Result<()> {
    let now = services.clock().now();
    storage::jobs::enqueue(services.pool(), &next_job(services, now), now).await?;
    Ok(())
}

/// Registers the checkpoint job with the job workers.
pub fn register_jobs(registry: &mut JobRegistry) {
    registry.register(CHECKPOINT_JOB, Arc::new(CheckpointJob));
}

/// Seals a checkpoint, then schedules the next slot in the same transaction.
pub struct CheckpointJob;

#[async_trait]
impl JobHandler for CheckpointJob {
    async fn run(&self, services: &Services, _job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let retry = |e: sqlx::Error| JobError::Retryable(e.to_string());
        let now = services.clock().now();
        let webhook = services.setup().settings.audit.checkpoint_webhook_url.is_some();
        seal(tx.conn().await?, now, webhook).await.map_err(retry)?;
        storage::jobs::enqueue(tx.conn().await?, &next_job(services, now), now)
            .await
            .map_err(retry)?;
        Ok(())
    }
}
