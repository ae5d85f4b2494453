//! Socket Mode: Steward opens WebSockets to Slack with the app-level token (from
//! `apps.connections.open` under `slack.api_url`), so no public URL is needed.
//!
//! slack-morphism's listener acknowledges an envelope only when our callback returns, and
//! our callback returns only after `handle_inbound` committed: an envelope is never acked for
//! a change that did not commit (Slack redelivers unacked envelopes). Slash command replies
//! travel in the ack payload, like the HTTP transport's response body.
//!
//! The listener hands over typed events; they are turned back into the JSON Slack sent and
//! decoded by the same `decode` functions as the HTTP transport, so both transports mean the
//! same thing by every payload.

use std::sync::Arc;

use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::decode::{self, CommandForm};
use super::inbound::{Ack, SlackInbound};
use crate::config::SlackSettings;

/// A running Socket Mode listener.
pub struct SocketMode {
    listener: SlackClientSocketModeListener<super::client::Connector>,
}

#[derive(Debug, thiserror::Error)]
pub enum SocketModeError {
    #[error("Socket Mode needs an app-level token ({})", crate::config::SLACK_APP_TOKEN_ENV)]
    NoAppToken,
    #[error(transparent)]
    Client(#[from] super::client::ClientError),
    #[error("could not open a Socket Mode connection: {0}")]
    Connect(#[from] SlackClientError),
}

/// What the callbacks need, kept in the listener's user state.
struct SocketState {
    inbound: SlackInbound,
    settings: Arc<SlackSettings>,
}

impl SocketMode {
    /// Connects and starts dispatching envelopes to `inbound`.
    pub async fn start(inbound: SlackInbound) -> Result<SocketMode, SocketModeError> {
        let settings = Arc::new(inbound.services.setup().settings.slack.clone());
        let app_token = settings
            .app_token
            .as_ref()
            .map(super::client::api_token)
            .ok_or(SocketModeError::NoAppToken)?;
        let client = Arc::new(super::client::client(&settings)?);
        let callbacks = SlackSocketModeListenerCallbacks::new()
            .with_command_events(on_command)
            .with_interaction_events(on_interaction)
            .with_push_events(on_push_event);
        let environment = Arc::new(
            SlackClientEventsListenerEnvironment::new(client)
                .with_user_state(SocketState { inbound, settings }),
        );
        let listener = SlackClientSocketModeListener::new(
            &SlackClientSocketModeConfig::new(),
            environment,
            callbacks,
        );
        listener.listen_for(&app_token).await?;
        listener.start().await;
        Ok(SocketMode { listener })
    }

    pub async fn shutdown(&self) {
        self.listener.shutdown().await;
    }
}

async fn state(states: &SlackClientEventsUserState) -> Option<(SlackInbound, Arc<SlackSettings>)> {
    let states = states.read().await;
    states.get_user_state::<SocketState>().map(|s| (s.inbound.clone(), s.settings.clone()))
}

fn missing_state() -> Box<dyn std::error::Error + Send + Sync> {
    "socket mode listener without Steward's state".into()
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SlackHyperClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let (inbound, settings) = state(&states).await.ok_or_else(missing_state)?;
    let form = CommandForm {
        command: event.command.to_string(),
        text: event.text.unwrap_or_default(),
        user_id: event.user_id.to_string(),
        channel_id: event.channel_id.to_string(),
        trigger_id: event.trigger_id.to_string(),
        team_id: Some(event.team_id.to_string()),
    };
    let body = match inbound.handle(decode::command(&settings, form)).await {
        Ack::Body(body) => body,
        Ack::Empty => serde_json::json!({}),
    };
    Ok(serde_json::from_value(body)?)
}

async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<SlackHyperClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackInteractionResponse> {
    let (inbound, _) = state(&states).await.ok_or_else(missing_state)?;
    let payload = serde_json::to_value(&event)?;
    let ack = inbound.handle(decode::interaction(&payload)).await;
    // A `block_suggestion`'s options travel in the ack payload, as in the HTTP response.
    match (event, ack) {
        (SlackInteractionEvent::BlockSuggestion(_), Ack::Body(body)) => {
            let options: SlackBlockSuggestionResponse = serde_json::from_value(body)?;
            Ok(SlackInteractionResponse::BlockSuggestion(options))
        }
        _ => Ok(SlackInteractionResponse::Empty),
    }
}

async fn on_push_event(
    event: SlackPushEventCallback,
    _client: Arc<SlackHyperClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let (inbound, _) = state(&states).await.ok_or_else(missing_state)?;
    let mut body = serde_json::to_value(&event)?;
    body["type"] = serde_json::json!("event_callback");
    let pin_emoji = &inbound.services.setup().settings.incident.pin_emoji_slack;
    inbound.handle(decode::event(&body, pin_emoji)).await;
    Ok(())
}
