//! Digest slots and the figures digests report. Every figure is an aggregate computed by
//! PostgreSQL over indexed columns (`percentile_cont`, `FILTER`, `date_trunc`); no query
//! loads items to count them in Rust. A `teams` filter of `[]` means every team.

use super::items::{ItemRow, decode};
use crate::domain::credit::Credit;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::domain::digest::as_of::{ItemAt, OnboardingAt, UndoneResolution};

use crate::domain::digest::report::{
    ApproverTotal, Attainment, Backlog, CurrencyTotal, DayPoint, ItemKind, Percentiles, SlaItem,
    WindowFigures,
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

/// The items of `kind` changed after `at`, each with the `before` snapshot of its first
/// audit record after `at`: how it stood at `at` (`domain::digest::as_of`). A range scan
/// of the BRIN index on `audit_log (at)`, so a live slot (nothing after it) reads only
/// the newest page range.
pub async fn changed_after(
    executor: impl PgExecutor<'_>,
    kind: crate::domain::item::ItemKind,
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<(i64, serde_json::Value)>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (subject) split_part(subject, ':', 2)::int8, before
         FROM audit_log
         WHERE at > $2 AND subject LIKE $1 || ':%' AND split_part(subject, ':', 2) ~ '^[0-9]+$'
         ORDER BY subject, at, seq",
    )
    .bind(kind.noun())
    .bind(at)
    .fetch_all(executor)
    .await
}

/// The items of `kind` reopened after `at`, each with the `before` snapshot of its first
/// audit record after `at` (how it stood at `at`) and whether it had been reopened by `at`
/// already. Only a reopen undoes a resolution, and reopens are few: a range scan of
/// `audit_log (at)`, then each item's own records.
pub async fn reopened_after(
    executor: impl PgExecutor<'_>,
    kind: crate::domain::item::ItemKind,
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<(i64, serde_json::Value, bool)>> {
    sqlx::query_as(
        "WITH reopened AS (
             SELECT DISTINCT subject FROM audit_log
             WHERE at > $2 AND action = 'reopen' AND subject LIKE $1 || ':%'
               AND split_part(subject, ':', 2) ~ '^[0-9]+$')
         SELECT DISTINCT ON (a.subject) split_part(a.subject, ':', 2)::int8, a.before,
                EXISTS (SELECT 1 FROM audit_log p
                        WHERE p.subject = a.subject AND p.action = 'reopen' AND p.at <= $2)
         FROM audit_log a JOIN reopened r ON r.subject = a.subject
         WHERE a.at > $2
         ORDER BY a.subject, a.at, a.seq",
    )
    .bind(kind.noun())
    .bind(at)
    .fetch_all(executor)
    .await
}

