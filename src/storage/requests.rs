//! Account requests: intake deduplication, assignment inputs and the views over open
//! requests. Rows are read and written by the kernel's `storage::items`.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgExecutor};

use super::items::{ItemRow, PagedRow, decode, decode_page};
use crate::domain::page::{Listing, Page};
use crate::domain::request::{Request, RequestState};

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

/// Whose open requests a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queue {
    AssignedTo(String),
    /// Nobody's yet: the team's queue.
    Unassigned {
        team: String,
    },
}

/// One page of open requests, most urgent (earliest running due time) first.
pub async fn list_open(
    executor: impl PgExecutor<'_>,
    queue: &Queue,
    page: Page,
) -> sqlx::Result<Listing<Request>> {
    let (assignee, team) = match queue {
        Queue::AssignedTo(who) => (Some(who.as_str()), None),
        Queue::Unassigned { team } => (None, Some(team.as_str())),
    };
    let rows: Vec<PagedRow> = sqlx::query_as(
        "SELECT id, version, doc, count(*) OVER () AS total FROM requests
         WHERE state <> 'resolved'
           AND ($1::text IS NULL OR assignee_key = $1)
           AND ($2::text IS NULL OR (team_key = $2 AND assignee_key IS NULL))
         ORDER BY due_at NULLS LAST, opened_at, id
         OFFSET $3 LIMIT $4",
    )
    .bind(assignee)
    .bind(team)
    .bind(page.offset())
    .bind(page.limit())
    .fetch_all(executor)
    .await?;
    decode_page(rows, page)
}

/// A person's open requests, locked, oldest first (for a hand-off).
pub async fn open_assigned_to_for_update(
    conn: &mut PgConnection,
    person: &str,
) -> sqlx::Result<Vec<Request>> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT id, version, doc FROM requests
         WHERE assignee_key = $1 AND state <> 'resolved'
         ORDER BY opened_at, id FOR UPDATE",
    )
    .bind(person)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(decode).collect()
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
                count(*) FILTER (WHERE at_risk_at <= $2) AS at_risk
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
