//! Who opened their home view (`services::home`); the republish jobs for them are
//! scheduled with a change's other effects (`storage::effects`).

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
