//! Wiring the Slack adapter into `steward serve`: the outbound port for the dispatcher, and
//! either the HTTP routes or a Socket Mode connection, per `[slack]`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use super::http::{SlackHttpState, routes};
use super::socket_mode::SocketMode;
use super::team_tokens::TeamTokens;
use super::{SlackApi, SlackChat, SlackInbound};
use crate::config::SlackTransport;
use crate::services::uploads::PgUploads;
use crate::services::{ChatPort, Services};

/// The running adapter (or nothing when `slack.enabled` is false).
#[derive(Default)]
pub struct RunningSlack {
    port: Option<Arc<dyn ChatPort>>,
    routes: Option<Router>,
    socket: Option<SocketMode>,
}

/// Starts the adapter as configured.
pub async fn start(services: &Services) -> anyhow::Result<RunningSlack> {
    let settings = &services.setup().settings.slack;
    if !settings.enabled {
        return Ok(RunningSlack::default());
    }
    let api = SlackApi::new(settings)?;
    let pacing = Duration::from_millis(settings.channel_pacing_ms);
    let uploads = PgUploads::new(services.pool().clone(), services.clock().clone());
    // One set of tokens for the port and the install callback, which forgets a team's
    // cached token when it is installed again.
    let tokens = Arc::new(
        TeamTokens::new(settings, services.pool().clone(), &api)
            .with_clock(services.clock().clone()),
    );
    let port: Arc<dyn ChatPort> = Arc::new(
        SlackChat::new(api.clone(), services.clock().clone(), pacing)
            .with_uploads(Arc::new(uploads))
            .with_tokens(tokens.clone()),
    );
    let inbound = SlackInbound::new(services.clone(), api).with_tokens(tokens);
    let mut running = RunningSlack { port: Some(port), ..RunningSlack::default() };
    match settings.transport {
        SlackTransport::Http => {
            tracing::info!("slack adapter: HTTP transport on /slack/*");
            running.routes = Some(routes(SlackHttpState::new(inbound)));
        }
        SlackTransport::Socket => {
            tracing::info!("slack adapter: Socket Mode");
            running.socket = Some(SocketMode::start(inbound).await?);
        }
    }
    Ok(running)
}

impl RunningSlack {
    /// The ports to register with the dispatcher.
    pub fn ports(&self) -> Vec<Arc<dyn ChatPort>> {
        self.port.iter().cloned().collect()
    }

    /// The routes to merge into the HTTP server (empty unless the HTTP transport runs).
    pub fn routes(&self) -> Router {
        self.routes.clone().unwrap_or_default()
    }

    pub async fn shutdown(&self) {
        if let Some(socket) = &self.socket {
            socket.shutdown().await;
        }
    }
}
