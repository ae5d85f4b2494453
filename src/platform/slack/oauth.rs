//! Installing into more workspaces (Slack OAuth v2):
//!
//! - `GET /slack/install` redirects (302) to `slack.authorize_url` with the app's client id,
//!   the bot scopes of the manifest, the callback as `redirect_uri`, and a signed, expiring
//!   `state`: `<expires unix>.<random hex>.<HMAC-SHA256 hex>` under the client secret.
//! - `GET /slack/oauth/callback?code&state` refuses a forged or expired state (401) before
//!   anything else, exchanges the code with `oauth.v2.access` (at `slack.api_url`, so a
//!   proxy or the test fake answers), and stores the team's bot token sealed under
//!   `STEWARD_TOKEN_KEY` (`tokens`) in `slack_installations` — with token rotation on, the
//!   refresh token too (sealed) and the token's expiry (`team_tokens` refreshes it).
//!
//! Both answer 404 while installing is not configured (`slack.client_id`,
//! `STEWARD_SLACK_CLIENT_SECRET`, `STEWARD_TOKEN_KEY`): one workspace, the token from the
//! environment, is the simple default.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Deserialize;
use sha2::Sha256;
use slack_morphism::prelude::*;

use super::client::SlackApi;
use super::http::SlackHttpState;
use super::manifest::BOT_SCOPES;
use super::tokens::TokenKey;
use crate::config::{Secret, SlackSettings};
use crate::domain::messages::slack as text;
use crate::storage::slack_installations::{self, Installation, SealedRefresh};

pub const INSTALL_PATH: &str = "/slack/install";
pub const CALLBACK_PATH: &str = "/slack/oauth/callback";

/// What installing needs, when it is configured.
struct Install<'a> {
    client_id: &'a str,
    client_secret: &'a Secret,
    key: TokenKey,
}

fn configured(settings: &SlackSettings) -> Option<Install<'_>> {
    let client_secret = settings.client_secret.as_ref()?;
    let key = TokenKey::parse(settings.token_key.as_ref()?.expose()).ok()?;
    (!settings.client_id.is_empty()).then_some(Install {
        client_id: &settings.client_id,
        client_secret,
        key,
    })
}

fn redirect_uri(settings: &SlackSettings) -> String {
    format!("{}{CALLBACK_PATH}", settings.public_url.trim_end_matches('/'))
}

