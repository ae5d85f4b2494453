//! Which bot token a Web API call is made with: the installed team's token from
//! `slack_installations` (opened under `STEWARD_TOKEN_KEY`), else the environment's
//! `SLACK_BOT_TOKEN` (the default workspace). Every outbox row names its workspace
//! (`Delivery::workspace`), so each call goes out with its own team's token.
//!
//! Tokens are cached in memory (bounded by `platform::cache`), a team that was never installed
//! too, so the default workspace costs no query per call. The cache follows changes: an
//! install in this process forgets the team's entry ([`TeamTokens::forget`]), and a call
//! answered `invalid_auth` / `token_expired` / `token_revoked` (another replica reinstalled
//! or rotated the token) reads the row again once and retries with what it finds.
//!
//! Token rotation: an installation that came with a refresh token has a bot token that
//! expires. Before a call whose token expires within [`REFRESH_BEFORE_SECONDS`] (or after
//! Slack refused it), the token is refreshed with `oauth.v2.access`
//! `grant_type=refresh_token` under the installation's row lock, so concurrent dispatchers
//! (in this process or another replica) refresh once: whoever waited on the lock finds the
//! new token and uses it.
//!
//! Without installing configured (`slack.client_id`, `STEWARD_TOKEN_KEY`) there is one
//! workspace and one token, and nothing is read from the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use slack_morphism::prelude::*;

use super::client::{SlackApi, api_token};
use super::oauth;
use super::tokens::TokenKey;
use crate::config::{Secret, SlackSettings};
use crate::services::ports::{Clock, SendError, SystemClock};
use crate::storage::slack_installations::{self, Installation};

/// A rotating token is refreshed when it expires within this many seconds (5 minutes).
pub const REFRESH_BEFORE_SECONDS: i64 = 300;

/// Slack error codes that say the token is not (or no longer) good.
pub const AUTH_ERRORS: &[&str] = &["invalid_auth", "not_authed", "token_expired", "token_revoked"];

/// Where tokens come from, and the ones already read.
pub struct TeamTokens {
    /// The environment's token: the default workspace's, and every team's that was never
    /// installed.
    fallback: Option<SlackApiToken>,
    /// The installations, when installing is configured.
    installed: Option<Installed>,
    /// Team id → its installed token, or `None` for a team that was never installed.
    cache: Mutex<HashMap<String, Option<Known>>>,
    /// When a rotating token is due for refreshing.
    clock: Arc<dyn Clock>,
}

struct Installed {
    pool: sqlx::PgPool,
    settings: SlackSettings,
    key: TokenKey,
    /// The client that refreshes rotating tokens (`oauth.v2.access`); without it a token is
    /// used until Slack refuses it.
    api: Option<SlackApi>,
}

/// An installed team's token as last read, and when it expires (rotation on).
#[derive(Clone)]
struct Known {
    token: SlackApiToken,
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "Slack workspace {team} is not installed (open /slack/install there) and {} is not set",
        crate::config::SLACK_BOT_TOKEN_ENV
    )]
    NotInstalled { team: String },
    #[error("no Slack bot token: {} is not set", crate::config::SLACK_BOT_TOKEN_ENV)]
    NoDefaultToken,
    #[error("the installed token of {team} could not be read: {cause:#}")]
    Unreadable { team: String, cause: anyhow::Error },
    #[error("the token of {team} could not be refreshed: {reason}")]
    RefreshFailed { team: String, reason: String },
}

impl From<TokenError> for SendError {
    fn from(err: TokenError) -> SendError {
        match err {
            // The database or Slack may be back in a moment; a missing token will not appear.
            TokenError::Unreadable { .. } => {
                tracing::warn!(error = %err, "slack: token not available yet");
                SendError::Retryable { reason: err.to_string(), retry_after: None }
            }
            // Logged and counted where the refresh was refused (`TeamTokens::refresh`).
            TokenError::RefreshFailed { .. } => {
                SendError::Retryable { reason: err.to_string(), retry_after: None }
            }
            _ => {
                tracing::error!(error = %err, "slack: no token for this workspace");
                SendError::Permanent { reason: err.to_string() }
            }
        }
    }
}