/// Escalations and requests open at `$2` (opened by then, not resolved by then: the ones
/// resolved since included) whose running clocks were at risk or breached at `$2`, with
/// the deadline of the clocks that were *running* then: the first clock (acknowledge /
/// first response) until it stopped, the resolve clock until resolution. Each clock's
/// deadline is the domain's (`Projection::clock_deadlines`); this only picks, like
/// `domain::item::running_deadline` does for "now", which clocks ran then:
/// - the items changed after `$2` (`$3`, `changed`: every item with an audit record after
///   it) as the domain rebuilt them as of `$2` (`domain::digest::as_of`: owner, pauses and
///   state then), in place of their projection — for a live slot there are none;
/// - open now and acknowledged by `$2` or not at all: the clocks running now ran then, so
///   the projected running deadline (`due_at` / `at_risk_at`) is the one at `$2` — read
///   from the covering index of the open items by (team, deadline), which is what keeps
///   the digests fast at a million rows;
/// - open now but acknowledged after `$2`: the first clock still ran then;
/// - resolved after `$2`: the clocks that had not stopped by `$2`.
///
/// The last two matter for items changed without an audit record (seeded history); the
/// others are in `changed`. Parameters: `$1` teams (`[]`: all), `$2` the instant, `$3` the
/// changed items (`ItemAt` rows as a JSON array).
///
/// Each of those is its own CTE (`OPEN_NOW_PARTS`, `OPEN_SINCE_PARTS`), and `open_at` their
/// union: a query can then also read each part on its own, with its own `ORDER BY … LIMIT`
/// that PostgreSQL answers from the part's index (the standup's first items per team).
///
/// `as_of` is inlined, not materialized: each query then reads only the columns it uses
/// straight from the covering indexes, and the tens of thousands of old breaches a large
/// history holds are never copied into a work table (which spilled to disk).
const OPEN_AT: &str = "
    changed AS MATERIALIZED (
        SELECT * FROM jsonb_to_recordset($3::jsonb) AS c(kind text, id int8, team_key text,
            label text, account_key text, person text, open boolean, first_at timestamptz,
            due timestamptz, risk timestamptz)),
    escalations_now AS NOT MATERIALIZED (
        SELECT 'escalation' AS kind, id, team_key, severity AS label, account_key,
               owner_key AS person, acknowledged_at AS first_at, due_at AS due,
               at_risk_at AS risk
        FROM escalations
        WHERE state <> 'resolved' AND at_risk_at <= $2 AND opened_at <= $2
          AND (acknowledged_at IS NULL OR acknowledged_at <= $2)
          AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
          AND id NOT IN (SELECT id FROM changed WHERE kind = 'escalation')),
    escalations_acknowledged_since AS NOT MATERIALIZED (
        SELECT 'escalation' AS kind, id, team_key, severity AS label, account_key,
               owner_key AS person, acknowledged_at AS first_at,
               LEAST(first_due_at, resolve_due_at) AS due,
               LEAST(first_at_risk_at, resolve_at_risk_at) AS risk
        FROM escalations
        WHERE acknowledged_at > $2 AND state <> 'resolved' AND opened_at <= $2
          AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
          AND id NOT IN (SELECT id FROM changed WHERE kind = 'escalation')),
    escalations_resolved_since AS NOT MATERIALIZED (
        SELECT 'escalation' AS kind, id, team_key, severity AS label, account_key,
               owner_key AS person, acknowledged_at AS first_at,
               LEAST(CASE WHEN acknowledged_at IS NULL OR acknowledged_at > $2
                          THEN first_due_at END, resolve_due_at) AS due,
               LEAST(CASE WHEN acknowledged_at IS NULL OR acknowledged_at > $2
                          THEN first_at_risk_at END, resolve_at_risk_at) AS risk
        FROM escalations
        WHERE resolved_at > $2 AND opened_at <= $2
          AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
          AND id NOT IN (SELECT id FROM changed WHERE kind = 'escalation')),
    requests_now AS NOT MATERIALIZED (
        SELECT 'request' AS kind, id, team_key, priority AS label, account_key,
               assignee_key AS person, accepted_at AS first_at, due_at AS due,
               at_risk_at AS risk
        FROM requests
        WHERE state <> 'resolved' AND at_risk_at <= $2 AND opened_at <= $2
          AND (accepted_at IS NULL OR accepted_at <= $2)
          AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
          AND id NOT IN (SELECT id FROM changed WHERE kind = 'request')),
    requests_accepted_since AS NOT MATERIALIZED (
        SELECT 'request' AS kind, id, team_key, priority AS label, account_key,
               assignee_key AS person, accepted_at AS first_at,
               LEAST(first_due_at, resolve_due_at) AS due,
               LEAST(first_at_risk_at, resolve_at_risk_at) AS risk
        FROM requests
        WHERE accepted_at > $2 AND state <> 'resolved' AND opened_at <= $2
          AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
          AND id NOT IN (SELECT id FROM changed WHERE kind = 'request')),
    requests_resolved_since AS NOT MATERIALIZED (
        SELECT 'request' AS kind, id, team_key, priority AS label, account_key,
               assignee_key AS person, accepted_at AS first_at,
               LEAST(CASE WHEN accepted_at IS NULL OR accepted_at > $2
                          THEN first_due_at END, resolve_due_at) AS due,
               LEAST(CASE WHEN accepted_at IS NULL OR accepted_at > $2
                          THEN first_at_risk_at END, resolve_at_risk_at) AS risk
        FROM requests
        WHERE resolved_at > $2 AND opened_at <= $2
          AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
          AND id NOT IN (SELECT id FROM changed WHERE kind = 'request')),
    changed_open AS NOT MATERIALIZED (
        SELECT kind, id, team_key, label, account_key, person, first_at, due, risk
        FROM changed
        WHERE open AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))),
    open_at AS (
        SELECT * FROM escalations_now
        UNION ALL SELECT * FROM escalations_acknowledged_since
        UNION ALL SELECT * FROM escalations_resolved_since
        UNION ALL SELECT * FROM requests_now
        UNION ALL SELECT * FROM requests_accepted_since
        UNION ALL SELECT * FROM requests_resolved_since
        UNION ALL SELECT * FROM changed_open),
    as_of AS NOT MATERIALIZED (
        SELECT * FROM open_at WHERE risk <= $2 OR due <= $2)";

