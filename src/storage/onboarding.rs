//! Onboarding views over the projected columns of `onboardings`.

use sqlx::PgExecutor;

use super::items::{ItemRow, decode};
use crate::domain::onboarding::Onboarding;

/// Most rows a list shows.
pub const LIST_LIMIT: i64 = 50;

/// A team's accounts in onboarding, oldest first.
pub async fn open_of_team(
    executor: impl PgExecutor<'_>,
    team: &str,
) -> sqlx::Result<Vec<Onboarding>> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT id, version, doc FROM onboardings
         WHERE team_key = $1 AND state = 'onboarding' ORDER BY id LIMIT $2",
    )
    .bind(team)
    .bind(LIST_LIMIT)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(decode).collect()
}

/// The onboarding an account is in, if any.
pub async fn open_of_account(
    executor: impl PgExecutor<'_>,
    account: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM onboardings WHERE account_key = $1 AND state = 'onboarding' LIMIT 1",
    )
    .bind(account)
    .fetch_optional(executor)
    .await
}
