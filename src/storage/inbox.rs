//! Inbound deduplication: reading stored replies. The inbox row itself is written by
//! `storage::effects::write`, last in the event's transaction; see the `inbox` migration for
//! why that is race-free.

use sqlx::PgExecutor;
use sqlx::types::Json;

use crate::domain::reply::Reply;

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
