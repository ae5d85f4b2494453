//! One decoded Slack request through the services, then its reply where Slack shows it.
//!
//! Acknowledgement and replies (Slack wants an ack within 3 s, always):
//! - Slash commands are answered *in* the acknowledgement (HTTP response body or Socket Mode
//!   ack payload) with `response_type` `ephemeral` or `in_channel`, built from the committed
//!   reply. `handle_inbound` is one short transaction, so this fits the 3 s easily.
//! - Button clicks are acknowledged empty; their reply (usually "Acknowledged #42", the card
//!   itself is updated in place by the outbox with `chat.update`) goes to the interaction's
//!   `response_url` afterwards, as an ephemeral message. `response_url` needs no channel
//!   membership and works in DMs, which `chat.postEphemeral` does not.
//! - Modal submits and mentions have no `response_url`: their reply goes by
//!   `chat.postEphemeral` to the actor in the card's (or mention's) channel.
//! - A prompting button opens its modal with `views.open` before the ack, because the
//!   `trigger_id` expires 3 s after the click.
//! - An `external_select` in that modal asks for its options (`block_suggestion`) as the
//!   person types; they are the acknowledgement's body (`{"options": […]}`), read from the
//!   item and the directory without a transaction.
//!
//! Replies are sent only after the event's transaction committed (`handle_inbound` returns
//! after the commit), so nobody is told about a change that did not happen.

use serde_json::{Value, json};
use slack_morphism::errors::{SlackClientError, SlackClientSystemError};
use slack_morphism::prelude::*;

use std::sync::Arc;

use super::client::SlackApi;
use super::decode::{Decoded, PromptModal, ReplyRoute};
use super::render;
use super::team_tokens::TeamTokens;
use crate::domain::ids::Platform;
use crate::domain::reply::Reply;
use crate::services::Services;

/// What to acknowledge with.
#[derive(Debug, Clone, PartialEq)]
pub enum Ack {
    /// An empty acknowledgement.
    Empty,
    /// An acknowledgement with a JSON body (command reply, URL verification challenge).
    Body(Value),
}

/// Handles decoded Slack requests for both transports.
#[derive(Clone)]
pub struct SlackInbound {
    pub services: Services,
    pub api: SlackApi,
    /// The tokens of installed workspaces (the install callback forgets a reinstalled
    /// team's cached one).
    pub tokens: Arc<TeamTokens>,
}

impl SlackInbound {
    pub fn new(services: Services, api: SlackApi) -> SlackInbound {
        let tokens = Arc::new(TeamTokens::fixed(api.token.clone()));
        SlackInbound { services, api, tokens }
    }

    /// Shares `tokens` with the outbound port.
    pub fn with_tokens(mut self, tokens: Arc<TeamTokens>) -> SlackInbound {
        self.tokens = tokens;
        self
    }

    /// The client with the token of `workspace` (its installed one, else the environment's);
    /// a token that cannot be had is logged and the environment's tried.
    async fn api_for(&self, workspace: Option<&str>) -> SlackApi {
        match self.tokens.token(workspace).await {
            Ok(token) => self.api.in_workspace(workspace, token),
            Err(err) => {
                tracing::error!(error = %err, "slack: no token to answer with");
                self.api.clone()
            }
        }
    }

