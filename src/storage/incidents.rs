//! Incident queries beyond the kernel's row: the room look-up, the timeline rows, lists and
//! the card's facts about affected accounts.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};

use super::items::{ItemRow, decode};
use crate::domain::incident::Incident;
use crate::domain::incident::timeline::{Happening, TimelineEntry};

/// A timeline row to write.
#[derive(Debug, Clone)]
pub struct NewTimelineEntry {
    pub at: DateTime<Utc>,
    pub author_key: Option<String>,
    pub author_name: String,
    pub happening: Happening,
    /// Set for messages captured from the room: their identity (see `timeline::source_key`).
    pub source_key: Option<String>,
}

/// The incident whose room is `room_key` (`<platform>:<channel>`), if any.
pub async fn id_by_room(
    executor: impl PgExecutor<'_>,
    room_key: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM incidents WHERE room_channel = $1")
        .bind(room_key)
        .fetch_optional(executor)
        .await
}

/// Appends timeline entries; a captured message already on the timeline is skipped.
/// Returns how many rows were written.
pub async fn insert_entries(
    conn: &mut PgConnection,
    incident: i64,
    entries: &[NewTimelineEntry],
) -> sqlx::Result<u64> {
    if entries.is_empty() {
        return Ok(0);
    }
    let at: Vec<DateTime<Utc>> = entries.iter().map(|e| e.at).collect();
    let keys: Vec<Option<String>> = entries.iter().map(|e| e.author_key.clone()).collect();
    let names: Vec<String> = entries.iter().map(|e| e.author_name.clone()).collect();
    let happenings: Vec<Json<&Happening>> = entries.iter().map(|e| Json(&e.happening)).collect();
    let sources: Vec<Option<String>> = entries.iter().map(|e| e.source_key.clone()).collect();
    let done = sqlx::query(
        "INSERT INTO incident_timeline (incident_id, at, author_key, author_name, happening, source_key)
         SELECT $1, * FROM UNNEST($2::timestamptz[], $3::text[], $4::text[], $5::jsonb[], $6::text[])
         ON CONFLICT (incident_id, source_key) DO NOTHING",
    )
    .bind(incident)
    .bind(at)
    .bind(keys)
    .bind(names)
    .bind(happenings)
    .bind(sources)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Records an edit of a captured message: its new text. `false` if it was never captured.
pub async fn edit_captured(
    conn: &mut PgConnection,
    incident: i64,
    source_key: &str,
    happening: &Happening,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE incident_timeline SET happening = $3, edited_at = $4
         WHERE incident_id = $1 AND source_key = $2",
    )
    .bind(incident)
    .bind(source_key)
    .bind(Json(happening))
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a captured message as deleted from the room (the entry stays, marked).
pub async fn delete_captured(
    conn: &mut PgConnection,
    incident: i64,
    source_key: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE incident_timeline SET deleted_at = COALESCE(deleted_at, $3)
         WHERE incident_id = $1 AND source_key = $2",
    )
    .bind(incident)
    .bind(source_key)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    at: DateTime<Utc>,
    author_name: String,
    happening: Json<Happening>,
    edited_at: Option<DateTime<Utc>>,
    deleted_at: Option<DateTime<Utc>>,
}

/// The whole timeline in time order (captured messages at their own time).
pub async fn timeline(
    executor: impl PgExecutor<'_>,
    incident: i64,
) -> sqlx::Result<Vec<TimelineEntry>> {
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT at, author_name, happening, edited_at, deleted_at FROM incident_timeline
         WHERE incident_id = $1 ORDER BY at, seq",
    )
    .bind(incident)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TimelineEntry {
            at: r.at,
            author: r.author_name,
            happening: r.happening.0,
            edited_at: r.edited_at,
            deleted_at: r.deleted_at,
        })
        .collect())
}

/// Incidents, newest first: open ones, or all.
pub async fn list(
    executor: impl PgExecutor<'_>,
    all: bool,
    limit: i64,
) -> sqlx::Result<Vec<Incident>> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT id, version, doc FROM incidents WHERE ($1 OR state <> 'resolved')
         ORDER BY declared_at DESC, id DESC LIMIT $2",
    )
    .bind(all)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(decode).collect()
}

/// Incidents with an action item due before `before` (by the projected earliest due day).
pub async fn with_actions_due_before(
    executor: impl PgExecutor<'_>,
    before: DateTime<Utc>,
) -> sqlx::Result<Vec<Incident>> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT id, version, doc FROM incidents WHERE next_action_due < $1 ORDER BY id",
    )
    .bind(before)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(decode).collect()
}

/// Open escalations and open requests per account, for the summary card.
pub async fn open_items_per_account(
    executor: impl PgExecutor<'_>,
    accounts: &[String],
) -> sqlx::Result<Vec<(String, i64, i64)>> {
    sqlx::query_as(
        "SELECT a.key,
                (SELECT count(*) FROM escalations e WHERE e.account_key = a.key AND e.state <> 'resolved'),
                (SELECT count(*) FROM requests r WHERE r.account_key = a.key AND r.state <> 'resolved')
         FROM UNNEST($1::text[]) AS a(key)",
    )
    .bind(accounts)
    .fetch_all(executor)
    .await
}
