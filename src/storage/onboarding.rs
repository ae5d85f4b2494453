//! Onboarding views over the projected columns of `onboardings`.

use sqlx::PgExecutor;

use chrono::{DateTime, Utc};

use super::items::{ItemRow, decode};
use crate::domain::digest::as_of::OnboardingAt;
use crate::domain::digest::report::{OnboardingFigures, Percentiles};
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

#[derive(sqlx::FromRow)]
struct KpiRow {
    activated: i64,
    p50: Option<f64>,
    p90: Option<f64>,
    missed: i64,
    overdue: i64,
}

/// The KPI digest's onboarding figures for `[start, end)` (`teams` empty: every team), as
/// the onboardings stood at `end`: those changed since (`then`, rebuilt by
/// `domain::digest::as_of::onboarding_at`) are read as they were, not as projected now.
pub async fn kpi(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    then: &[OnboardingAt],
) -> sqlx::Result<OnboardingFigures> {
    let sql = format!(
        "WITH {onboardings_then}
         SELECT
             count(*) FILTER (WHERE activated) AS activated,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM activated_at - opened_at))
                 FILTER (WHERE activated) AS p50,
             percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM activated_at - opened_at))
                 FILTER (WHERE activated) AS p90,
             coalesce(sum(steps_missed) FILTER (WHERE activated), 0)::int8 AS missed,
             count(*) FILTER (WHERE state = 'onboarding' AND due_at < $3) AS overdue
         FROM (SELECT state, opened_at, activated_at, steps_missed, due_at,
                      (activated_at >= $2 AND activated_at < $3) AS activated
               FROM onboardings
               WHERE (state = 'onboarding' OR (activated_at >= $2 AND activated_at < $3))
                 AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
                 AND id NOT IN (SELECT id FROM onboardings_then)
               UNION ALL
               SELECT state, opened_at, activated_at, steps_missed, due_at,
                      (activated_at >= $2 AND activated_at < $3)
               FROM onboardings_then
               WHERE (state = 'onboarding' OR (activated_at >= $2 AND activated_at < $3))
                 AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))) o",
        onboardings_then = super::digests::onboardings_then("$4"),
    );
    let row: KpiRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(teams)
        .bind(start)
        .bind(end)
        .bind(sqlx::types::Json(then))
        .fetch_one(executor)
        .await?;
    Ok(OnboardingFigures {
        activated: row.activated,
        time_to_onboard: Percentiles { p50: row.p50, p90: row.p90 },
        step_breaches: row.missed + row.overdue,
    })
}