    /// Handles one request; returns the acknowledgement once its transaction committed.
    pub async fn handle(&self, decoded: Decoded) -> Ack {
        let api = self.api_for(decoded.workspace()).await;
        match decoded {
            Decoded::UrlVerification { challenge } => Ack::Body(json!({ "challenge": challenge })),
            Decoded::Ignored { why } => {
                tracing::debug!(%why, "slack request ignored");
                Ack::Empty
            }
            Decoded::HomeOpened { user, workspace } => {
                // Remembered, so later changes of theirs republish it (`services::home`).
                let services = &self.services;
                let ws = workspace.as_deref();
                if let Err(err) =
                    crate::services::home::opened(services, Platform::Slack, ws, &user).await
                {
                    tracing::warn!(error = %err, "home viewer not remembered");
                }
                self.spawn_reply(move |this| async move {
                    this.publish_home(&api, workspace.as_deref(), &user, None).await
                });
                Ack::Empty
            }
            Decoded::Suggest { user, action, typed, workspace } => {
                // One read of the item, filtered in memory: well within Slack's 3 s.
                let limit = render::limits::OPTIONS;
                let choices = self
                    .services
                    .prompt_choices(
                        Platform::Slack,
                        workspace.as_deref(),
                        &user,
                        &action,
                        &typed,
                        limit,
                    )
                    .await;
                Ack::Body(serde_json::to_value(render::options(&choices)).unwrap_or_default())
            }
            Decoded::OpenModal { trigger_id, modal, user, route, workspace } => {
                let action = &modal.metadata.action;
                let refused = self
                    .services
                    .refuse_before_prompt(Platform::Slack, workspace.as_deref(), &user, action)
                    .await;
                match refused {
                    Some(refusal) => self.answer(&api, workspace, refusal, route),
                    None => self.open_modal(&api, &trigger_id, &modal).await,
                }
            }
            Decoded::Inbound { inbound, route } => {
                // A redelivered event (Slack retries events; clicks and commands are not
                // retried) was answered the first time: handle it (the stored reply comes
                // back, nothing changes) but do not show the answer twice.
                let redelivery = matches!(route, ReplyRoute::Ephemeral { .. })
                    && self.services.already_handled(&inbound.dedupe_key).await;
                // `<@U…>` for a person argument means that person.
                let inbound = crate::domain::mention::resolve_inbound(
                    inbound,
                    &self.services.setup().directory,
                );
                let workspace = inbound.workspace.clone();
                let reply = self.services.handle_inbound(inbound).await;
                if redelivery {
                    return Ack::Empty;
                }
                self.answer(&api, workspace, reply, route)
            }
        }
    }

    /// Shows `reply` to the person by `route`: in the acknowledgement, or after it.
    fn answer(
        &self,
        api: &SlackApi,
        workspace: Option<String>,
        reply: Reply,
        route: ReplyRoute,
    ) -> Ack {
        let api = api.clone();
        match route {
            ReplyRoute::Ack => Ack::Body(command_response(&reply)),
            ReplyRoute::ResponseUrl(url) => {
                self.spawn_reply(move |this| async move {
                    this.reply_via_response_url(&url, &reply).await
                });
                Ack::Empty
            }
            ReplyRoute::Home { user } => {
                self.spawn_reply(move |this| async move {
                    this.publish_home(&api, workspace.as_deref(), &user, Some(&reply)).await
                });
                Ack::Empty
            }
            ReplyRoute::Ephemeral { channel, user } => {
                self.spawn_reply(move |this| async move {
                    this.reply_ephemeral(&api, &channel, &user, &reply).await
                });
                Ack::Empty
            }
        }
    }

    /// Publishes `user`'s App Home: what waits on them now, with `answer` (to a click on the
    /// home itself) on top.
    async fn publish_home(
        &self,
        api: &SlackApi,
        workspace: Option<&str>,
        user: &str,
        answer: Option<&Reply>,
    ) -> Result<(), SlackClientError> {
        let services = &self.services;
        let now = services.clock().now();
        let mut card = match services.setup().directory.resolve_in(Platform::Slack, workspace, user)
        {
            Some(person) => match crate::services::mine::card_now(services, person, now).await {
                Ok(card) => card,
                Err(err) => {
                    tracing::error!(error = %err, "home view not built");
                    return Ok(());
                }
            },
            None => crate::domain::reply::Card {
                title: crate::domain::messages::slack::APP_NAME.to_owned(),
                body: Some(crate::domain::messages::unknown_person(Platform::Slack, user)),
                ..Default::default()
            },
        };
        if let Some(text) = answer.and_then(|reply| reply.message.text.clone()) {
            card.body = Some(format!("{text}\n\n{}", card.body.unwrap_or_default()));
        }
        let request = SlackApiViewsPublishRequest::new(
            SlackUserId::new(user.to_owned()),
            render::home(&card),
        );
        api.session().views_publish(&request).await.map(|_| ())
    }

