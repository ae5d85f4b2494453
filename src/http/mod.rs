//! Steward's HTTP server: health checks, the signed request intake (`intake`), Slack and
//! Discord endpoints as their adapters land. The server takes a bound listener and a shutdown
//! token so tests can drive it.

pub mod intake;
pub mod metrics;
pub mod signature;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::get;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::storage;

/// What the HTTP handlers need.
#[derive(Clone)]
pub struct HttpState {
    pub pool: PgPool,
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::metrics))
        .with_state(state)
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// How long `/readyz` waits for the database before answering 503: probes time out after a
/// second or so, and an unready replica should say so, not hang.
const READY_TIMEOUT: Duration = Duration::from_millis(500);

/// The process can serve: the database answers, within [`READY_TIMEOUT`].
async fn readyz(State(state): State<HttpState>) -> (StatusCode, &'static str) {
    match tokio::time::timeout(READY_TIMEOUT, storage::ping(&state.pool)).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!(timeout = ?READY_TIMEOUT, "readiness check timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Caps request bodies of every route at `max_bytes`: a larger body is answered 413 before
/// its handler (and its signature check) runs. Every handler reads its body as `Bytes`, which
/// honours this limit.
pub fn with_body_limit(router: Router, max_bytes: usize) -> Router {
    router.layer(DefaultBodyLimit::max(max_bytes))
}

/// Serves `router` on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned()).await
}