/// The parts of `OPEN_AT`'s `open_at`, each a CTE with its columns. The items open now,
/// as projected: each read by range from the open items' index by (team, deadline).
const OPEN_NOW_PARTS: [&str; 2] = ["escalations_now", "requests_now"];
/// The other parts: items that changed after `$2`, read by when they changed (none for a
/// live slot; for a replay, everything resolved or acknowledged since).
const OPEN_SINCE_PARTS: [&str; 5] = [
    "escalations_acknowledged_since",
    "escalations_resolved_since",
    "requests_accepted_since",
    "requests_resolved_since",
    "changed_open",
];

/// What `as_of` keeps of `open_at`: at risk or breached at `$2`.
const AS_OF: &str = "(risk <= $2 OR due <= $2)";

/// The SLA digest's counts per team at `at`: at risk (not breached), breached after
/// `new_since`, and older breaches by age (`age_bounds`: the instants one day, seven days
/// and four weeks before `at`, from `BreachAge`).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SlaCountRow {
    pub team_key: String,
    pub at_risk: i64,
    pub new_breaches: i64,
    pub under_1d: i64,
    pub from_1d_to_7d: i64,
    pub from_7d_to_28d: i64,
    pub over_28d: i64,
}

pub async fn sla_counts(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    at: DateTime<Utc>,
    changed: &[ItemAt],
    new_since: DateTime<Utc>,
    age_bounds: [DateTime<Utc>; 3],
) -> sqlx::Result<Vec<SlaCountRow>> {
    let sql = format!(
        "WITH {OPEN_AT}
         SELECT team_key,
                count(*) FILTER (WHERE due > $2) AS at_risk,
                count(*) FILTER (WHERE due <= $2 AND due > $4) AS new_breaches,
                count(*) FILTER (WHERE due <= $4 AND due > $5) AS under_1d,
                count(*) FILTER (WHERE due <= $4 AND due <= $5 AND due > $6) AS from_1d_to_7d,
                count(*) FILTER (WHERE due <= $4 AND due <= $6 AND due > $7) AS from_7d_to_28d,
                count(*) FILTER (WHERE due <= $4 AND due <= $7) AS over_28d
         FROM as_of GROUP BY team_key ORDER BY team_key"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(teams)
        .bind(at)
        .bind(Json(changed))
        .bind(new_since)
        .bind(age_bounds[0])
        .bind(age_bounds[1])
        .bind(age_bounds[2])
        .fetch_all(executor)
        .await
}

#[derive(FromRow)]
struct SlaRow {
    class: String,
    kind: String,
    id: i64,
    team_key: String,
    label: String,
    account_key: String,
    person: Option<String>,
    due: Option<DateTime<Utc>>,
}

/// The SLA digest's lists at `at`, at most `limit` each: at risk (nearest deadline first)
/// and breached after `new_since` (most recent first).
pub async fn sla_lists(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    at: DateTime<Utc>,
    changed: &[ItemAt],
    new_since: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<(Vec<SlaItem>, Vec<SlaItem>)> {
    let sql = format!(
        "WITH {OPEN_AT}
         (SELECT 'at_risk' AS class, kind, id, team_key, label, account_key, person, due
          FROM as_of WHERE risk <= $2 AND due > $2 ORDER BY due, kind, id LIMIT $5)
         UNION ALL
         (SELECT 'new', kind, id, team_key, label, account_key, person, due
          FROM as_of WHERE due <= $2 AND due > $4 ORDER BY due DESC, kind, id LIMIT $5)"
    );
    let rows: Vec<SlaRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(teams)
        .bind(at)
        .bind(Json(changed))
        .bind(new_since)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    let (at_risk, new): (Vec<SlaRow>, Vec<SlaRow>) =
        rows.into_iter().partition(|row| row.class == "at_risk");
    let item = |row: SlaRow| SlaItem {
        kind: item_kind(&row.kind),
        id: row.id,
        team: row.team_key,
        label: row.label,
        account: row.account_key,
        owner: row.person,
        breached: row.due.is_some_and(|due| due <= at),
        due: row.due,
    };
    Ok((at_risk.into_iter().map(item).collect(), new.into_iter().map(item).collect()))
}

/// Credits pending at `$2` (still pending, or decided after it) and requested at or before
/// `$3`. Parameters: `$1` teams.
const PENDING_AT: &str = "
    pending_at AS (
        SELECT id, team_key, amount, currency, account_key, requested_by, requested_at,
               expires_at
        FROM credits
        WHERE state = 'pending' AND requested_at <= $3
          AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
        UNION ALL
        SELECT id, team_key, amount, currency, account_key, requested_by, requested_at,
               expires_at
        FROM credits
        WHERE closed_at > $2 AND requested_at <= $3
          AND (cardinality($1::text[]) = 0 OR team_key = ANY($1)))";

#[derive(FromRow)]
struct PendingRow {
    id: i64,
    team_key: String,
    amount: Decimal,
    currency: String,
    account_key: String,
    requested_by: String,
    expires_at: DateTime<Utc>,
    total: i64,
}

/// Approvals pending at `at` that were requested at or before `requested_by`, oldest
/// first, at most `limit`, with how many there are.
pub async fn approvals_waiting(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    at: DateTime<Utc>,
    requested_by: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<(Vec<SlaItem>, i64)> {
    let sql = format!(
        "WITH {PENDING_AT}
         SELECT id, team_key, amount, currency, account_key, requested_by, expires_at,
                count(*) OVER () AS total
         FROM pending_at ORDER BY requested_at, id LIMIT $4"
    );
    let rows: Vec<PendingRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(teams)
        .bind(at)
        .bind(requested_by)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    let total = rows.first().map_or(0, |row| row.total);
    let items = rows
        .into_iter()
        .map(|row| SlaItem {
            kind: ItemKind::Credit,
            id: row.id,
            team: row.team_key,
            label: crate::domain::messages::digest::amount(row.amount, &row.currency),
            account: row.account_key,
            owner: Some(row.requested_by),
            due: Some(row.expires_at),
            breached: false,
        })
        .collect();
    Ok((items, total))
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
    unacknowledged: i64,
    unresolved: i64,
    resolved: i64,
    /// `[p50, p90]`, `None` with no rows.
    acknowledge: Option<Vec<f64>>,
    resolve: Option<Vec<f64>>,
    met: i64,
    measured: i64,
    open_past_due: i64,
    fcr: Option<f64>,
    reopen: Option<f64>,
}

/// The resolutions undone since (`$N`, `UndoneResolution` rows as a JSON array) within the
/// team filter (`$1`); `{param}` is replaced by the parameter's number.
const UNDONE: &str = "
    undone AS MATERIALIZED (
        SELECT * FROM jsonb_to_recordset({param}::jsonb) AS u(kind text, id int8,
            team_key text, person text, opened_at timestamptz, acknowledged_at timestamptz,
            resolved_at timestamptz, within_sla boolean, first_contact_resolution boolean,
            reopened boolean, resolve_due_now timestamptz)
        WHERE (cardinality($1::text[]) = 0 OR team_key = ANY($1)))";

fn undone_cte(param: &str) -> String {
    UNDONE.replace("{param}", param)
}

/// The onboardings changed since an instant as they stood at it (`OnboardingAt` rows as a
/// JSON array in parameter `param`).
pub(crate) fn onboardings_then(param: &str) -> String {
    format!(
        "onboardings_then AS MATERIALIZED (
            SELECT * FROM jsonb_to_recordset({param}::jsonb) AS o(id int8, team_key text,
                account_key text, state text, current_step text, current_owner text,
                opened_at timestamptz, activated_at timestamptz, steps_missed int4,
                due_at timestamptz))"
    )
}

/// The team filter of the window queries (`$1`).
const TEAMS: &str = "(cardinality($1::text[]) = 0 OR team_key = ANY($1))";

/// The figures of the window `[start, end)` as the database stood at `end` (credits
/// included). Four families of range scans, each over a covering index and aggregated on
/// its own: items opened in the window, acknowledged in it, resolved in it, and due in it
/// but still open at its end (an OR of ranges would defeat the indexes; one aggregate over
/// all of them would evaluate every filter on every row). Each percentile pair is one sort
/// over `date_part` seconds (float8, where `extract` would sort numerics).
///
/// `undone` (`$4`) are the resolutions at `end` that a reopen since undid
/// (`domain::digest::as_of`): they count among the resolved (with their first-contact
/// resolution then), and come off the opened-and-unresolved and open-past-due counts,
/// where their projection now puts them.
pub async fn window_figures(
    executor: impl PgExecutor<'_> + Copy,
    teams: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    undone: &[UndoneResolution],
) -> sqlx::Result<WindowFigures> {
    let window = |at: &str| format!("{at} >= $2 AND {at} < $3 AND {TEAMS}");
    let sql = format!(
        "WITH {undone}
         SELECT o.opened, o.unacknowledged - u.unacknowledged AS unacknowledged,
                o.unresolved - u.unresolved AS unresolved, a.acknowledge, r.resolved,
                r.resolve, r.met, r.measured, d.open_past_due - u.open_past_due AS open_past_due,
                r.fcr, r.reopen
         FROM
         (SELECT count(*) AS opened,
                 count(*) FILTER (WHERE (ack_at IS NULL OR ack_at >= $3)
                                    AND (resolved_at IS NULL OR resolved_at >= $3)) AS unacknowledged,
                 count(*) FILTER (WHERE resolved_at IS NULL OR resolved_at >= $3) AS unresolved
          FROM (SELECT acknowledged_at AS ack_at, resolved_at FROM escalations
                WHERE {opened_e}
                UNION ALL
                SELECT accepted_at, resolved_at FROM requests WHERE {opened_r}) AS x) AS o,
         (SELECT percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY seconds) AS acknowledge
          FROM (SELECT date_part('epoch', acknowledged_at - opened_at) AS seconds
                FROM escalations WHERE {acked_e}
                UNION ALL
                SELECT date_part('epoch', accepted_at - opened_at) FROM requests
                WHERE {acked_r}) AS x) AS a,
         (SELECT count(*) AS resolved,
                 percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY seconds) AS resolve,
                 count(*) FILTER (WHERE within) AS met,
                 count(within) AS measured,
                 (avg(fcr::int))::float8 AS fcr,
                 (avg(reopened::int))::float8 AS reopen
          FROM (SELECT date_part('epoch', resolved_at - opened_at) AS seconds,
                       resolved_within_sla AS within, NULL::boolean AS fcr,
                       NULL::boolean AS reopened
                FROM escalations WHERE {resolved_e}
                UNION ALL
                SELECT date_part('epoch', resolved_at - opened_at), resolved_within_sla,
                       first_contact_resolution, reopened
                FROM requests WHERE {resolved_r}
                UNION ALL
                SELECT date_part('epoch', resolved_at - opened_at), within_sla,
                       first_contact_resolution, reopened
                FROM undone WHERE resolved_at >= $2 AND resolved_at < $3) AS x) AS r,
         (SELECT count(*) FILTER (WHERE opened_at >= $2 AND opened_at < $3) AS unresolved,
                 count(*) FILTER (WHERE opened_at >= $2 AND opened_at < $3
                                    AND (acknowledged_at IS NULL OR acknowledged_at >= $3))
                     AS unacknowledged,
                 count(*) FILTER (WHERE resolve_due_now >= $2 AND resolve_due_now < $3)
                     AS open_past_due
          FROM undone) AS u,
         (SELECT count(*) AS open_past_due
          FROM (SELECT 1 FROM escalations
                WHERE {due_e} AND (resolved_at IS NULL OR resolved_at >= $3)
                UNION ALL
                SELECT 1 FROM requests
                WHERE {due_r} AND (resolved_at IS NULL OR resolved_at >= $3)) AS x) AS d",
        opened_e = window("opened_at"),
        opened_r = window("opened_at"),
        acked_e = window("acknowledged_at"),
        acked_r = window("accepted_at"),
        resolved_e = window("resolved_at"),
        resolved_r = window("resolved_at"),
        due_e = window("resolve_due_at"),
        due_r = window("resolve_due_at"),
        undone = undone_cte("$4"),
    );
    let row: FiguresRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(teams)
        .bind(start)
        .bind(end)
        .bind(Json(undone))
        .fetch_one(executor)
        .await?;
    let credits = credits_granted(executor, teams, start, end).await?;
    let pair = |values: Option<Vec<f64>>| match values.as_deref() {
        Some([p50, p90]) => Percentiles { p50: Some(*p50), p90: Some(*p90) },
        _ => Percentiles::default(),
    };
    Ok(WindowFigures {
        opened: row.opened,
        resolved: row.resolved,
        acknowledge: pair(row.acknowledge),
        unacknowledged: row.unacknowledged,
        resolve: pair(row.resolve),
        unresolved: row.unresolved,
        attainment: Attainment {
            met: row.met,
            resolved: row.measured,
            open_past_due: row.open_past_due,
        },
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

/// Open items as of `at`, by age; `undone` (resolutions at `at` a reopen since undid) were
/// not open then, though the projection now counts them.
pub async fn backlog(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    at: DateTime<Utc>,
    undone: &[UndoneResolution],
) -> sqlx::Result<Backlog> {
    let sql = format!(
        "WITH {undone}, open_items AS (
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
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))),
         -- Each open item counts once, each undone resolution takes its item off again.
         counted AS (
             SELECT opened_at, 1 AS n FROM open_items
             UNION ALL
             SELECT opened_at, -1 FROM undone WHERE opened_at < $2)
         SELECT coalesce(sum(n) FILTER (WHERE opened_at > $2 - interval '1 day'), 0)::int8,
                coalesce(sum(n) FILTER (WHERE opened_at <= $2 - interval '1 day'
                                          AND opened_at > $2 - interval '3 days'), 0)::int8,
                coalesce(sum(n) FILTER (WHERE opened_at <= $2 - interval '3 days'
                                          AND opened_at > $2 - interval '7 days'), 0)::int8,
                coalesce(sum(n) FILTER (WHERE opened_at <= $2 - interval '7 days'), 0)::int8
         FROM counted",
        undone = undone_cte("$3"),
    );
    let (under_1d, from_1d_to_3d, from_3d_to_7d, over_7d): (i64, i64, i64, i64) =
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(teams)
            .bind(at)
            .bind(Json(undone))
            .fetch_one(executor)
            .await?;
    Ok(Backlog { under_1d, from_1d_to_3d, from_3d_to_7d, over_7d })
}

