//! Access views over the projected columns of `access_requests`.

use sqlx::PgExecutor;

use super::items::{ItemRow, decode};
use crate::domain::access::AccessRequest;

/// Most rows a list shows.
pub const LIST_LIMIT: i64 = 50;

/// A person's open requests and current grants, newest first.
pub async fn open_of_holder(
    executor: impl PgExecutor<'_>,
    holder: &str,
) -> sqlx::Result<Vec<AccessRequest>> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT id, version, doc FROM access_requests
         WHERE holder_key = $1 AND state IN ('pending', 'active')
         ORDER BY id DESC LIMIT $2",
    )
    .bind(holder)
    .bind(LIST_LIMIT)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(decode).collect()
}

/// The current grants of a system, soonest expiry first.
pub async fn active_of_system(
    executor: impl PgExecutor<'_>,
    system: &str,
) -> sqlx::Result<Vec<AccessRequest>> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT id, version, doc FROM access_requests
         WHERE system_key = $1 AND state = 'active'
         ORDER BY expires_at, id LIMIT $2",
    )
    .bind(system)
    .bind(LIST_LIMIT)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(decode).collect()
}
