//! Digest slots and the figures digests report. Every figure is an aggregate computed by
//! PostgreSQL over indexed columns (`percentile_cont`, `FILTER`, `date_trunc`); no query
//! loads items to count them in Rust. A `teams` filter of `[]` means every team.

use super::items::{ItemRow, decode};
use crate::domain::credit::Credit;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::domain::digest::report::{
    ApproverTotal, Backlog, CurrencyTotal, DayPoint, ItemKind, Percentiles, SlaItem, WindowFigures,
};

/// How a claimed slot went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotOutcome {
    Posted,
    Late,
    Skipped,
}

impl SlotOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SlotOutcome::Posted => "posted",
            SlotOutcome::Late => "late",
            SlotOutcome::Skipped => "skipped",
        }
    }
}

/// The newest slot recorded for a digest.
pub async fn last_slot(
    executor: impl PgExecutor<'_>,
    name: &str,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar("SELECT max(slot_at) FROM digest_slots WHERE name = $1")
        .bind(name)
        .fetch_one(executor)
        .await
}

/// Claims a slot; `false` if it was already claimed. A concurrent claim waits for the first
/// claimer's transaction and then finds the slot taken.
pub async fn claim_slot(
    conn: &mut PgConnection,
    name: &str,
    slot_at: DateTime<Utc>,
    outcome: SlotOutcome,
    now: DateTime<Utc>,
    by: &str,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO digest_slots (name, slot_at, outcome, claimed_at, claimed_by)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name, slot_at) DO NOTHING",
    )
    .bind(name)
    .bind(slot_at)
    .bind(outcome.as_str())
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Records slots as skipped (those already recorded keep their outcome).
pub async fn record_skipped(
    executor: impl PgExecutor<'_>,
    name: &str,
    slots: &[DateTime<Utc>],
    now: DateTime<Utc>,
    by: &str,
) -> sqlx::Result<u64> {
    sqlx::query(
        "INSERT INTO digest_slots (name, slot_at, outcome, claimed_at, claimed_by)
         SELECT $1, s, 'skipped', $3, $4 FROM UNNEST($2::timestamptz[]) AS s
         ON CONFLICT (name, slot_at) DO NOTHING",
    )
    .bind(name)
    .bind(slots)
    .bind(now)
    .bind(by)
    .execute(executor)
    .await
    .map(|r| r.rows_affected())
}

/// A recorded slot, for tests and `steward digest` output.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SlotRow {
    pub slot_at: DateTime<Utc>,
    pub outcome: String,
}

pub async fn slots(executor: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Vec<SlotRow>> {
    sqlx::query_as("SELECT slot_at, outcome FROM digest_slots WHERE name = $1 ORDER BY slot_at")
        .bind(name)
        .fetch_all(executor)
        .await
}

#[derive(FromRow)]
struct SlaRow {
    kind: String,
    id: i64,
    team_key: String,
    label: String,
    account_key: String,
    owner: Option<String>,
    due: Option<DateTime<Utc>>,
}

/// Open escalations and requests whose acknowledge/first-response or resolve clock is at
/// risk or breached at `now`, and pending approvals waiting longer than `approval_risk`
/// (their deadline is their expiry); nearest deadline first, at most `limit`.
pub async fn sla_items(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    now: DateTime<Utc>,
    approval_risk_since: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<SlaItem>> {
    let rows: Vec<SlaRow> = sqlx::query_as(
        "(SELECT 'escalation' AS kind, id, team_key, severity AS label, account_key,
                 owner_key AS owner, due_at AS due
          FROM escalations
          WHERE state <> 'resolved' AND at_risk_at <= $2
            AND (cardinality($1::text[]) = 0 OR team_key = ANY($1)))
         UNION ALL
         (SELECT 'request', id, team_key, priority, account_key, assignee_key,
                 due_at
          FROM requests
          WHERE state <> 'resolved' AND at_risk_at <= $2
            AND (cardinality($1::text[]) = 0 OR team_key = ANY($1)))
         UNION ALL
         (SELECT 'approval', id, team_key, amount::text || ' ' || currency, account_key,
                 requested_by, expires_at
          FROM credits
          WHERE state = 'pending' AND requested_at <= $3
            AND (cardinality($1::text[]) = 0 OR team_key = ANY($1)))
         ORDER BY due NULLS LAST, kind, id
         LIMIT $4",
    )
    .bind(teams)
    .bind(now)
    .bind(approval_risk_since)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| SlaItem {
            kind: item_kind(&row.kind),
            id: row.id,
            team: row.team_key,
            label: row.label,
            account: row.account_key,
            owner: row.owner,
            breached: row.due.is_some_and(|due| due <= now),
            due: row.due,
        })
        .collect())
}

