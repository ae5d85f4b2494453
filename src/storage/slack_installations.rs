//! Installed Slack workspaces and their sealed bot tokens (`platform::slack::oauth`), with
//! the sealed refresh token and expiry of a rotating one (`platform::slack::team_tokens`).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

/// One installation as stored; the tokens are sealed (`platform::slack::tokens`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Installation {
    pub team_id: String,
    pub team_name: String,
    pub bot_user_id: Option<String>,
    pub scope: String,
    pub token_nonce: Vec<u8>,
    pub token_sealed: Vec<u8>,
    /// With token rotation on: the refresh token, sealed, and when the bot token expires.
    pub refresh: Option<SealedRefresh>,
}

/// A rotating installation's refresh token (sealed) and its bot token's expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRefresh {
    pub nonce: Vec<u8>,
    pub sealed: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct InstallationRow {
    team_id: String,
    team_name: String,
    bot_user_id: Option<String>,
    scope: String,
    token_nonce: Vec<u8>,
    token_sealed: Vec<u8>,
    refresh_nonce: Option<Vec<u8>>,
    refresh_sealed: Option<Vec<u8>>,
    token_expires_at: Option<DateTime<Utc>>,
}

impl From<InstallationRow> for Installation {
    fn from(row: InstallationRow) -> Installation {
        let refresh = match (row.refresh_nonce, row.refresh_sealed, row.token_expires_at) {
            (Some(nonce), Some(sealed), Some(expires_at)) => {
                Some(SealedRefresh { nonce, sealed, expires_at })
            }
            _ => None,
        };
        Installation {
            team_id: row.team_id,
            team_name: row.team_name,
            bot_user_id: row.bot_user_id,
            scope: row.scope,
            token_nonce: row.token_nonce,
            token_sealed: row.token_sealed,
            refresh,
        }
    }
}

const COLUMNS: &str = "team_id, team_name, bot_user_id, scope, token_nonce, token_sealed,
     refresh_nonce, refresh_sealed, token_expires_at";

/// Stores an installation; a reinstall replaces the tokens and keeps `installed_at`.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    installation: &Installation,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let refresh = installation.refresh.as_ref();
    sqlx::query(
        "INSERT INTO slack_installations (team_id, team_name, bot_user_id, scope, token_nonce,
             token_sealed, installed_at, updated_at, refresh_nonce, refresh_sealed,
             token_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10)
         ON CONFLICT (team_id) DO UPDATE SET team_name = EXCLUDED.team_name,
             bot_user_id = EXCLUDED.bot_user_id, scope = EXCLUDED.scope,
             token_nonce = EXCLUDED.token_nonce, token_sealed = EXCLUDED.token_sealed,
             updated_at = EXCLUDED.updated_at, refresh_nonce = EXCLUDED.refresh_nonce,
             refresh_sealed = EXCLUDED.refresh_sealed,
             token_expires_at = EXCLUDED.token_expires_at",
    )
    .bind(&installation.team_id)
    .bind(&installation.team_name)
    .bind(&installation.bot_user_id)
    .bind(&installation.scope)
    .bind(&installation.token_nonce)
    .bind(&installation.token_sealed)
    .bind(now)
    .bind(refresh.map(|r| &r.nonce))
    .bind(refresh.map(|r| &r.sealed))
    .bind(refresh.map(|r| r.expires_at))
    .execute(db)
    .await?;
    Ok(())
}

pub async fn get(db: impl PgExecutor<'_>, team_id: &str) -> sqlx::Result<Option<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM slack_installations WHERE team_id = $1");
    let row: Option<InstallationRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(team_id).fetch_optional(db).await?;
    Ok(row.map(Installation::from))
}

/// The installation, its row locked until the transaction ends: one refresh at a time per
/// team, whoever else wants to refresh waits and then finds the new token.
pub async fn get_for_update(
    conn: &mut PgConnection,
    team_id: &str,
) -> sqlx::Result<Option<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM slack_installations WHERE team_id = $1 FOR UPDATE");
    let row: Option<InstallationRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(team_id).fetch_optional(conn).await?;
    Ok(row.map(Installation::from))
}

/// Stores a refreshed bot token and the refresh token that came with it.
pub async fn set_rotated(
    conn: &mut PgConnection,
    team_id: &str,
    token: (&[u8], &[u8]),
    refresh: &SealedRefresh,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE slack_installations SET token_nonce = $2, token_sealed = $3, refresh_nonce = $4,
             refresh_sealed = $5, token_expires_at = $6, updated_at = $7
         WHERE team_id = $1",
    )
    .bind(team_id)
    .bind(token.0)
    .bind(token.1)
    .bind(&refresh.nonce)
    .bind(&refresh.sealed)
    .bind(refresh.expires_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