/// Whether installing into more workspaces is configured.
pub fn installing_configured(settings: &SlackSettings) -> bool {
    !settings.client_id.is_empty() && settings.token_key.is_some()
}

fn unreadable(team: &str, cause: impl Into<anyhow::Error>) -> TokenError {
    TokenError::Unreadable { team: team.to_owned(), cause: cause.into() }
}

impl TeamTokens {
    /// One workspace: the environment's token for every call.
    pub fn single(settings: &SlackSettings) -> TeamTokens {
        let fallback = settings.bot_token.as_ref().map(api_token);
        TeamTokens::with_fallback(fallback)
    }

    /// One workspace and this token (tests, benchmarks).
    pub fn fixed(token: SlackApiToken) -> TeamTokens {
        TeamTokens::with_fallback(Some(token))
    }

    fn with_fallback(fallback: Option<SlackApiToken>) -> TeamTokens {
        let clock = Arc::new(SystemClock);
        TeamTokens { fallback, installed: None, cache: Mutex::default(), clock }
    }

    /// The installed teams' tokens from `pool` when installing is configured (and the key
    /// parses), else [`TeamTokens::single`]. `api` refreshes rotating tokens.
    pub fn new(settings: &SlackSettings, pool: sqlx::PgPool, api: &SlackApi) -> TeamTokens {
        let mut tokens = TeamTokens::single(settings);
        let key = settings.token_key.as_ref().and_then(|k| TokenKey::parse(k.expose()).ok());
        if let (true, Some(key)) = (installing_configured(settings), key) {
            let settings = settings.clone();
            tokens.installed = Some(Installed { pool, settings, key, api: Some(api.clone()) });
        }
        tokens
    }

