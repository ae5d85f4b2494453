//! Who opened their home view, and the debounced republish jobs for them
//! (`services::home`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Remembers that `user` (resolved to `person`) opened their home.
pub async fn remember(
    db: impl PgExecutor<'_>,
    platform: &str,
    user: &str,
    person: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO home_viewers (platform, user_id, person_key, opened_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (platform, user_id)
         DO UPDATE SET person_key = EXCLUDED.person_key, opened_at = EXCLUDED.opened_at",
    )
    .bind(platform)
    .bind(user)
    .bind(person)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Schedules job `kind` at `run_at` for every home viewer among `people`, one per viewer
/// and `window` (the dedupe key `home:<platform>:<user>:<window>`), so the changes of one
/// window coalesce into one run. Returns how many jobs were new.
pub async fn schedule_republish(
    db: impl PgExecutor<'_>,
    kind: &str,
    people: &[String],
    window: i64,
    run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "INSERT INTO jobs (kind, payload, dedupe_key, run_at, max_attempts, created_at)
         SELECT $1, jsonb_build_object('platform', platform, 'user', user_id),
                'home:' || platform || ':' || user_id || ':' || $3::bigint, $4, 3, $5
         FROM home_viewers WHERE person_key = ANY($2)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(kind)
    .bind(people)
    .bind(window)
    .bind(run_at)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
