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
use crate::storage::jobs::{Job, NewJob};
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

/// Seals the chain heads that moved since the previous checkpoint, in the caller's
/// transaction. `None` when nothing moved: no empty checkpoint is written.
pub async fn seal(conn: &mut PgConnection, now: DateTime<Utc>) -> sqlx::Result<Option<Sealed>> {
    storage::audit_checkpoints::lock_sealer(conn).await?;
    let prev = storage::audit_checkpoints::last_checkpoint(&mut *conn).await?;
    let from = audit_checkpoint::scan_from(prev.as_ref(), GRACE);
    let tails = storage::audit_checkpoints::tails_since(&mut *conn, from).await?;
    let entries = audit_checkpoint::to_seal(tails);
    if entries.is_empty() {
        return Ok(None);
    }
    let (checkpoint, entries) = audit_checkpoint::seal(prev.as_ref(), now, entries);
    storage::audit_checkpoints::insert(conn, &checkpoint, &entries).await?;
    Ok(Some(Sealed { checkpoint, entries: entries.len() }))
}

/// `steward audit checkpoint`: seals one checkpoint now, in its own transaction.
pub async fn seal_now(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<Option<Sealed>> {
    let mut tx = pool.begin().await?;
    let sealed = seal(&mut tx, now).await?;
    tx.commit().await?;
    Ok(sealed)
}

/// The job for the slot after `now`; its dedupe key names the slot, so every replica
/// scheduling it (and the previous run re-scheduling it) yields one run.
fn next_job(services: &Services, now: DateTime<Utc>) -> NewJob {
    let every = Duration::minutes(services.settings.audit.checkpoint_every_minutes as i64);
    let slot = audit_checkpoint::next_slot(now, every);
    NewJob {
        kind: CHECKPOINT_JOB.to_owned(),
        payload: serde_json::json!({}),
        run_at: slot,
        dedupe_key: Some(format!("{CHECKPOINT_JOB}:{}", slot.to_rfc3339())),
        max_attempts: services.settings.jobs.max_attempts,
    }
}

/// Schedules the next checkpoint (at start-up; afterwards each run schedules the next).
pub async fn schedule(services: &Services) -> sqlx::Result<()> {
    let now = services.clock.now();
    storage::jobs::enqueue(&services.pool, &next_job(services, now), now).await?;
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
        let now = services.clock.now();
        if let Some(sealed) = seal(tx, now).await.map_err(retry)? {
            tracing::info!(
                checkpoint = sealed.checkpoint.seq,
                entries = sealed.entries,
                "audit checkpoint sealed"
            );
        }
        storage::jobs::enqueue(&mut **tx, &next_job(services, now), now).await.map_err(retry)?;
        Ok(())
    }
}
