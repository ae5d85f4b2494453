//! The checkpoint chain's tables: the sealer's lock and reads, appending a checkpoint with
//! its entries, and streaming the chain for verification.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::{FromRow, PgConnection, PgExecutor, PgPool};

use crate::domain::audit_checkpoint::{Checkpoint, SealedEntry, TailToCompare};

#[derive(FromRow)]
struct CheckpointRow {
    seq: i64,
    at: DateTime<Utc>,
    prev_hash: String,
    hash: String,
}

impl From<CheckpointRow> for Checkpoint {
    fn from(row: CheckpointRow) -> Checkpoint {
        Checkpoint { seq: row.seq, at: row.at, prev_hash: row.prev_hash, hash: row.hash }
    }
}

/// Serialises sealers (the job on several replicas, `steward audit checkpoint`) until the
/// transaction ends; clicks never take this lock.
pub async fn lock_sealer(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('audit-checkpoint', 0))")
        .execute(conn)
        .await?;
    Ok(())
}

/// The newest checkpoint, if any.
pub async fn last_checkpoint(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<Checkpoint>> {
    let row: Option<CheckpointRow> = sqlx::query_as(
        "SELECT seq, at, prev_hash, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(executor)
    .await?;
    Ok(row.map(Checkpoint::from))
}

/// For every subject with a record at or after `from` (every subject when `None`): its chain
/// tail in the log and the position of its last sealed entry.
pub async fn tails_since(
    executor: impl PgExecutor<'_>,
    from: Option<DateTime<Utc>>,
) -> sqlx::Result<Vec<TailToCompare>> {
    let rows: Vec<(String, i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT c.subject, t.subject_seq, t.hash, s.subject_seq
         FROM (SELECT DISTINCT subject FROM audit_log
               WHERE at >= COALESCE($1, '-infinity'::timestamptz)) c
         CROSS JOIN LATERAL (
             SELECT subject_seq, hash FROM audit_log l
             WHERE l.subject = c.subject ORDER BY subject_seq DESC LIMIT 1) t
         LEFT JOIN LATERAL (
             SELECT subject_seq FROM audit_checkpoint_entries e
             WHERE e.subject = c.subject ORDER BY checkpoint_seq DESC LIMIT 1) s ON true",
    )
    .bind(from)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(subject, subject_seq, hash, sealed_seq)| TailToCompare {
            tail: SealedEntry { subject, subject_seq, hash },
            sealed_seq,
        })
        .collect())
}

/// Appends a checkpoint and its entries (two statements, in the caller's transaction).
pub async fn insert(
    conn: &mut PgConnection,
    checkpoint: &Checkpoint,
    entries: &[SealedEntry],
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO audit_checkpoints (seq, at, prev_hash, hash) VALUES ($1, $2, $3, $4)")
        .bind(checkpoint.seq)
        .bind(checkpoint.at)
        .bind(&checkpoint.prev_hash)
        .bind(&checkpoint.hash)
        .execute(&mut *conn)
        .await?;
    let subjects: Vec<&str> = entries.iter().map(|e| e.subject.as_str()).collect();
    let seqs: Vec<i64> = entries.iter().map(|e| e.subject_seq).collect();
    let hashes: Vec<&str> = entries.iter().map(|e| e.hash.as_str()).collect();
    sqlx::query(
        "INSERT INTO audit_checkpoint_entries (checkpoint_seq, subject, subject_seq, hash)
         SELECT $1, * FROM UNNEST($2::text[], $3::bigint[], $4::text[])",
    )
    .bind(checkpoint.seq)
    .bind(subjects)
    .bind(seqs)
    .bind(hashes)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct ChainRow {
    seq: i64,
    at: DateTime<Utc>,
    prev_hash: String,
    hash: String,
    subject: Option<String>,
    subject_seq: Option<i64>,
    entry_hash: Option<String>,
}

/// Streams the checkpoint chain ordered by checkpoint: one call per entry, or one without an
/// entry for a checkpoint that has none.
pub async fn for_each_row(
    pool: &PgPool,
    mut each: impl FnMut(Checkpoint, Option<SealedEntry>),
) -> sqlx::Result<()> {
    let mut rows = sqlx::query_as::<_, ChainRow>(
        "SELECT c.seq, c.at, c.prev_hash, c.hash, e.subject, e.subject_seq, e.hash AS entry_hash
         FROM audit_checkpoints c
         LEFT JOIN audit_checkpoint_entries e ON e.checkpoint_seq = c.seq
         ORDER BY c.seq, e.subject",
    )
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let entry = match (row.subject, row.subject_seq, row.entry_hash) {
            (Some(subject), Some(subject_seq), Some(hash)) => {
                Some(SealedEntry { subject, subject_seq, hash })
            }
            _ => None,
        };
        let checkpoint =
            Checkpoint { seq: row.seq, at: row.at, prev_hash: row.prev_hash, hash: row.hash };
        each(checkpoint, entry);
    }
    Ok(())
}
