//! Slack's HTTP transport: `POST /slack/events` (Events API), `/slack/commands` (slash
//! commands), `/slack/interactivity` (buttons, modal submits) and `/slack/options` (the
//! options of an `external_select`). Every request is verified
//! over its raw body before anything else; a bad, stale or missing signature is a 401 with
//! no database access and no outbound call (the one exception is Slack's `ssl_check=1`
//! probe of the command URL, answered 200 with nothing done). The install routes
//! (`GET /slack/install`, `/slack/oauth/callback`, in `oauth`) come from an admin's browser,
//! not from Slack, so they carry no signature: the callback checks its signed `state`
//! instead. `startup::serve` merges [`routes`].

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::decode::{self, CommandForm, Decoded};
use super::inbound::{Ack, SlackInbound};
use super::verify;
use crate::config::{Secret, SlackSettings};

pub const EVENTS_PATH: &str = "/slack/events";
pub const COMMANDS_PATH: &str = "/slack/commands";
pub const INTERACTIVITY_PATH: &str = "/slack/interactivity";
/// Slack's "options load URL" for `external_select` menus (`block_suggestion`, manifest
/// `interactivity.message_menu_options_url`): signed and shaped like interactivity, so the
/// same handler serves it.
pub const OPTIONS_PATH: &str = "/slack/options";

/// What the Slack routes need.
#[derive(Clone)]
pub struct SlackHttpState {
    pub inbound: SlackInbound,
    pub settings: Arc<SlackSettings>,
    pub secrets: Arc<Vec<Secret>>,
}

impl SlackHttpState {
    pub fn new(inbound: SlackInbound) -> SlackHttpState {
        let settings = Arc::new(inbound.services.setup().settings.slack.clone());
        let secrets = Arc::new(settings.signing_secrets.clone());
        SlackHttpState { inbound, settings, secrets }
    }
}

pub fn routes(state: SlackHttpState) -> Router {
    Router::new()
        .route(EVENTS_PATH, post(events))
        .route(COMMANDS_PATH, post(commands))
        .route(INTERACTIVITY_PATH, post(interactivity))
        .route(OPTIONS_PATH, post(interactivity))
        .route(super::oauth::INSTALL_PATH, get(super::oauth::install))
        .route(super::oauth::CALLBACK_PATH, get(super::oauth::callback))
        .with_state(state)
}

/// Checks the signature (logging why a request is refused).
fn verified(state: &SlackHttpState, headers: &HeaderMap, body: &[u8]) -> bool {
    let now = state.inbound.services.clock().now().timestamp();
    let window = state.settings.signature_window_seconds;
    match verify::verify(&state.secrets, headers, body, now, window) {
        Ok(()) => true,
        Err(err) => {
            tracing::info!(reason = %err, "slack request refused");
            false
        }
    }
}

fn unauthorized() -> Response {
    StatusCode::UNAUTHORIZED.into_response()
}

fn ack(ack: Ack) -> Response {
    match ack {
        Ack::Empty => StatusCode::OK.into_response(),
        Ack::Body(body) => axum::Json(body).into_response(),
    }
}

fn bad_request(what: &str, err: impl std::fmt::Display) -> Response {
    tracing::info!(error = %err, "malformed slack {what}");
    StatusCode::BAD_REQUEST.into_response()
}

async fn events(State(state): State<SlackHttpState>, headers: HeaderMap, body: Bytes) -> Response {
    if !verified(&state, &headers, &body) {
        return unauthorized();
    }
    let body: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(err) => return bad_request("event", err),
    };
    let pin_emoji = &state.inbound.services.setup().settings.incident.pin_emoji_slack;
    ack(state.inbound.handle(decode::event(&body, pin_emoji)).await)
}

async fn commands(
    State(state): State<SlackHttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if is_ssl_check(&body) {
        return StatusCode::OK.into_response();
    }
    if !verified(&state, &headers, &body) {
        return unauthorized();
    }
    let form: CommandForm = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(err) => return bad_request("command", err),
    };
    ack(state.inbound.handle(decode::command(&state.settings, form)).await)
}

/// Slack's certificate check of a command URL (`ssl_check=1`, sent when the URL is saved and
/// now and then). It only wants a 200; it carries no command and causes nothing, so it is
/// answered before verification (Slack's docs do not promise it is signed).
fn is_ssl_check(body: &[u8]) -> bool {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map(|form| form.iter().any(|(k, v)| k == "ssl_check" && v == "1"))
        .unwrap_or(false)
}

#[derive(Deserialize)]
struct InteractivityForm {
    payload: String,
}

async fn interactivity(
    State(state): State<SlackHttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !verified(&state, &headers, &body) {
        return unauthorized();
    }
    let payload = serde_urlencoded::from_bytes::<InteractivityForm>(&body)
        .map_err(|e| e.to_string())
        .and_then(|form| serde_json::from_str(&form.payload).map_err(|e| e.to_string()));
    let decoded: Decoded = match payload {
        Ok(payload) => decode::interaction(&payload),
        Err(err) => return bad_request("interaction", err),
    };
    ack(state.inbound.handle(decoded).await)
}
