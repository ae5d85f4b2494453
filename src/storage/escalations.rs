//! Escalation rows.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::domain::escalation::{Escalation, EscalationState};

/// Deadlines stored beside the aggregate, for queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deadlines {
    pub acknowledge_due: Option<DateTime<Utc>>,
    pub acknowledge_risk_at: Option<DateTime<Utc>>,
    pub resolve_due: Option<DateTime<Utc>>,
    pub resolve_risk_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct EscalationRow {
    id: i64,
    version: i32,
    doc: Json<Escalation>,
}

impl From<EscalationRow> for Escalation {
    fn from(row: EscalationRow) -> Escalation {
        let mut escalation = row.doc.0;
        escalation.id = row.id;
        escalation.version = row.version;
        escalation
    }
}

/// Reserves the id of a new escalation.
pub async fn next_id(executor: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('escalations', 'id'))")
        .fetch_one(executor)
        .await
}

/// Inserts a new escalation under the id from [`next_id`].
pub async fn insert(
    conn: &mut PgConnection,
    escalation: &Escalation,
    deadlines: &Deadlines,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let e = escalation;
    sqlx::query(
        "INSERT INTO escalations (id, version, team_key, account_key, severity, state, owner_key,
             opened_by, opened_at, acknowledged_at, resolved_at, acknowledge_due,
             acknowledge_risk_at, resolve_due, resolve_risk_at, doc, updated_at)
         VALUES ($17, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(e.version)
    .bind(e.team.as_str())
    .bind(e.account.as_str())
    .bind(e.severity.as_str())
    .bind(e.state.as_str())
    .bind(e.owner.as_ref().map(|o| o.as_str()))
    .bind(e.opened_by.as_str())
    .bind(e.opened_at)
    .bind(e.acknowledged.as_ref().map(|a| a.at))
    .bind(e.resolved.as_ref().map(|r| r.at))
    .bind(deadlines.acknowledge_due)
    .bind(deadlines.acknowledge_risk_at)
    .bind(deadlines.resolve_due)
    .bind(deadlines.resolve_risk_at)
    .bind(Json(e))
    .bind(now)
    .bind(e.id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Loads an escalation and locks its row until the transaction ends.
pub async fn get_for_update(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Escalation>> {
    let row: Option<EscalationRow> =
        sqlx::query_as("SELECT id, version, doc FROM escalations WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(Escalation::from))
}

pub async fn get(executor: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Escalation>> {
    let row: Option<EscalationRow> =
        sqlx::query_as("SELECT id, version, doc FROM escalations WHERE id = $1")
            .bind(id)
            .fetch_optional(executor)
            .await?;
    Ok(row.map(Escalation::from))
}

/// Writes `escalation` as version `escalation.version` if the stored version is the one
/// before it (compare-and-set). Returns `false` if someone else wrote first.
pub async fn update(
    conn: &mut PgConnection,
    escalation: &Escalation,
    deadlines: &Deadlines,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let e = escalation;
    let updated = sqlx::query(
        "UPDATE escalations SET version = $2, state = $3, owner_key = $4, acknowledged_at = $5,
             resolved_at = $6, acknowledge_due = $7, acknowledge_risk_at = $8, resolve_due = $9,
             resolve_risk_at = $10, doc = $11, updated_at = $12
         WHERE id = $1 AND version = $2 - 1",
    )
    .bind(e.id)
    .bind(e.version)
    .bind(e.state.as_str())
    .bind(e.owner.as_ref().map(|o| o.as_str()))
    .bind(e.acknowledged.as_ref().map(|a| a.at))
    .bind(e.resolved.as_ref().map(|r| r.at))
    .bind(deadlines.acknowledge_due)
    .bind(deadlines.acknowledge_risk_at)
    .bind(deadlines.resolve_due)
    .bind(deadlines.resolve_risk_at)
    .bind(Json(e))
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

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

/// Lists unresolved escalations by scope and SLA standing at `now`, oldest first.
pub async fn list(
    executor: impl PgExecutor<'_>,
    scope: &Scope,
    status: StatusFilter,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Escalation>> {
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
    let rows: Vec<EscalationRow> = sqlx::query_as(
        "WITH candidates AS (
             SELECT id, version, doc, opened_at,
                    (acknowledged_at IS NULL AND acknowledge_due <= $4)
                        OR (resolve_due <= $4) AS breached,
                    (acknowledged_at IS NULL AND acknowledge_risk_at <= $4)
                        OR (resolve_risk_at <= $4) AS at_risk
             FROM escalations
             WHERE state <> 'resolved'
               AND ($1::text IS NULL OR owner_key = $1)
               AND ($2::text IS NULL OR team_key = $2))
         SELECT id, version, doc FROM candidates
         WHERE $3 = 'open'
            OR ($3 = 'breached' AND breached)
            OR ($3 = 'at-risk' AND at_risk AND NOT breached)
         ORDER BY opened_at, id
         LIMIT $5",
    )
    .bind(owner)
    .bind(team)
    .bind(status)
    .bind(now)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().map(Escalation::from).collect())
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