fn item_kind(raw: &str) -> ItemKind {
    match raw {
        "escalation" => ItemKind::Escalation,
        "request" => ItemKind::Request,
        "onboarding" => ItemKind::Onboarding,
        _ => ItemKind::Credit,
    }
}

#[derive(FromRow)]
struct FiguresRow {
    opened: i64,
    resolved: i64,
    ack_p50: Option<f64>,
    ack_p90: Option<f64>,
    resolve_p50: Option<f64>,
    resolve_p90: Option<f64>,
    attainment: Option<f64>,
    fcr: Option<f64>,
    reopen: Option<f64>,
}

/// The figures of the window `[start, end)` (credits included).
pub async fn window_figures(
    executor: impl PgExecutor<'_> + Copy,
    teams: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> sqlx::Result<WindowFigures> {
    let row: FiguresRow = sqlx::query_as(
        // Items opened in the window, plus items resolved in it that were opened before: two
        // disjoint range scans per table (an OR of both ranges defeats the indexes).
        "WITH items AS (
             SELECT opened_at, acknowledged_at AS ack_at, resolved_at, resolved_within_sla,
                    NULL::boolean AS fcr, NULL::boolean AS reopened
             FROM escalations
             WHERE opened_at >= $2 AND opened_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT opened_at, acknowledged_at, resolved_at, resolved_within_sla, NULL, NULL
             FROM escalations
             WHERE resolved_at >= $2 AND resolved_at < $3 AND opened_at < $2
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT opened_at, accepted_at, resolved_at, resolved_within_sla,
                    first_contact_resolution, reopened
             FROM requests
             WHERE opened_at >= $2 AND opened_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT opened_at, accepted_at, resolved_at, resolved_within_sla,
                    first_contact_resolution, reopened
             FROM requests
             WHERE resolved_at >= $2 AND resolved_at < $3 AND opened_at < $2
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))),
         marked AS (
             SELECT *, (opened_at >= $2 AND opened_at < $3) AS opened_in,
                    (resolved_at >= $2 AND resolved_at < $3) AS resolved_in
             FROM items)
         SELECT
             count(*) FILTER (WHERE opened_in) AS opened,
             count(*) FILTER (WHERE resolved_in) AS resolved,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ack_at - opened_at))
                 FILTER (WHERE opened_in AND ack_at IS NOT NULL) AS ack_p50,
             percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM ack_at - opened_at))
                 FILTER (WHERE opened_in AND ack_at IS NOT NULL) AS ack_p90,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - opened_at))
                 FILTER (WHERE resolved_in) AS resolve_p50,
             percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - opened_at))
                 FILTER (WHERE resolved_in) AS resolve_p90,
             (avg(resolved_within_sla::int)
                 FILTER (WHERE resolved_in AND resolved_within_sla IS NOT NULL))::float8 AS attainment,
             (avg(fcr::int) FILTER (WHERE resolved_in AND fcr IS NOT NULL))::float8 AS fcr,
             (avg(reopened::int) FILTER (WHERE resolved_in AND reopened IS NOT NULL))::float8 AS reopen
         FROM marked",
    )
    .bind(teams)
    .bind(start)
    .bind(end)
    .fetch_one(executor)
    .await?;
    let credits = credits_granted(executor, teams, start, end).await?;
    Ok(WindowFigures {
        opened: row.opened,
        resolved: row.resolved,
        acknowledge: Percentiles { p50: row.ack_p50, p90: row.ack_p90 },
        resolve: Percentiles { p50: row.resolve_p50, p90: row.resolve_p90 },
        sla_attainment: row.attainment,
        first_contact_resolution: row.fcr,
        reopen_rate: row.reopen,
        credits,
    })
}

/// Credits approved in `[start, end)` per currency (an approved credit is final, so its last
/// write is its approval).
pub async fn credits_granted(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> sqlx::Result<Vec<CurrencyTotal>> {
    let rows: Vec<(String, i64, Decimal)> = sqlx::query_as(
        "SELECT currency, count(*), sum(amount) FROM credits
         WHERE state = 'approved' AND closed_at >= $2 AND closed_at < $3
           AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
         GROUP BY currency ORDER BY currency",
    )
    .bind(teams)
    .bind(start)
    .bind(end)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(currency, count, sum)| CurrencyTotal { currency, count, sum })
        .collect())
}