    async fn open_modal(&self, api: &SlackApi, trigger_id: &str, modal: &PromptModal) -> Ack {
        let request = SlackApiViewsOpenRequest::new(trigger_id.into(), render::modal(modal));
        match api.session().views_open(&request).await {
            Ok(_) => Ack::Empty,
            Err(err) => {
                tracing::warn!(error = %err, action = %modal.metadata.action, "views.open failed");
                // Only an expired trigger is a matter of time; anything else (Slack refused
                // the view, a reply the client could not decode) is not.
                let expired = matches!(&err, SlackClientError::ApiError(api)
                    if api.code == "expired_trigger_id" || api.code == "exchanged_trigger_id");
                let text = if expired {
                    crate::domain::messages::slack::modal_failed()
                } else {
                    crate::domain::messages::slack::modal_refused()
                };
                Ack::Body(json!({ "response_type": "ephemeral", "text": text }))
            }
        }
    }

    /// Sends a reply after the acknowledgement without holding it up.
    fn spawn_reply<F, Fut>(&self, send: F)
    where
        F: FnOnce(SlackInbound) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), SlackClientError>> + Send,
    {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(err) = send(this).await {
                tracing::warn!(error = %err, "could not show a reply on Slack");
            }
        });
    }

    async fn reply_via_response_url(
        &self,
        url: &str,
        reply: &Reply,
    ) -> Result<(), SlackClientError> {
        let url: url::Url = url.parse().map_err(|e: url::ParseError| {
            SlackClientError::SystemError(SlackClientSystemError::new().with_message(e.to_string()))
        })?;
        let request = SlackApiPostWebhookMessageRequest::new(render::content(&reply.message))
            .with_replace_original(false);
        let url = SlackResponseUrl::new(url);
        retry_rate_limited(|| self.api.client.respond_to_event(&url, &request)).await?;
        Ok(())
    }

    async fn reply_ephemeral(
        &self,
        api: &SlackApi,
        channel: &str,
        user: &str,
        reply: &Reply,
    ) -> Result<(), SlackClientError> {
        let request = SlackApiChatPostEphemeralRequest::new(
            channel.into(),
            user.into(),
            render::content(&reply.message),
        );
        retry_rate_limited(|| async { api.session().chat_post_ephemeral(&request).await }).await?;
        Ok(())
    }
}

/// How many times a reply refused with a 429 is tried again. A `response_url` takes five
/// uses within 30 minutes, so a few waits fit easily.
const REPLY_RATE_LIMIT_RETRIES: usize = 3;
/// The longest `Retry-After` a reply waits for; a longer one gives up (the user already has
/// the acknowledgement, and the change itself is committed and on its card).
const REPLY_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Calls `send` again after Slack's `Retry-After` while it is rate limited (a reply is not in
/// the outbox, so nobody else would retry it).
async fn retry_rate_limited<T, F, Fut>(mut send: F) -> Result<T, SlackClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SlackClientError>>,
{
    let mut retries = 0;
    loop {
        match send().await {
            Err(SlackClientError::RateLimitError(limit)) if retries < REPLY_RATE_LIMIT_RETRIES => {
                let wait = limit.retry_after.unwrap_or(std::time::Duration::from_secs(1));
                if wait > REPLY_MAX_WAIT {
                    return Err(SlackClientError::RateLimitError(limit));
                }
                retries += 1;
                tracing::info!(?wait, retries, "slack reply rate limited; trying again");
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}

/// The body that answers a slash command: the reply rendered, private unless it is not.
pub fn command_response(reply: &Reply) -> Value {
    let mut body = serde_json::to_value(render::content(&reply.message)).unwrap_or_default();
    let kind = if reply.ephemeral { "ephemeral" } else { "in_channel" };
    body["response_type"] = json!(kind);
    body
}
