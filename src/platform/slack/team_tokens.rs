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
//! Without installing configured (`slack.client_id`, `STEWARD_TOKEN_KEY`) there is one
//! workspace and one token, and nothing is read from the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use slack_morphism::prelude::*;

use super::client::api_token;
use super::oauth;
use crate::config::{Secret, SlackSettings};
use crate::services::ports::{Clock, SendError, SystemClock};

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
    cache: Mutex<HashMap<String, Option<Secret>>>,
    /// When a rotating token is due for refreshing.
    clock: Arc<dyn Clock>,
}

struct Installed {
    pool: sqlx::PgPool,
    settings: SlackSettings,
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
}

impl From<TokenError> for SendError {
    fn from(err: TokenError) -> SendError {
        match err {
            // The database may be back in a moment; a missing token will not appear.
            TokenError::Unreadable { .. } => {
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

impl TeamTokens {
    /// One workspace: the environment's token for every call.
    pub fn single(settings: &SlackSettings) -> TeamTokens {
        let fallback = settings.bot_token.as_ref().map(api_token);
        TeamTokens {
            fallback,
            installed: None,
            cache: Mutex::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// One workspace and this token (tests, benchmarks).
    pub fn fixed(token: SlackApiToken) -> TeamTokens {
        TeamTokens {
            fallback: Some(token),
            installed: None,
            cache: Mutex::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The installed teams' tokens from `pool` when installing is configured, else
    /// [`TeamTokens::single`].
    pub fn new(settings: &SlackSettings, pool: sqlx::PgPool) -> TeamTokens {
        let mut tokens = TeamTokens::single(settings);
        if installing_configured(settings) {
            tokens.installed = Some(Installed { pool, settings: settings.clone() });
        }
        tokens
    }

    /// Reads the time from `clock` (the services' clock) instead of the system's.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> TeamTokens {
        self.clock = clock;
        self
    }

    /// The token for a call in `team` (`None`: the default workspace).
    pub async fn token(&self, team: Option<&str>) -> Result<SlackApiToken, TokenError> {
        let (Some(team), Some(_)) = (team, &self.installed) else {
            return self.fallback.clone().ok_or(TokenError::NoDefaultToken);
        };
        let cached = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(team).cloned();
        let installed = match cached {
            Some(installed) => installed,
            None => self.read(team).await?,
        };
        match (installed, &self.fallback) {
            (Some(token), _) => Ok(api_token(&token)),
            (None, Some(fallback)) => Ok(fallback.clone()),
            (None, None) => Err(TokenError::NotInstalled { team: team.to_owned() }),
        }
    }

    /// After `used` was refused as not good: the team's token read again, if it is another
    /// one (then the call is worth repeating once).
    pub async fn after_refusal(
        &self,
        team: Option<&str>,
        used: &SlackApiToken,
    ) -> Result<Option<SlackApiToken>, TokenError> {
        let Some(team) = team else { return Ok(None) };
        self.forget(team);
        let fresh = self.token(Some(team)).await?;
        Ok((fresh.token_value != used.token_value).then_some(fresh))
    }

    /// Forgets what is known of `team` (it was just installed, or its token was refused).
    pub fn forget(&self, team: &str) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).remove(team);
    }

    async fn read(&self, team: &str) -> Result<Option<Secret>, TokenError> {
        let Some(installed) = &self.installed else { return Ok(None) };
        let found = oauth::team_token(&installed.pool, &installed.settings, team)
            .await
            .map_err(|cause| TokenError::Unreadable { team: team.to_owned(), cause })?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        crate::platform::cache::insert_bounded(&mut cache, team.to_owned(), found.clone());
        Ok(found)
    }
}
