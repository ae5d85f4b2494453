//! Escalation views: lists by scope and SLA standing. Rows are read and written by the
//! kernel's `storage::items`.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::items::{PagedRow, decode_page};
use crate::domain::escalation::{Escalation, EscalationState};
use crate::domain::page::{Listing, Page};

/// Which escalations a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    OwnedBy(String),
    Team(String),
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Not resolved.
    Open,
    /// Not resolved, past an at-risk point, not yet breached.
    AtRisk,
    /// Not resolved, past a due time.
    Breached,
}

/// One page of unresolved escalations by scope and SLA standing at `now`, most urgent first:
/// by the running clock's due time (so the most overdue lead), then the ones whose clocks are
/// stopped (paused, waiting), oldest first.
pub async fn list(
    executor: impl PgExecutor<'_>,
    scope: &Scope,
    status: StatusFilter,
    now: DateTime<Utc>,
    page: Page,
) -> sqlx::Result<Listing<Escalation>> {
    let (owner, team) = match scope {
        Scope::OwnedBy(owner) => (Some(owner.as_str()), None),
        Scope::Team(team) => (None, Some(team.as_str())),
        Scope::All => (None, None),
    };
    let status = match status {
        StatusFilter::Open => "open",
        StatusFilter::AtRisk => "at-risk",
        StatusFilter::Breached => "breached",
    };
    let rows: Vec<PagedRow> = sqlx::query_as(
        "WITH candidates AS (
             SELECT id, version, doc, opened_at, due_at, coalesce(due_at <= $4, false) AS breached,
                    coalesce(at_risk_at <= $4, false) AS at_risk
             FROM escalations
             WHERE state <> 'resolved'
               AND ($1::text IS NULL OR owner_key = $1)
               AND ($2::text IS NULL OR team_key = $2))
         SELECT id, version, doc, count(*) OVER () AS total FROM candidates
         WHERE $3 = 'open'
            OR ($3 = 'breached' AND breached)
            OR ($3 = 'at-risk' AND at_risk AND NOT breached)
         ORDER BY due_at NULLS LAST, opened_at, id
         OFFSET $5 LIMIT $6",
    )
    .bind(owner)
    .bind(team)
    .bind(status)
    .bind(now)
    .bind(page.offset())
    .bind(page.limit())
    .fetch_all(executor)
    .await?;
    decode_page(rows, page)
}

/// The team's open escalations nobody owns yet.
pub async fn count_unowned_open(executor: impl PgExecutor<'_>, team: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM escalations
         WHERE state <> 'resolved' AND team_key = $1 AND owner_key IS NULL",
    )
    .bind(team)
    .fetch_one(executor)
    .await
}

/// Counts escalations in a state (tests, status).
pub async fn count_in_state(
    executor: impl PgExecutor<'_>,
    state: EscalationState,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM escalations WHERE state = $1")
        .bind(state.as_str())
        .fetch_one(executor)
        .await
}