/// Open items as of `at`, by age.
pub async fn backlog(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    at: DateTime<Utc>,
) -> sqlx::Result<Backlog> {
    let (under_1d, from_1d_to_3d, from_3d_to_7d, over_7d): (i64, i64, i64, i64) = sqlx::query_as(
        "WITH open_items AS (
             SELECT opened_at FROM escalations
             WHERE state <> 'resolved' AND opened_at < $2
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT opened_at FROM escalations
             WHERE state = 'resolved' AND resolved_at >= $2 AND opened_at < $2
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT opened_at FROM requests
             WHERE state <> 'resolved' AND opened_at < $2
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT opened_at FROM requests
             WHERE state = 'resolved' AND resolved_at >= $2 AND opened_at < $2
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1)))
         SELECT count(*) FILTER (WHERE opened_at > $2 - interval '1 day'),
                count(*) FILTER (WHERE opened_at <= $2 - interval '1 day'
                                   AND opened_at > $2 - interval '3 days'),
                count(*) FILTER (WHERE opened_at <= $2 - interval '3 days'
                                   AND opened_at > $2 - interval '7 days'),
                count(*) FILTER (WHERE opened_at <= $2 - interval '7 days')
         FROM open_items",
    )
    .bind(teams)
    .bind(at)
    .fetch_one(executor)
    .await?;
    Ok(Backlog { under_1d, from_1d_to_3d, from_3d_to_7d, over_7d })
}

/// Items resolved in `[start, end)` per owner (escalations) or assignee (requests).
pub async fn resolved_per_person(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT person, count(*) FROM (
             SELECT owner_key AS person FROM escalations
             WHERE resolved_at >= $2 AND resolved_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT assignee_key FROM requests
             WHERE resolved_at >= $2 AND resolved_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))) AS r
         WHERE person IS NOT NULL
         GROUP BY person ORDER BY count(*) DESC, person LIMIT $4",
    )
    .bind(teams)
    .bind(start)
    .bind(end)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Pending approvals requested before `at`: how many, and since when the oldest waits.
pub async fn approvals_pending(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    at: DateTime<Utc>,
) -> sqlx::Result<(i64, Option<DateTime<Utc>>)> {
    sqlx::query_as(
        "SELECT count(*), min(requested_at) FROM credits
         WHERE state = 'pending' AND requested_at < $2
           AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))",
    )
    .bind(teams)
    .bind(at)
    .fetch_one(executor)
    .await
}

/// Approvals decided in `[start, end)` per approver and currency (authority is added by the
/// caller from the authority matrix).
pub async fn approvals_by_approver(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> sqlx::Result<Vec<ApproverTotal>> {
    let rows: Vec<(String, String, i64, Decimal)> = sqlx::query_as(
        "SELECT a.approver, a.currency, count(*), sum(a.amount)
         FROM credit_approvals a JOIN credits c ON c.id = a.credit_id
         WHERE a.decided_at >= $2 AND a.decided_at < $3
           AND (cardinality($1::text[]) = 0 OR c.team_key = ANY($1))
         GROUP BY a.approver, a.currency ORDER BY a.approver, a.currency",
    )
    .bind(teams)
    .bind(start)
    .bind(end)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(approver, currency, count, sum)| ApproverTotal {
            approver,
            currency,
            count,
            sum,
            monthly_limit: None,
        })
        .collect())
}

/// Escalations opened in `[start, end)` per severity.
pub async fn escalations_by_severity(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT severity, count(*) FROM escalations
         WHERE opened_at >= $2 AND opened_at < $3
           AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
         GROUP BY severity ORDER BY severity",
    )
    .bind(teams)
    .bind(start)
    .bind(end)
    .fetch_all(executor)
    .await
}