    /// Reads the time from `clock` (the services' clock) instead of the system's.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> TeamTokens {
        self.clock = clock;
        self
    }

    /// The token for a call in `team` (`None`: the default workspace), refreshed first when
    /// it is about to expire.
    pub async fn token(&self, team: Option<&str>) -> Result<SlackApiToken, TokenError> {
        let (Some(team), Some(_)) = (team, &self.installed) else {
            return self.fallback.clone().ok_or(TokenError::NoDefaultToken);
        };
        let cached = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(team).cloned();
        let known = match cached {
            Some(known) => known,
            None => self.read(team).await?,
        };
        let known = match known {
            Some(known) if self.due(known.expires_at) => self.refresh(team, None).await?,
            other => other,
        };
        match (known, &self.fallback) {
            (Some(known), _) => Ok(known.token),
            (None, Some(fallback)) => Ok(fallback.clone()),
            (None, None) => Err(TokenError::NotInstalled { team: team.to_owned() }),
        }
    }

    /// After `used` was refused as not good: the team's token as stored now (refreshed if
    /// `used` was the stored one and it rotates), if it is another one (then the call is
    /// worth repeating once).
    pub async fn after_refusal(
        &self,
        team: Option<&str>,
        used: &SlackApiToken,
    ) -> Result<Option<SlackApiToken>, TokenError> {
        let (Some(team), Some(_)) = (team, &self.installed) else { return Ok(None) };
        self.forget(team);
        let fresh = match self.refresh(team, Some(used)).await? {
            Some(known) => Some(known.token),
            None => self.fallback.clone(),
        };
        Ok(fresh.filter(|fresh| fresh.token_value != used.token_value))
    }

    /// Forgets what is known of `team` (it was just installed, or its token was refused).
    pub fn forget(&self, team: &str) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).remove(team);
    }

    fn due(&self, expires_at: Option<DateTime<Utc>>) -> bool {
        let soon = self.clock.now() + chrono::Duration::seconds(REFRESH_BEFORE_SECONDS);
        expires_at.is_some_and(|at| at <= soon)
    }

    fn remember(&self, team: &str, known: Option<Known>) -> Option<Known> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        crate::platform::cache::insert_bounded(&mut cache, team.to_owned(), known.clone());
        known
    }

    fn opened(installed: &Installed, row: &Installation) -> Result<Known, TokenError> {
        let team = &row.team_id;
        let token = installed
            .key
            .open(team, &row.token_nonce, &row.token_sealed)
            .map_err(|e| unreadable(team, e))?;
        let expires_at = row.refresh.as_ref().map(|r| r.expires_at);
        Ok(Known { token: api_token(&Secret::new(token)), expires_at })
    }

    async fn read(&self, team: &str) -> Result<Option<Known>, TokenError> {
        let Some(installed) = &self.installed else { return Ok(None) };
        let found = slack_installations::get(&installed.pool, team)
            .await
            .map_err(|e| unreadable(team, e))?;
        let known = found.map(|row| TeamTokens::opened(installed, &row)).transpose()?;
        Ok(self.remember(team, known))
    }

    /// The team's token under its row lock: refreshed with `oauth.v2.access` if it is due
    /// (or is `refused`) and rotates — unless whoever held the lock before did just that.
    async fn refresh(
        &self,
        team: &str,
        refused: Option<&SlackApiToken>,
    ) -> Result<Option<Known>, TokenError> {
        let Some(installed) = &self.installed else { return Ok(None) };
        let mut tx = installed.pool.begin().await.map_err(|e| unreadable(team, e))?;
        let Some(row) = slack_installations::get_for_update(&mut tx, team)
            .await
            .map_err(|e| unreadable(team, e))?
        else {
            return Ok(self.remember(team, None));
        };
        let stored = TeamTokens::opened(installed, &row)?;
        let is_refused = refused.is_some_and(|r| r.token_value == stored.token.token_value);
        let stale = is_refused || self.due(stored.expires_at);
        let (Some(refresh), Some(api), true) = (&row.refresh, &installed.api, stale) else {
            tx.commit().await.map_err(|e| unreadable(team, e))?;
            return Ok(self.remember(team, Some(stored)));
        };
        let refresh_token = installed
            .key
            .open(team, &refresh.nonce, &refresh.sealed)
            .map_err(|e| unreadable(team, e))?;
        let params = [
            ("grant_type", Some("refresh_token".to_owned())),
            ("refresh_token", Some(refresh_token)),
        ];
        let refused_by_slack = |reason: String| {
            // Counted for alerting: until the refresh goes through, every message to the
            // workspace waits, and if Slack keeps refusing only a reinstall mends it.
            crate::telemetry::metrics::token_refresh_failed("slack", team);
            tracing::error!(team, %reason, "slack: the workspace's token could not be refreshed");
            TokenError::RefreshFailed { team: team.to_owned(), reason }
        };
        let granted = oauth::exchange(api, &installed.settings, &params)
            .await
            .map_err(|e| refused_by_slack(e.to_string()))?;
        let now = self.clock.now();
        let Some(next) = granted.sealed_refresh(&installed.key, team, now) else {
            return Err(refused_by_slack("no refresh token came back".into()));
        };
        let (nonce, sealed) = installed.key.seal(team, &granted.access_token);
        slack_installations::set_rotated(&mut tx, team, (&nonce, &sealed), &next, now)
            .await
            .map_err(|e| unreadable(team, e))?;
        tx.commit().await.map_err(|e| unreadable(team, e))?;
        tracing::info!(team, expires_at = %next.expires_at, "slack token rotated");
        let token = api_token(&Secret::new(granted.access_token));
        Ok(self.remember(team, Some(Known { token, expires_at: Some(next.expires_at) })))
    }
}