/// Items resolved in `[start, end)` per owner (escalations) or assignee (requests), with
/// the resolutions at `end` a reopen since undid (`undone`, under their owner then).
pub async fn resolved_per_person(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    limit: i64,
    undone: &[UndoneResolution],
) -> sqlx::Result<Vec<(String, i64)>> {
    let sql = format!(
        "WITH {undone}
         SELECT person, count(*) FROM (
             SELECT owner_key AS person FROM escalations
             WHERE resolved_at >= $2 AND resolved_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT assignee_key FROM requests
             WHERE resolved_at >= $2 AND resolved_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT person FROM undone WHERE resolved_at >= $2 AND resolved_at < $3) AS r
         WHERE person IS NOT NULL
         GROUP BY person ORDER BY count(*) DESC, person LIMIT $4",
        undone = undone_cte("$5"),
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(teams)
        .bind(start)
        .bind(end)
        .bind(limit)
        .bind(Json(undone))
        .fetch_all(executor)
        .await
}

/// Approvals pending at `at`: how many, and since when the oldest waits.
pub async fn approvals_pending(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    at: DateTime<Utc>,
) -> sqlx::Result<(i64, Option<DateTime<Utc>>)> {
    let sql = format!("WITH {PENDING_AT} SELECT count(*), min(requested_at) FROM pending_at");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(teams).bind(at).bind(at).fetch_one(executor).await
}

/// Approvals decided in `[start, end)` per approver and currency — `start` is the month's
/// start, as authority is monthly (the limit is added by the caller from the matrix).
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

/// Items opened and resolved per local day: `days` are the days with the instant each
/// begins (`domain::digest::window::day_starts`), the last one running to `end`. Rows fall
/// into days by `width_bucket` over those instants, so no row's time is converted to a
/// zone here. The resolutions at `end` a reopen since undid (`undone`) count on their day.
pub async fn daily_trend(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    days: &[(NaiveDate, DateTime<Utc>)],
    end: DateTime<Utc>,
    undone: &[UndoneResolution],
) -> sqlx::Result<Vec<DayPoint>> {
    let Some(&(_, start)) = days.first() else { return Ok(Vec::new()) };
    let begins: Vec<DateTime<Utc>> = days.iter().map(|(_, begins)| *begins).collect();
    let sql = format!(
        "WITH {undone}, events AS (
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
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT resolved_at, 0, 1 FROM undone WHERE resolved_at >= $2 AND resolved_at < $3)
         SELECT width_bucket(at, $4::timestamptz[]) AS day,
                sum(opened)::int8, sum(resolved)::int8
         FROM events GROUP BY 1 ORDER BY 1",
        undone = undone_cte("$5"),
    );
    let rows: Vec<(i32, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(teams)
        .bind(start)
        .bind(end)
        .bind(&begins)
        .bind(Json(undone))
        .fetch_all(executor)
        .await?;
    // Bucket n (1-based) is the day that begins at the n-th instant.
    Ok(rows
        .into_iter()
        .filter_map(|(bucket, opened, resolved)| {
            let (day, _) = days.get(usize::try_from(bucket).ok()?.checked_sub(1)?)?;
            Some(DayPoint { day: *day, opened, resolved })
        })
        .collect())
}

/// One person's opened/resolved count on a day, with their team.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PersonDayRow {
    pub team_key: String,
    pub person: String,
    pub opened: i64,
    pub resolved: i64,
}

