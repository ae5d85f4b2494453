//! Who opened their home view (`services::home`); the republish jobs for them are
//! scheduled with a change's other effects (`storage::effects`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Who opened their home: a platform user of a workspace (`None`: the default one).
pub struct Viewer<'a> {
    pub platform: &'a str,
    pub workspace: Option<&'a str>,
    pub user: &'a str,
}

/// Remembers that `viewer` (resolved to `person`) opened their home.
pub async fn remember(
    db: impl PgExecutor<'_>,
    viewer: &Viewer<'_>,
    person: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO home_viewers (platform, user_id, person_key, opened_at, workspace)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (platform, workspace, user_id)
         DO UPDATE SET person_key = EXCLUDED.person_key, opened_at = EXCLUDED.opened_at,
             workspace = EXCLUDED.workspace",
    )
    .bind(viewer.platform)
    .bind(viewer.user)
    .bind(person)
    .bind(now)
    .bind(viewer.workspace.unwrap_or_default())
    .execute(db)
    .await?;
    Ok(())
}
