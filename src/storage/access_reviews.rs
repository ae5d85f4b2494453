//! Access review campaigns over the projected columns of `access_reviews`, and the grants a
//! campaign covers.

use sqlx::PgExecutor;

use super::items::{ItemRow, decode};
use crate::domain::access::AccessRequest;
use crate::domain::access::review::ReviewList;

/// The next campaign number.
pub async fn next_campaign(executor: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT nextval('access_review_campaigns')").fetch_one(executor).await
}

/// Every current grant, of one system or of all (`None`), oldest first.
pub async fn active_grants(
    executor: impl PgExecutor<'_>,
    system: Option<&str>,
) -> sqlx::Result<Vec<AccessRequest>> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT id, version, doc FROM access_requests
         WHERE state = 'active' AND ($1::text IS NULL OR system_key = $1) ORDER BY id",
    )
    .bind(system)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(decode).collect()
}

/// The ids of a campaign's lists, in order.
pub async fn list_ids(executor: impl PgExecutor<'_>, campaign: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM access_reviews WHERE campaign = $1 ORDER BY id")
        .bind(campaign as i32)
        .fetch_all(executor)
        .await
}

/// A campaign's lists, in order.
pub async fn lists(executor: impl PgExecutor<'_>, campaign: i64) -> sqlx::Result<Vec<ReviewList>> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT id, version, doc FROM access_reviews WHERE campaign = $1 ORDER BY id",
    )
    .bind(campaign as i32)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(decode).collect()
}