/// Items opened and resolved per local day (in `zone`) of `[start, end)`; days without
/// either are absent.
pub async fn daily_trend(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    zone: &str,
) -> sqlx::Result<Vec<DayPoint>> {
    let rows: Vec<(NaiveDate, i64, i64)> = sqlx::query_as(
        "WITH events AS (
             SELECT opened_at AS at, 1 AS opened, 0 AS resolved FROM escalations
             WHERE opened_at >= $2 AND opened_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT resolved_at, 0, 1 FROM escalations
             WHERE resolved_at >= $2 AND resolved_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT opened_at, 1, 0 FROM requests
             WHERE opened_at >= $2 AND opened_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT resolved_at, 0, 1 FROM requests
             WHERE resolved_at >= $2 AND resolved_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1)))
         SELECT date_trunc('day', at AT TIME ZONE $4)::date AS day,
                sum(opened)::int8, sum(resolved)::int8
         FROM events GROUP BY 1 ORDER BY 1",
    )
    .bind(teams)
    .bind(start)
    .bind(end)
    .bind(zone)
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().map(|(day, opened, resolved)| DayPoint { day, opened, resolved }).collect())
}

/// One person's opened/resolved count on a day, with their team.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PersonDayRow {
    pub team_key: String,
    pub person: String,
    pub opened: i64,
    pub resolved: i64,
}

/// Items opened (and owned by) or resolved by each person in `[start, end)`.
pub async fn day_per_person(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> sqlx::Result<Vec<PersonDayRow>> {
    sqlx::query_as(
        "SELECT team_key, person,
                count(*) FILTER (WHERE opened_at >= $2 AND opened_at < $3) AS opened,
                count(*) FILTER (WHERE resolved_at >= $2 AND resolved_at < $3) AS resolved
         FROM (
             SELECT team_key, owner_key AS person, opened_at, resolved_at FROM escalations
             WHERE ((opened_at >= $2 AND opened_at < $3) OR (resolved_at >= $2 AND resolved_at < $3))
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT team_key, assignee_key, opened_at, resolved_at FROM requests
             WHERE ((opened_at >= $2 AND opened_at < $3) OR (resolved_at >= $2 AND resolved_at < $3))
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))) AS d
         WHERE person IS NOT NULL
         GROUP BY team_key, person ORDER BY team_key, person",
    )
    .bind(teams)
    .bind(start)
    .bind(end)
    .fetch_all(executor)
    .await
}

/// An open item that needs its owner today.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AttentionRow {
    pub kind: String,
    pub id: i64,
    pub team_key: String,
    /// The owner or assignee; `None` for an unowned item at risk.
    pub person: Option<String>,
    pub label: String,
    /// `at_risk`, `breached` or `waiting`.
    pub reason: String,
    pub due: Option<DateTime<Utc>>,
}

/// Open items someone should act on: at risk or breached at `now` (owned or not), or waiting
/// for their owner to acknowledge (escalations `open`) or accept (requests `assigned`).
pub async fn attention(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<AttentionRow>> {
    sqlx::query_as(
        "SELECT * FROM (
             SELECT 'escalation' AS kind, id, team_key, owner_key AS person,
                    severity || ' ' || account_key AS label,
                    CASE WHEN due_at <= $2 THEN 'breached'
                         WHEN at_risk_at <= $2 THEN 'at_risk'
                         ELSE 'waiting' END AS reason,
                    due_at AS due
             FROM escalations
             WHERE state <> 'resolved'
               AND (at_risk_at <= $2 OR (state = 'open' AND owner_key IS NOT NULL))
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT 'request', id, team_key, assignee_key, priority || ' ' || account_key,
                    CASE WHEN due_at <= $2 THEN 'breached'
                         WHEN at_risk_at <= $2 THEN 'at_risk'
                         ELSE 'waiting' END,
                    due_at
             FROM requests
             WHERE state <> 'resolved'
               AND (at_risk_at <= $2 OR (state = 'assigned' AND assignee_key IS NOT NULL))
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             -- Onboarding steps due within the day (or past due): the team's to work.
             SELECT 'onboarding', id, team_key, NULL, account_key || ' ' || coalesce(current_step, ''),
                    CASE WHEN due_at <= $2 THEN 'breached' ELSE 'at_risk' END,
                    due_at
             FROM onboardings
             WHERE state = 'onboarding' AND due_at < $2 + interval '1 day'
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))) AS a
         ORDER BY due NULLS LAST, kind, id LIMIT $3",
    )
    .bind(teams)
    .bind(now)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Pending approvals, oldest first, at most `limit`: the whole items, so that whom each waits
/// on is decided by the domain's rule (`services::credits::approvers`), not re-derived here.
pub async fn pending_approvals(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    limit: i64,
) -> sqlx::Result<Vec<Credit>> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT id, version, doc FROM credits
         WHERE state = 'pending' AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
         ORDER BY requested_at, id LIMIT $2",
    )
    .bind(teams)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(decode).collect()
}
