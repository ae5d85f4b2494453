//! Inbound deduplication. See the `inbox` migration for why this is race-free.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use sqlx::types::Json;

use crate::domain::reply::Reply;

/// Records an inbound event. Returns `false` when the dedupe key was already recorded, in
/// which case the caller must not act. A concurrent insert of the same key blocks until the
/// first transaction ends (then returns `false` if it committed).
pub async fn claim(
    executor: impl PgExecutor<'_>,
    dedupe_key: &str,
    platform: &str,
    actor: &str,
    summary: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO inbox (dedupe_key, platform, actor, summary, received_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(dedupe_key)
    .bind(platform)
    .bind(actor)
    .bind(summary)
    .bind(now)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Stores the reply sent for an event, so duplicates get the same answer.
pub async fn store_reply(
    executor: impl PgExecutor<'_>,
    dedupe_key: &str,
    reply: &Reply,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE inbox SET reply = $2 WHERE dedupe_key = $1")
        .bind(dedupe_key)
        .bind(Json(reply))
        .execute(executor)
        .await
        .map(|_| ())
}

/// The reply stored for an event, if it was handled.
pub async fn get_reply(
    executor: impl PgExecutor<'_>,
    dedupe_key: &str,
) -> sqlx::Result<Option<Reply>> {
    let reply: Option<Option<Json<Reply>>> =
        sqlx::query_scalar("SELECT reply FROM inbox WHERE dedupe_key = $1")
            .bind(dedupe_key)
            .fetch_optional(executor)
            .await?;
    Ok(reply.flatten().map(|Json(reply)| reply))
}

pub async fn count(executor: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM inbox").fetch_one(executor).await
}
