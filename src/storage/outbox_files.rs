//! Files uploaded for outbox messages: which file an attachment became and whether it was
//! shared yet, so a retried send finishes the same upload (`services::uploads`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// The file recorded for attachment `position` of outbox message `outbox_id`, and whether
/// it was shared.
pub async fn recorded(
    db: impl PgExecutor<'_>,
    outbox_id: i64,
    position: i32,
) -> sqlx::Result<Option<(String, bool)>> {
    sqlx::query_as(
        "SELECT file_id, shared_at IS NOT NULL FROM outbox_files
         WHERE outbox_id = $1 AND position = $2",
    )
    .bind(outbox_id)
    .bind(position)
    .fetch_optional(db)
    .await
}

/// Records the file an attachment was uploaded as (the first record wins).
pub async fn record(
    db: impl PgExecutor<'_>,
    outbox_id: i64,
    position: i32,
    file_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO outbox_files (outbox_id, position, file_id, recorded_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (outbox_id, position) DO NOTHING",
    )
    .bind(outbox_id)
    .bind(position)
    .bind(file_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks the attachment's file shared into its channel.
pub async fn mark_shared(
    db: impl PgExecutor<'_>,
    outbox_id: i64,
    position: i32,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox_files SET shared_at = $3 WHERE outbox_id = $1 AND position = $2")
        .bind(outbox_id)
        .bind(position)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