/// Items opened (and owned by) or resolved by each person in `[start, end)`: the items
/// opened in the range and those resolved in it that were opened before, two disjoint
/// range scans per table.
pub async fn day_per_person(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> sqlx::Result<Vec<PersonDayRow>> {
    sqlx::query_as(
        "SELECT team_key, person,
                count(*) FILTER (WHERE opened_at >= $2) AS opened,
                count(*) FILTER (WHERE resolved_at >= $2 AND resolved_at < $3) AS resolved
         FROM (
             SELECT team_key, owner_key AS person, opened_at, resolved_at FROM escalations
             WHERE opened_at >= $2 AND opened_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT team_key, owner_key, opened_at, resolved_at FROM escalations
             WHERE resolved_at >= $2 AND resolved_at < $3 AND opened_at < $2
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT team_key, assignee_key, opened_at, resolved_at FROM requests
             WHERE opened_at >= $2 AND opened_at < $3
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
             UNION ALL
             SELECT team_key, assignee_key, opened_at, resolved_at FROM requests
             WHERE resolved_at >= $2 AND resolved_at < $3 AND opened_at < $2
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
    /// How many items need attention in the team, of which at most `limit` are listed.
    pub team_total: i64,
}

/// Items open at `at` that someone should act on: at risk or breached then (owned or not),
/// or waiting for their owner to acknowledge / accept, and onboarding steps due before
/// `day_end` (the end of the digest's local day); for each of `teams`, at most `limit`,
/// nearest deadline first, each row with its team's total.
///
/// Per team, not grouped: each team's count reads its range of the (team, deadline)
/// indexes once, and its first `limit` items are the first entries of those ranges
/// (`OPEN_NOW_PARTS`, each limited on its own and merged), so the tens of thousands of old
/// breaches a large history holds are counted but never sorted or copied. What changed
/// since `at` (`OPEN_SINCE_PARTS`, `waiting`, the onboardings) is read once for all teams.
pub async fn attention(
    executor: impl PgExecutor<'_>,
    teams: &[String],
    (at, changed, onboardings): (DateTime<Utc>, &[ItemAt], &[OnboardingAt]),
    day_end: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<AttentionRow>> {
    let onboardings_then = onboardings_then("$6");
    // Each part open now, of the team `t`: counted, and its first `$4` by deadline.
    let counts = OPEN_NOW_PARTS.map(|part| {
        format!("(SELECT count(*) FROM {part} p WHERE p.team_key = t.team_key AND {AS_OF})")
    });
    let firsts = OPEN_NOW_PARTS.map(|part| {
        format!(
            "(SELECT kind, id, person, label, account_key, due, false AS waiting FROM {part} p
              WHERE p.team_key = t.team_key AND {AS_OF} ORDER BY due, kind, id LIMIT $4)"
        )
    });
    let since = OPEN_SINCE_PARTS.map(|part| format!("SELECT * FROM {part} WHERE {AS_OF}"));
    let (counts, firsts, since) =
        (counts.join("\n + "), firsts.join("\n UNION ALL "), since.join("\n UNION ALL "));
    let sql = format!(
        "WITH {OPEN_AT}, {onboardings_then},
         -- The parts of `as_of` that changed since `$2`, for all teams at once.
         since AS MATERIALIZED ({since}),
         -- Open and not acknowledged / accepted by their owner, not yet at risk (those are
         -- in `as_of`): what the state says now, for items unchanged since `$2`. A few per
         -- team, read once for all teams.
         waiting AS MATERIALIZED (
             SELECT 'escalation' AS kind, id, team_key, owner_key AS person,
                    severity AS label, account_key, due_at AS due
             FROM escalations
             WHERE state <> 'resolved' AND acknowledged_at IS NULL AND owner_key IS NOT NULL
               AND opened_at <= $2 AND (at_risk_at IS NULL OR at_risk_at > $2)
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
               AND id NOT IN (SELECT id FROM changed WHERE kind = 'escalation')
             UNION ALL
             SELECT 'request', id, team_key, assignee_key, priority, account_key, due_at
             FROM requests
             WHERE state <> 'resolved' AND accepted_at IS NULL AND assignee_key IS NOT NULL
               AND opened_at <= $2 AND (at_risk_at IS NULL OR at_risk_at > $2)
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
               AND id NOT IN (SELECT id FROM changed WHERE kind = 'request')
             UNION ALL
             -- The items changed since, as they stood at `$2`.
             SELECT kind, id, team_key, person, label, account_key, due
             FROM changed
             WHERE open AND first_at IS NULL AND person IS NOT NULL
               AND (risk IS NULL OR risk > $2)
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))),
         -- Onboarding steps due by the end of the local day (or past due), under the
         -- step's named owner (none: the team's): the onboardings unchanged since `$2`
         -- as projected, those changed since as they stood then (`$6`).
         onboarding_due AS MATERIALIZED (
             SELECT 'onboarding' AS kind, id, team_key, current_owner AS person,
                    coalesce(current_step, '') AS label, account_key, due_at AS due
             FROM onboardings
             WHERE state = 'onboarding' AND due_at < $5 AND opened_at <= $2
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1))
               AND id NOT IN (SELECT id FROM onboardings_then)
             UNION ALL
             SELECT 'onboarding', id, team_key, current_owner, coalesce(current_step, ''),
                    account_key, due_at
             FROM onboardings_then
             WHERE state = 'onboarding' AND due_at < $5
               AND (cardinality($1::text[]) = 0 OR team_key = ANY($1)))
         SELECT f.kind, f.id, t.team_key, f.person, f.label || ' ' || f.account_key AS label,
                CASE WHEN f.waiting THEN 'waiting'
                     WHEN f.due <= $2 THEN 'breached' ELSE 'at_risk' END AS reason,
                f.due, c.team_total
         FROM unnest($1::text[]) AS t(team_key)
         -- `OFFSET 0` keeps the counts a subquery run once per team, not once per row.
         CROSS JOIN LATERAL (
             SELECT {counts}
                  + (SELECT count(*) FROM since s WHERE s.team_key = t.team_key)
                  + (SELECT count(*) FROM waiting w WHERE w.team_key = t.team_key)
                  + (SELECT count(*) FROM onboarding_due o WHERE o.team_key = t.team_key)
                    AS team_total
             OFFSET 0) AS c
         CROSS JOIN LATERAL (
             SELECT * FROM (
                 {firsts}
                 UNION ALL
                 SELECT kind, id, person, label, account_key, due, false FROM since s
                 WHERE s.team_key = t.team_key
                 UNION ALL
                 SELECT kind, id, person, label, account_key, due, true FROM waiting w
                 WHERE w.team_key = t.team_key
                 UNION ALL
                 SELECT kind, id, person, label, account_key, due, false FROM onboarding_due o
                 WHERE o.team_key = t.team_key) AS u
             ORDER BY due NULLS LAST, kind, id LIMIT $4) AS f
         ORDER BY t.team_key, f.due NULLS LAST, f.kind, f.id"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(teams)
        .bind(at)
        .bind(Json(changed))
        .bind(limit)
        .bind(day_end)
        .bind(Json(onboardings))
        .fetch_all(executor)
        .await
}

/// Approvals pending at `at`, oldest first, at most `limit`: the whole items, so that whom
/// each waits on is decided by the domain's rule (`services::credits::approvers`), not
/// re-derived here; with the number pending per team.
pub async fn pending_approvals(
    executor: impl PgExecutor<'_> + Copy,
    teams: &[String],
    at: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<(Vec<Credit>, Vec<(String, i64)>)> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "(SELECT id, version, doc, requested_at FROM credits
          WHERE state = 'pending' AND requested_at <= $2
            AND (cardinality($1::text[]) = 0 OR team_key = ANY($1)))
         UNION ALL
         (SELECT id, version, doc, requested_at FROM credits
          WHERE closed_at > $2 AND requested_at <= $2
            AND (cardinality($1::text[]) = 0 OR team_key = ANY($1)))
         ORDER BY requested_at, id LIMIT $3",
    )
    .bind(teams)
    .bind(at)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    let sql =
        format!("WITH {PENDING_AT} SELECT team_key, count(*) FROM pending_at GROUP BY team_key");
    let counts = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(teams)
        .bind(at)
        .bind(at)
        .fetch_all(executor)
        .await?;
    Ok((rows.into_iter().map(decode).collect::<sqlx::Result<_>>()?, counts))
}
