//! Pruning old rows of the bookkeeping tables: handled inbound events (`inbox`), finished
//! outgoing messages (`outbox`) and finished jobs (`jobs`).
//!
//! Each table's rule is written once (the `*_prunable!` macros) and used both to delete a
//! batch and to count for a dry run, so `steward prune --dry-run` reports exactly what a
//! real run would remove. There are no indexes on the age columns: they would cost an index
//! entry on every write of the click path, and the daily prune finds old rows cheaply
//! anyway (the oldest ids come first in `outbox` and `jobs`; `inbox` is read sequentially
//! until a batch is full).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// A table the retention job prunes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pruned {
    Inbox,
    Outbox,
    Jobs,
}

impl Pruned {
    pub const ALL: [Pruned; 3] = [Pruned::Inbox, Pruned::Outbox, Pruned::Jobs];

    pub fn table(self) -> &'static str {
        match self {
            Pruned::Inbox => "inbox",
            Pruned::Outbox => "outbox",
            Pruned::Jobs => "jobs",
        }
    }
}

/// Inbox rows received before `$1`. Their dedupe keys are older than any redelivery.
macro_rules! inbox_prunable {
    () => {
        "FROM inbox WHERE received_at < $1"
    };
}

/// Outbox rows created before `$1` that are finished (sent, failed or superseded), except
/// the newest row of each living card: a card may stay unchanged for longer than the
/// retention, and its prompt and confirmation buttons are looked up from that row. (Where a
/// card was posted lives in `living_messages`, which is not pruned, so an old card is still
/// updated in place.) Pending messages are never pruned.
macro_rules! outbox_prunable {
    () => {
        "FROM outbox o
         WHERE o.state <> 'pending' AND o.created_at < $1
           AND (o.living_key IS NULL OR EXISTS (
                    SELECT 1 FROM outbox n
                    WHERE n.platform = o.platform AND n.living_key = o.living_key
                      AND n.id > o.id))"
    };
}

/// Jobs that finished (done or dead) before `$1`. Pending and running jobs are never pruned.
macro_rules! jobs_prunable {
    () => {
        "FROM jobs WHERE state IN ('done', 'dead') AND COALESCE(finished_at, created_at) < $1"
    };
}

/// Deletes up to `limit` prunable rows of `table` older than `cutoff`; returns how many.
/// Rows locked by someone else (a concurrent prune) are skipped rather than waited for.
pub async fn prune_batch(
    executor: impl PgExecutor<'_>,
    table: Pruned,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<u64> {
    let statement = match table {
        Pruned::Inbox => concat!(
            "DELETE FROM inbox WHERE dedupe_key IN (SELECT dedupe_key ",
            inbox_prunable!(),
            " LIMIT $2 FOR UPDATE SKIP LOCKED)"
        ),
        Pruned::Outbox => concat!(
            "DELETE FROM outbox WHERE id IN (SELECT o.id ",
            outbox_prunable!(),
            " ORDER BY o.id LIMIT $2 FOR UPDATE OF o SKIP LOCKED)"
        ),
        Pruned::Jobs => concat!(
            "DELETE FROM jobs WHERE id IN (SELECT id ",
            jobs_prunable!(),
            " ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)"
        ),
    };
    let deleted =
        sqlx::query(statement).bind(cutoff).bind(limit).execute(executor).await?.rows_affected();
    Ok(deleted)
}

/// How many rows of `table` a prune with `cutoff` would delete now.
pub async fn count_prunable(
    executor: impl PgExecutor<'_>,
    table: Pruned,
    cutoff: DateTime<Utc>,
) -> sqlx::Result<i64> {
    let statement = match table {
        Pruned::Inbox => concat!("SELECT count(*) ", inbox_prunable!()),
        Pruned::Outbox => concat!("SELECT count(*) ", outbox_prunable!()),
        Pruned::Jobs => concat!("SELECT count(*) ", jobs_prunable!()),
    };
    sqlx::query_scalar(statement).bind(cutoff).fetch_one(executor).await
}
