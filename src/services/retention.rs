//! Retention: old inbox rows, finished outbox messages and finished jobs are deleted in
//! batches, by a daily job and by `steward prune`. What counts as old and finished is
//! decided per table in `storage::retention`; how long each is kept is `[retention]`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::Services;
use super::jobs::{JobError, JobHandler, JobRegistry};
use crate::domain::messages::retention as text;
use crate::storage::Tx;
use crate::storage::jobs::{self, Job, NewJob};
use crate::storage::retention::{self as store, Pruned};

/// The daily prune job.
pub const PRUNE_JOB: &str = "retention.prune";

/// Attempts before a failing prune is dead-lettered (the next day's run is already queued).
const PRUNE_MAX_ATTEMPTS: i32 = 5;

pub fn register_jobs(registry: &mut JobRegistry) {
    registry.register(PRUNE_JOB, Arc::new(PruneJob));
}

/// What a prune removed (or, in a dry run, would remove) from one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePrune {
    pub table: Pruned,
    /// Rows younger than this many days are kept.
    pub keep_days: u32,
    pub removed: u64,
    /// Delete statements (each its own transaction); 0 in a dry run.
    pub batches: u32,
}

/// What one prune did, per table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneReport {
    pub dry_run: bool,
    pub tables: Vec<TablePrune>,
}

impl PruneReport {
    /// Rows removed from `table`.
    pub fn removed(&self, table: Pruned) -> u64 {
        self.tables.iter().filter(|t| t.table == table).map(|t| t.removed).sum()
    }

    /// One line per table, and a note for a dry run.
    pub fn summary(&self) -> String {
        let mut lines: Vec<String> = self
            .tables
            .iter()
            .map(|t| {
                text::prune_line(t.table.table(), t.removed, t.keep_days, t.batches, self.dry_run)
            })
            .collect();
        if self.dry_run {
            lines.push(text::prune_dry_run_note().to_owned());
        }
        lines.join("\n")
    }
}

/// Prunes every table once (or only counts, for a dry run). Each batch is a statement of its
/// own, outside any transaction of the caller, so no lock is held for longer than a batch.
pub async fn prune(services: &Services, dry_run: bool) -> anyhow::Result<PruneReport> {
    let settings = &services.setup().settings.retention;
    let now = services.clock().now();
    let mut tables = Vec::new();
    for table in Pruned::ALL {
        let keep_days = match table {
            Pruned::Inbox => settings.inbox_days,
            Pruned::Outbox => settings.outbox_days,
            Pruned::Jobs => settings.jobs_days,
        };
        let cutoff = now - chrono::Duration::days(i64::from(keep_days));
        let (removed, batches) = if dry_run {
            (store::count_prunable(services.pool(), table, cutoff).await?.max(0) as u64, 0)
        } else {
            prune_table(services, table, cutoff).await?
        };
        tables.push(TablePrune { table, keep_days, removed, batches });
    }
    Ok(PruneReport { dry_run, tables })
}

/// Deletes batches until one comes back short: (rows removed, batches).
async fn prune_table(
    services: &Services,
    table: Pruned,
    cutoff: DateTime<Utc>,
) -> anyhow::Result<(u64, u32)> {
    let batch_size = services.setup().settings.retention.batch_size;
    let (mut removed, mut batches) = (0, 0);
    loop {
        let deleted = store::prune_batch(services.pool(), table, cutoff, batch_size).await?;
        removed += deleted;
        batches += 1;
        if deleted < batch_size as u64 {
            return Ok((removed, batches));
        }
    }
}

/// Queues the prune for the day of `run_at` (UTC), once: its dedupe key names the day, so
/// replicas and restarts queue one prune a day.
pub async fn schedule(services: &Services, run_at: DateTime<Utc>) -> sqlx::Result<()> {
    let job = NewJob {
        kind: PRUNE_JOB.to_owned(),
        payload: serde_json::json!({}),
        run_at,
        dedupe_key: Some(format!("{PRUNE_JOB}:{}", run_at.date_naive())),
        max_attempts: PRUNE_MAX_ATTEMPTS,
    };
    jobs::enqueue(services.pool(), &job, services.clock().now()).await.map(|_| ())
}

/// Runs the prune and queues tomorrow's.
struct PruneJob;

#[async_trait]
impl JobHandler for PruneJob {
    async fn run(&self, services: &Services, job: &Job, _tx: &mut Tx) -> Result<(), JobError> {
        let retry = |err: &dyn std::fmt::Display| JobError::Retryable(err.to_string());
        // Tomorrow's run is queued first and on its own, so that a failing prune does not
        // stop the daily chain. The batches run outside the job's transaction for the same
        // reason as in `prune`: deleting is idempotent, and short transactions hold no lock
        // for long.
        let next = services.clock().now().max(job.run_at) + chrono::Duration::days(1);
        schedule(services, next).await.map_err(|e| retry(&e))?;
        let report = prune(services, false).await.map_err(|e| retry(&e))?;
        tracing::info!(summary = %report.summary(), "retention prune finished");
        Ok(())
    }
}
