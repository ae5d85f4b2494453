//! `POST /discord/interactions`: Discord's HTTP way in. The signature is checked on the raw
//! bytes before anything else — a failure is a 401 with no database access at all — then
//! PING gets PONG and everything else goes through [`Interactions`].

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use ed25519_dalek::VerifyingKey;

use super::interactions::Interactions;
use super::verify;

pub const PATH: &str = "/discord/interactions";

#[derive(Clone)]
pub struct DiscordHttpState {
    pub interactions: Interactions,
    pub public_key: Arc<VerifyingKey>,
    pub window_seconds: i64,
}

impl DiscordHttpState {
    /// The key and window come from `[discord]`.
    pub fn new(interactions: Interactions) -> Result<DiscordHttpState, String> {
        let settings = &interactions.services().setup().settings.discord;
        let key = settings.public_key.as_deref().ok_or("discord.public_key is not set")?;
        let public_key = Arc::new(verify::public_key(key)?);
        let window_seconds = settings.signature_window_seconds;
        Ok(DiscordHttpState { interactions, public_key, window_seconds })
    }
}

pub fn routes(state: DiscordHttpState) -> Router {
    Router::new().route(PATH, post(receive)).with_state(state)
}

async fn receive(
    State(state): State<DiscordHttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = state.interactions.services().clock().now().timestamp();
    if !verify::verify(&state.public_key, &headers, &body, now, state.window_seconds) {
        tracing::info!("Discord interaction with a missing, invalid or stale signature");
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let payload: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(payload) => payload,
        Err(err) => {
            tracing::info!(error = %err, "Discord interaction is not JSON");
            return (StatusCode::BAD_REQUEST, "body is not JSON").into_response();
        }
    };
    let answer = state.interactions.answer(&payload).await;
    if let Some(pending) = answer.pending {
        // The deferred answer goes out with this response; the reply follows on its own.
        let interactions = state.interactions.clone();
        tokio::spawn(async move { interactions.finish(pending).await });
    }
    axum::Json(answer.initial).into_response()
}
