//! `POST /intake/requests`: helpdesk, billing and CRM systems create requests.
//!
//! The raw body is verified before anything else: `X-Steward-Timestamp` (unix seconds,
//! within ±`requests.signature_window_seconds` of now) and `X-Steward-Signature:
//! v1=<hex HMAC-SHA256(secret, "v1:{timestamp}:{raw body}")>` against every configured
//! secret (several while rotating), compared in constant time. A failure is a 401 with no
//! database access at all. Deliveries are deduplicated by the sender's `(source,
//! external_id)`: 201 with the new id, 200 with the existing id for a retry, 409 naming the
//! existing request when the same key comes with a different payload. A body that is not
//! JSON of the expected shape is a 400; a valid shape with bad values (empty ids, an unknown
//! priority, a summary over 2,000 characters, an id or field name over 200, more than 50
//! fields, control characters) a 422; a body over `server.intake_max_body_bytes` a 413,
//! before the signature is checked.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use super::signature::{VersionedHmac, fresh_headers};
use crate::config::Secret;
use crate::domain::messages::request as text;
use crate::domain::text_limit;
use crate::domain::triage::Priority;
use crate::services::Services;
use crate::services::error::AppError;
use crate::services::requests::{self, NewRequest};

pub const TIMESTAMP_HEADER: &str = "x-steward-timestamp";
pub const SIGNATURE_HEADER: &str = "x-steward-signature";
pub const PATH: &str = "/intake/requests";

/// What the intake route needs.
#[derive(Clone)]
pub struct IntakeState {
    pub services: Services,
    pub secrets: Arc<Vec<Secret>>,
    pub window_seconds: i64,
}

impl IntakeState {
    /// The secrets and window come from the services' settings.
    pub fn new(services: Services) -> IntakeState {
        let secrets = Arc::new(services.setup().settings.requests.intake_secrets.clone());
        let window_seconds = services.setup().settings.requests.signature_window_seconds;
        IntakeState { services, secrets, window_seconds }
    }
}

/// The intake route, with its own body cap (`server.intake_max_body_bytes`): a request is a
/// few kilobytes, so a larger body is refused before it is read whole, let alone verified.
pub fn routes(state: IntakeState) -> Router {
    // Never above the server-wide cap: this layer replaces it for the route.
    let server = &state.services.setup().settings.server;
    let max_body = server.intake_max_body_bytes.min(server.max_body_bytes);
    Router::new()
        .route(PATH, post(receive))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// The JSON body a sender posts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntakeBody {
    external_id: String,
    source: String,
    account: String,
    #[serde(rename = "type")]
    kind: String,
    summary: String,
    priority: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

/// Intake signatures: HMAC-SHA256 over `v1:{timestamp}:{raw body}`.
const SCHEME: VersionedHmac = VersionedHmac("v1");

/// The signature header value for `body` sent at `timestamp` (senders, tests, benchmarks).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    SCHEME.sign(secret, timestamp, body)
}

/// Whether the headers sign `body` with one of `secrets` within the window around `now`.
pub fn verify(
    secrets: &[Secret],
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
    window_seconds: i64,
) -> bool {
    fresh_headers(headers, TIMESTAMP_HEADER, SIGNATURE_HEADER, now, window_seconds)
        .is_ok_and(|(timestamp, signature)| SCHEME.matches(secrets, timestamp, signature, body))
}

fn error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

async fn receive(State(state): State<IntakeState>, headers: HeaderMap, body: Bytes) -> Response {
    let now = state.services.clock().now().timestamp();
    if !verify(&state.secrets, &headers, &body, now, state.window_seconds) {
        tracing::info!("intake request with a missing, invalid or stale signature");
        return error(StatusCode::UNAUTHORIZED, text::intake_unauthorized());
    }
    let body: IntakeBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(err) => {
            return error(StatusCode::BAD_REQUEST, text::intake_malformed(&err.to_string()));
        }
    };
    for (name, value) in [("external_id", &body.external_id), ("source", &body.source)] {
        if value.trim().is_empty() {
            return error(StatusCode::UNPROCESSABLE_ENTITY, text::intake_missing(name));
        }
    }
    if body.fields.len() > text_limit::MAX_FIELDS {
        let problem =
            crate::domain::messages::too_many_fields(body.fields.len(), text_limit::MAX_FIELDS);
        return error(StatusCode::UNPROCESSABLE_ENTITY, problem);
    }
    let keys = [
        ("external_id", body.external_id.as_str()),
        ("source", body.source.as_str()),
        ("account", body.account.as_str()),
        ("type", body.kind.as_str()),
        ("priority", body.priority.as_deref().unwrap_or("")),
    ];
    let field_names = body.fields.keys().map(|key| ("field name", key.as_str()));
    for (what, value) in keys.into_iter().chain(field_names) {
        if let Err(problem) = text_limit::check_key(what, value) {
            return error(StatusCode::UNPROCESSABLE_ENTITY, problem);
        }
    }
    let texts = body.fields.iter().map(|(key, value)| (key.as_str(), value));
    for (what, value) in std::iter::once(("summary", &body.summary)).chain(texts) {
        if let Err(problem) = text_limit::check(what, value) {
            return error(StatusCode::UNPROCESSABLE_ENTITY, problem);
        }
    }
    let priority = match body.priority.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(raw) => match Priority::parse(raw) {
            Some(priority) => Some(priority),
            None => {
                return error(StatusCode::UNPROCESSABLE_ENTITY, text::invalid_priority(raw));
            }
        },
    };
    let source = body.source.trim().to_owned();
    let (source_of_conflict, external_id) = (source.clone(), body.external_id.trim().to_owned());
    let new = NewRequest {
        account: body.account,
        kind: body.kind,
        summary: body.summary,
        priority,
        fields: body.fields.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect(),
        requested_by: source.clone(),
        source,
        external_id: Some(body.external_id.trim().to_owned()),
        team: None,
        platform: None,
        workspace: None,
    };
    match requests::intake(&state.services, new).await {
        Ok(outcome) if outcome.conflict => {
            let problem = text::intake_conflict(&source_of_conflict, &external_id, outcome.id);
            let body = serde_json::json!({ "error": problem, "id": outcome.id });
            (StatusCode::CONFLICT, axum::Json(body)).into_response()
        }
        Ok(outcome) => {
            let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
            let body = serde_json::json!({ "id": outcome.id, "created": outcome.created });
            (status, axum::Json(body)).into_response()
        }
        Err(AppError::Usage(err)) => error(StatusCode::UNPROCESSABLE_ENTITY, err.problem),
        Err(AppError::DatabaseUnavailable(cause)) => {
            tracing::warn!(error = %cause, "intake: database unavailable");
            error(StatusCode::SERVICE_UNAVAILABLE, crate::domain::messages::database_unavailable())
        }
        Err(AppError::Unexpected(err)) => {
            tracing::error!(error = %format!("{err:#}"), "intake failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                crate::domain::messages::internal_error("intake"),
            )
        }
        Err(other) => error(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
    }
}
