//! Installed Slack workspaces and their sealed bot tokens (`platform::slack::oauth`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// One installation as stored; the token is sealed (`platform::slack::tokens`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Installation {
    pub team_id: String,
    pub team_name: String,
    pub bot_user_id: Option<String>,
    pub scope: String,
    pub token_nonce: Vec<u8>,
    pub token_sealed: Vec<u8>,
}

/// Stores an installation; a reinstall replaces the token and keeps `installed_at`.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    installation: &Installation,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO slack_installations (team_id, team_name, bot_user_id, scope, token_nonce,
             token_sealed, installed_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (team_id) DO UPDATE SET team_name = EXCLUDED.team_name,
             bot_user_id = EXCLUDED.bot_user_id, scope = EXCLUDED.scope,
             token_nonce = EXCLUDED.token_nonce, token_sealed = EXCLUDED.token_sealed,
             updated_at = EXCLUDED.updated_at",
    )
    .bind(&installation.team_id)
    .bind(&installation.team_name)
    .bind(&installation.bot_user_id)
    .bind(&installation.scope)
    .bind(&installation.token_nonce)
    .bind(&installation.token_sealed)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn get(db: impl PgExecutor<'_>, team_id: &str) -> sqlx::Result<Option<Installation>> {
    sqlx::query_as(
        "SELECT team_id, team_name, bot_user_id, scope, token_nonce, token_sealed
         FROM slack_installations WHERE team_id = $1",
    )
    .bind(team_id)
    .fetch_optional(db)
    .await
}
