//! Account-request rows, assignment inputs and the views over open requests.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::domain::request::{Request, RequestState};

/// Deadlines stored beside the aggregate, for queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deadlines {
    pub first_response_due: Option<DateTime<Utc>>,
    pub first_response_risk_at: Option<DateTime<Utc>>,
    pub resolve_due: Option<DateTime<Utc>>,
    pub resolve_risk_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct RequestRow {
    id: i64,
    version: i32,
    doc: Json<Request>,
}

impl From<RequestRow> for Request {
    fn from(row: RequestRow) -> Request {
        let mut request = row.doc.0;
        request.id = row.id;
        request.version = row.version;
        request
    }
}

/// Reserves the id of a new request.
pub async fn next_id(executor: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('requests', 'id'))")
        .fetch_one(executor)
        .await
}

/// The id of the request a sender already delivered under `(source, external_id)`.
pub async fn find_external(
    executor: impl PgExecutor<'_>,
    source: &str,
    external_id: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM requests WHERE source = $1 AND external_id = $2")
        .bind(source)
        .bind(external_id)
        .fetch_optional(executor)
        .await
}

/// Inserts a new request under the id from [`next_id`]. Returns `false` when a request with
/// the same `(source, external_id)` exists (a concurrent duplicate waits for the first to
/// commit, then gets `false`).
pub async fn insert(
    conn: &mut PgConnection,
    request: &Request,
    deadlines: &Deadlines,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let r = request;
    let inserted = sqlx::query(
        "INSERT INTO requests (id, version, team_key, account_key, request_type, priority, weight,
             state, assignee_key, source, external_id, opened_at, first_response_due,
             first_response_risk_at, resolve_due, resolve_risk_at, resolved_at,
             first_contact_resolution, doc, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20)
         ON CONFLICT (source, external_id) DO NOTHING",
    )
    .bind(r.id)
    .bind(r.version)
    .bind(r.team.as_str())
    .bind(r.account.as_str())
    .bind(&r.kind)
    .bind(r.priority.as_str())
    .bind(r.priority.weight())
    .bind(r.state.as_str())
    .bind(r.assignee.as_ref().map(|a| a.as_str()))
    .bind(&r.source)
    .bind(&r.external_id)
    .bind(r.opened_at)
    .bind(deadlines.first_response_due)
    .bind(deadlines.first_response_risk_at)
    .bind(deadlines.resolve_due)
    .bind(deadlines.resolve_risk_at)
    .bind(r.resolved.as_ref().map(|res| res.at))
    .bind(r.first_contact_resolution)
    .bind(Json(r))
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Loads a request and locks its row until the transaction ends.
pub async fn get_for_update(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Request>> {
    let row: Option<RequestRow> =
        sqlx::query_as("SELECT id, version, doc FROM requests WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(Request::from))
}

pub async fn get(executor: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Request>> {
    let row: Option<RequestRow> =
        sqlx::query_as("SELECT id, version, doc FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(executor)
            .await?;
    Ok(row.map(Request::from))
}

/// Writes `request` as version `request.version` if the stored version is the one before it
/// (compare-and-set). Returns `false` if someone else wrote first.
pub async fn update(
    conn: &mut PgConnection,
    request: &Request,
    deadlines: &Deadlines,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let r = request;
    let updated = sqlx::query(
        "UPDATE requests SET version = $2, priority = $3, weight = $4, state = $5,
             assignee_key = $6, first_response_due = $7, first_response_risk_at = $8,
             resolve_due = $9, resolve_risk_at = $10, resolved_at = $11,
             first_contact_resolution = $12, doc = $13, updated_at = $14
         WHERE id = $1 AND version = $2 - 1",
    )
    .bind(r.id)
    .bind(r.version)
    .bind(r.priority.as_str())
    .bind(r.priority.weight())
    .bind(r.state.as_str())
    .bind(r.assignee.as_ref().map(|a| a.as_str()))
    .bind(deadlines.first_response_due)
    .bind(deadlines.first_response_risk_at)
    .bind(deadlines.resolve_due)
    .bind(deadlines.resolve_risk_at)
    .bind(r.resolved.as_ref().map(|res| res.at))
    .bind(r.first_contact_resolution)
    .bind(Json(r))
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// What an assignment decision reads, in one statement: the team's rotation point (the
/// assignee of its most recently opened open request that has one) and the open count and
/// summed priority weight of each of `people` who has any.
///
/// Deriving the rotation point from the requests themselves means no cursor row to write:
/// a team-wide row would either serialise every intake of the team (locked to commit) or
/// cost a transaction of its own per decision.
pub async fn assignment_inputs(
    executor: impl PgExecutor<'_>,
    team: &str,
    people: &[&str],
) -> sqlx::Result<(Option<String>, Vec<(String, i64, i64)>)> {
    let (cursor, keys, counts, weights): (Option<String>, Vec<String>, Vec<i64>, Vec<i64>) =
        sqlx::query_as(
            "SELECT (SELECT assignee_key FROM requests
                     WHERE team_key = $1 AND state <> 'resolved' AND assignee_key IS NOT NULL
                     ORDER BY opened_at DESC, id DESC LIMIT 1),
                    coalesce(array_agg(l.assignee_key), '{}'),
                    coalesce(array_agg(l.open), '{}'),
                    coalesce(array_agg(l.weight), '{}')
             FROM (SELECT assignee_key, count(*) AS open, sum(weight)::bigint AS weight
                   FROM requests
                   WHERE state <> 'resolved' AND assignee_key = ANY($2)
                   GROUP BY assignee_key) l",
        )
        .bind(team)
        .bind(people)
        .fetch_one(executor)
        .await?;
    let loads = keys
        .into_iter()
        .zip(counts)
        .zip(weights)
        .map(|((key, open), weight)| (key, open, weight))
        .collect();
    Ok((cursor, loads))
}

/// A person's open requests, locked, oldest first (for a hand-off).
pub async fn open_assigned_to_for_update(
    conn: &mut PgConnection,
    person: &str,
) -> sqlx::Result<Vec<Request>> {
    let rows: Vec<RequestRow> = sqlx::query_as(
        "SELECT id, version, doc FROM requests
         WHERE assignee_key = $1 AND state <> 'resolved'
         ORDER BY opened_at, id FOR UPDATE",
    )
    .bind(person)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Request::from).collect())
}

/// One assignee's row of the workload view.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct WorkloadRow {
    pub assignee: Option<String>,
    pub open: i64,
    pub oldest: Option<DateTime<Utc>>,
    pub at_risk: i64,
}

/// Open requests of a team per assignee (`None`: the team queue) at `now`.
pub async fn workload(
    executor: impl PgExecutor<'_>,
    team: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<WorkloadRow>> {
    sqlx::query_as(
        "SELECT assignee_key AS assignee, count(*) AS open, min(opened_at) AS oldest,
                count(*) FILTER (WHERE first_response_risk_at <= $2
                                    OR resolve_risk_at <= $2) AS at_risk
         FROM requests
         WHERE team_key = $1 AND state <> 'resolved'
         GROUP BY assignee_key
         ORDER BY assignee_key NULLS LAST",
    )
    .bind(team)
    .bind(now)
    .fetch_all(executor)
    .await
}

/// Open requests of a team per priority in age buckets: < 1 day, 1–3, 3–7, > 7 days.
pub async fn backlog(
    executor: impl PgExecutor<'_>,
    team: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(String, i64, i64, i64, i64)>> {
    sqlx::query_as(
        "SELECT priority,
                count(*) FILTER (WHERE opened_at > $2 - interval '1 day'),
                count(*) FILTER (WHERE opened_at <= $2 - interval '1 day'
                                   AND opened_at > $2 - interval '3 days'),
                count(*) FILTER (WHERE opened_at <= $2 - interval '3 days'
                                   AND opened_at > $2 - interval '7 days'),
                count(*) FILTER (WHERE opened_at <= $2 - interval '7 days')
         FROM requests
         WHERE team_key = $1 AND state <> 'resolved'
         GROUP BY priority ORDER BY priority",
    )
    .bind(team)
    .bind(now)
    .fetch_all(executor)
    .await
}

/// Counts requests (tests, benchmarks).
pub async fn count(executor: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM requests").fetch_one(executor).await
}

pub async fn count_in_state(
    executor: impl PgExecutor<'_>,
    state: RequestState,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM requests WHERE state = $1")
        .bind(state.as_str())
        .fetch_one(executor)
        .await
}

/// Seeds `count` open requests spread over `people` (benchmarks only): the rows carry a
/// minimal document, enough for loads and views.
pub async fn seed_open(
    executor: impl PgExecutor<'_>,
    team: &str,
    people: &[String],
    doc: &serde_json::Value,
    count: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO requests (version, team_key, account_key, request_type, priority, weight,
             state, assignee_key, source, external_id, opened_at, doc, updated_at)
         SELECT 1, $1, 'SEED-1', 'billing', 'p' || (1 + n % 4), (ARRAY[8, 4, 2, 1])[1 + n % 4],
                'assigned', ($2::text[])[1 + n % cardinality($2::text[])], 'seed',
                'seed-' || n, $5 - (n % 240) * interval '1 hour', $3, $5
         FROM generate_series(1, $4) AS n",
    )
    .bind(team)
    .bind(people)
    .bind(Json(doc))
    .bind(count)
    .bind(now)
    .execute(executor)
    .await
    .map(|_| ())
}