fn mac(secret: &Secret, signed: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(signed.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A fresh `state` valid until `expires`.
pub fn sign_state(secret: &Secret, expires: DateTime<Utc>) -> String {
    let mut nonce = [0u8; 16];
    rand::rng().fill_bytes(&mut nonce);
    let signed = format!("{}.{}", expires.timestamp(), hex::encode(nonce));
    let tag = mac(secret, &signed);
    format!("{signed}.{tag}")
}

/// Whether `state` was signed with `secret` and is still valid at `now`.
pub fn state_is_valid(secret: &Secret, state: &str, now: DateTime<Utc>) -> bool {
    let Some((signed, tag)) = state.rsplit_once('.') else { return false };
    let Ok(tag) = hex::decode(tag) else { return false };
    // `verify_slice` compares in constant time.
    let mut check = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    check.update(signed.as_bytes());
    if check.verify_slice(&tag).is_err() {
        return false;
    }
    let expires = signed.split('.').next().and_then(|t| t.parse::<i64>().ok());
    expires.is_some_and(|expires| now.timestamp() < expires)
}

/// `GET /slack/install`.
pub async fn install(State(state): State<SlackHttpState>) -> Response {
    let settings = &state.settings;
    let Some(install) = configured(settings) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let now = state.inbound.services.clock().now();
    let expires = now + chrono::Duration::minutes(settings.install_state_minutes.max(1));
    let mut url = match url::Url::parse(&settings.authorize_url) {
        Ok(url) => url,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    url.query_pairs_mut()
        .append_pair("client_id", install.client_id)
        .append_pair("scope", &BOT_SCOPES.join(","))
        .append_pair("redirect_uri", &redirect_uri(settings))
        .append_pair("state", &sign_state(install.client_secret, expires));
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
}

/// `GET /slack/oauth/callback`.
pub async fn callback(
    State(state): State<SlackHttpState>,
    Query(query): Query<Callback>,
) -> Response {
    let settings = &state.settings;
    let Some(install) = configured(settings) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let services = &state.inbound.services;
    let now = services.clock().now();
    let valid =
        query.state.as_deref().is_some_and(|s| state_is_valid(install.client_secret, s, now));
    if !valid {
        return (StatusCode::UNAUTHORIZED, text::INSTALL_LINK_INVALID).into_response();
    }
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return (StatusCode::BAD_REQUEST, text::INSTALL_FAILED).into_response();
    };
    let params = [("code", Some(code)), ("redirect_uri", Some(redirect_uri(settings)))];
    let granted = match exchange(&state.inbound.api, settings, &params).await {
        Ok(granted) => granted,
        Err(err) => {
            tracing::warn!(error = %err, "oauth.v2.access failed");
            return (StatusCode::BAD_GATEWAY, text::INSTALL_FAILED).into_response();
        }
    };
    let team_id = granted.team.id.clone();
    let team_name = granted.team.name.clone().unwrap_or_else(|| team_id.clone());
    let (token_nonce, token_sealed) = install.key.seal(&team_id, &granted.access_token);
    let installation = Installation {
        team_id: team_id.clone(),
        team_name: team_name.clone(),
        bot_user_id: granted.bot_user_id.clone(),
        scope: granted.scope.clone(),
        token_nonce,
        token_sealed,
        refresh: granted.sealed_refresh(&install.key, &team_id, now),
    };
    if let Err(err) = slack_installations::upsert(services.pool(), &installation, now).await {
        tracing::error!(error = %err, "installation not stored");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    state.inbound.tokens.forget(&team_id);
    tracing::info!(team = %team_id, "slack workspace installed");
    (StatusCode::OK, text::installed(&team_name)).into_response()
}

/// What `oauth.v2.access` grants: slack-morphism's response type has no `refresh_token` or
/// `expires_in`, which a workspace with token rotation on gets, so Steward reads its own.
#[derive(Debug, Deserialize)]
pub struct Granted {
    pub access_token: String,
    #[serde(default)]
    pub scope: String,
    pub bot_user_id: Option<String>,
    pub team: GrantedTeam,
    /// With token rotation: the refresh token and the bot token's lifetime in seconds.
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct GrantedTeam {
    pub id: String,
    pub name: Option<String>,
}

impl Granted {
    /// The refresh token sealed under `key` for `team`, and when the granted token expires
    /// (counted from `now`); `None` without rotation.
    pub fn sealed_refresh(
        &self,
        key: &TokenKey,
        team: &str,
        now: DateTime<Utc>,
    ) -> Option<SealedRefresh> {
        let (refresh, seconds) = (self.refresh_token.as_ref()?, self.expires_in?);
        let (nonce, sealed) = key.seal(team, refresh);
        Some(SealedRefresh { nonce, sealed, expires_at: now + chrono::Duration::seconds(seconds) })
    }
}

/// Calls `oauth.v2.access` (at `slack.api_url`) with `params`, the app authenticating with
/// its client id and secret (HTTP Basic): an install's `code`, or a rotation's
/// `grant_type=refresh_token`.
pub async fn exchange(
    api: &SlackApi,
    settings: &SlackSettings,
    params: &[(&str, Option<String>)],
) -> ClientResult<Granted> {
    let connector = &api.client.http_api.connector;
    let params: Vec<(&str, Option<&String>)> =
        params.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    let uri = SlackClientHttpApiUri::create_url_with_params(
        connector.create_method_uri_path("oauth.v2.access")?,
        &params,
    )?;
    let id = SlackClientId::new(settings.client_id.clone());
    let secret = settings.client_secret.as_ref().map(|s| s.expose().to_owned()).unwrap_or_default();
    connector.http_get_with_client_secret(uri, &id, &SlackClientSecret::new(secret)).await
}

/// The bot token of an installed `team`, opened with the configured key; `None` for a team
/// that was never installed (the environment's token then applies).
pub async fn team_token(
    pool: &sqlx::PgPool,
    settings: &SlackSettings,
    team: &str,
) -> anyhow::Result<Option<Secret>> {
    let Some(found) = slack_installations::get(pool, team).await? else { return Ok(None) };
    let key = settings.token_key.as_ref().ok_or_else(|| anyhow::anyhow!("no STEWARD_TOKEN_KEY"))?;
    let key = TokenKey::parse(key.expose())?;
    Ok(Some(Secret::new(key.open(team, &found.token_nonce, &found.token_sealed)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_valid_until_it_expires_and_only_under_its_secret() {
        let secret = Secret::new("client-secret");
        let now = Utc::now();
        let state = sign_state(&secret, now + chrono::Duration::minutes(10));
        assert!(state_is_valid(&secret, &state, now));
        assert!(!state_is_valid(&secret, &state, now + chrono::Duration::minutes(10)));
        assert!(!state_is_valid(&Secret::new("other"), &state, now));
        let (signed, _) = state.rsplit_once('.').unwrap();
        let later = signed.replacen(
            &(now + chrono::Duration::minutes(10)).timestamp().to_string(),
            &(now + chrono::Duration::days(10)).timestamp().to_string(),
            1,
        );
        let forged = format!("{later}.{}", state.rsplit_once('.').unwrap().1);
        assert!(!state_is_valid(&secret, &forged, now + chrono::Duration::minutes(20)));
        assert!(!state_is_valid(&secret, "garbage", now));
    }
}
