//! [`ChatPort`] for Slack: `chat.postMessage` (with `thread_ts` for history lines),
//! `chat.update` for living cards, `conversations.open` (once per user) + post for DMs.
//!
//! - Pacing: at most one post per channel per `slack.channel_pacing_ms` (Slack allows about
//!   one message per second per channel); an early post is `SendError::Paced`, which the
//!   dispatcher reschedules without counting an attempt. Time comes from the services' clock.
//! - Rate limits: a 429 pauses its method for every message ([`MethodPauses`]) for Slack's
//!   `Retry-After`, and is `Paced` too: the request was refused, nothing arrived, so waiting
//!   spends no attempt.
//! - Errors: 5xx and connection trouble → `Retryable` (the dispatcher backs off with jitter);
//!   Slack errors that retrying cannot fix (`channel_not_found`, `not_in_channel`,
//!   `is_archived`, `invalid_auth`, …) → `Permanent`.
//! - Tokens: every call goes out with the token of the outbox row's workspace
//!   ([`TeamTokens`]); a token Slack refuses is read again once and the call repeated with
//!   the new one.
//! - Idempotency: every post carries message metadata (`event_type` [`METADATA_EVENT`],
//!   payload `outbox_id`). A retry (attempt > 1) whose earlier try may have arrived first
//!   looks for that metadata — in `conversations.history` for a top-level post, in
//!   `conversations.replies` on the parent for a thread reply (history lists top-level
//!   messages only) — and returns the found message instead of posting a second one. A failed
//!   look-up is never permanent: posting blind could duplicate, so it is retried.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::client::SlackApi;
use super::rate_limits::{DEFAULT_PAUSE, MethodPauses};
use super::render;
use super::team_tokens::{AUTH_ERRORS, TeamTokens};
use crate::domain::ids::Platform;
use crate::domain::incident::RoomOp;
use crate::domain::incident::room::slack_thread_room;
use crate::domain::reply::{Message, MessageRef};
use crate::domain::workspace;
use crate::services::ports::{ChatPort, Clock, Delivery, SendError, UploadLedger};
use crate::services::uploads::MemoryUploads;

/// The message metadata event type that marks Steward's outbox messages.
pub const METADATA_EVENT: &str = "steward_outbox";
/// How far back a reconciling retry looks (messages in the channel, newest first).
const RECONCILE_LOOKBACK: u16 = 100;

/// Channels per `conversations.list` page when looking for a room channel by name.
const LIST_PAGE: u16 = 200;
/// Most pages read when looking for a room channel by name (200,000 channels).
const LIST_PAGES_MAX: usize = 1_000;

/// Slack errors of a room step that say it was already done (by an earlier try).
const ALREADY_DONE: &[&str] = &["already_in_channel", "already_pinned", "already_archived"];

/// Slack error codes that retrying cannot fix.
const PERMANENT_ERRORS: &[&str] = &[
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "missing_scope",
    "no_permission",
    "restricted_action",
    "msg_too_long",
    "invalid_blocks",
    "invalid_arguments",
    "no_text",
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
    "user_not_found",
    "user_disabled",
    "cannot_dm_bot",
];

pub struct SlackChat {
    /// The client, and the token of the default workspace.
    api: SlackApi,
    /// The token of each call's workspace.
    tokens: Arc<TeamTokens>,
    clock: Arc<dyn Clock>,
    pacing: chrono::Duration,
    /// When each channel may next be posted to.
    next_post: Mutex<HashMap<String, DateTime<Utc>>>,
    /// Methods paused by a 429, per workspace (Slack counts its limits per workspace), shared
    /// by every message of that workspace.
    pauses: Mutex<HashMap<Option<String>, Arc<MethodPauses>>>,
    /// Slack user id (qualified by its workspace, `T…:U…`) → DM channel id (stable per
    /// user, so opened once per process; bounded by `platform::cache`).
    dm_channels: Mutex<HashMap<String, String>>,
    /// Where each file upload's steps are remembered (`files`).
    uploads: Arc<dyn UploadLedger>,
}

impl SlackChat {
    pub fn new(api: SlackApi, clock: Arc<dyn Clock>, pacing: Duration) -> SlackChat {
        let pacing = chrono::Duration::from_std(pacing).unwrap_or(chrono::Duration::seconds(1));
        SlackChat {
            tokens: Arc::new(TeamTokens::fixed(api.token.clone())),
            api,
            clock,
            pacing,
            next_post: Mutex::default(),
            pauses: Mutex::default(),
            dm_channels: Mutex::default(),
            uploads: Arc::new(MemoryUploads::default()),
        }
    }

    /// Remembers file uploads in `ledger` (the database in `serve`) instead of in memory.
    pub fn with_uploads(mut self, ledger: Arc<dyn UploadLedger>) -> SlackChat {
        self.uploads = ledger;
        self
    }

    /// Picks each call's token from `tokens` (installed workspaces) instead of always the
    /// environment's.
    pub fn with_tokens(mut self, tokens: Arc<TeamTokens>) -> SlackChat {
        self.tokens = tokens;
        self
    }

    pub(super) fn uploads(&self) -> &dyn UploadLedger {
        self.uploads.as_ref()
    }

    /// Runs `call` with the token of the delivery's workspace; when Slack refuses that token
    /// (the team reinstalled, or its token rotated, meanwhile), once more with the token
    /// read again, if it is another one.
    async fn authed<T, F, Fut>(&self, delivery: &Delivery, call: F) -> Result<T, SendError>
    where
        F: Fn(SlackApi) -> Fut,
        Fut: Future<Output = Result<T, SendError>>,
    {
        let team = delivery.workspace.as_deref();
        let token = self.tokens.token(team).await?;
        match call(self.api.in_workspace(team, token.clone())).await {
            Err(SendError::Permanent { reason }) if AUTH_ERRORS.contains(&reason.as_str()) => {
                match self.tokens.after_refusal(team, &token).await? {
                    Some(fresh) => call(self.api.in_workspace(team, fresh)).await,
                    None => Err(SendError::Permanent { reason }),
                }
            }
            other => other,
        }
    }

    /// The pauses of `workspace`'s methods.
    fn pauses_of(&self, workspace: Option<&str>) -> Arc<MethodPauses> {
        let mut pauses = self.pauses.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = pauses.get(&workspace.map(str::to_owned)) {
            return found.clone();
        }
        let fresh = Arc::new(MethodPauses::default());
        let key = workspace.map(str::to_owned);
        crate::platform::cache::insert_bounded(&mut pauses, key, fresh.clone());
        fresh
    }

    /// `Paced` while `method` is paused by an earlier 429 in `workspace`.
    pub(super) fn admit(
        &self,
        workspace: Option<&str>,
        method: &'static str,
    ) -> Result<(), SendError> {
        match self.pauses_of(workspace).wait(method, self.clock.now()) {
            Some(retry_after) => Err(SendError::Paced { retry_after }),
            None => Ok(()),
        }
    }

    /// Maps a failed call of `method`; a 429 pauses the method for every message.
    pub(super) fn failed(
        &self,
        workspace: Option<&str>,
        method: &'static str,
        err: SlackClientError,
    ) -> SendError {
        let error = send_error(err);
        if let SendError::Paced { retry_after } = &error {
            self.pauses_of(workspace).pause(method, *retry_after, self.clock.now());
            crate::telemetry::metrics::rate_limited("slack", method);
        }
        error
    }

    /// Claims the channel's next slot, or says how long to wait for it.
    fn pace(&self, channel: &str) -> Result<(), SendError> {
        let now = self.clock.now();
        let mut next = self.next_post.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = next.get(channel)
            && *at > now
        {
            let retry_after = (*at - now).to_std().unwrap_or_default();
            return Err(SendError::Paced { retry_after });
        }
        // Slots in the past say nothing: dropped once the map is full, so it stays bounded.
        if next.len() >= crate::platform::cache::CACHE_LIMIT {
            next.retain(|_, at| *at > now);
        }
        crate::platform::cache::insert_bounded(&mut next, channel.to_owned(), now + self.pacing);
        Ok(())
    }

    /// Posts (the channel's pacing slot already claimed), unless an earlier attempt had
    /// arrived; then shares the message's files.
    async fn post_to(
        &self,
        api: &SlackApi,
        delivery: &Delivery,
        channel: &str,
        message: &Message,
        thread: Option<&MessageRef>,
    ) -> Result<MessageRef, SendError> {
        let found = match delivery.attempt > 1 {
            true => self.find_posted(api, delivery, channel, thread).await?,
            false => None,
        };
        let posted = match found {
            Some(found) => {
                tracing::info!(outbox_id = delivery.outbox_id, "earlier attempt had arrived");
                found
            }
            None => {
                let content = render::content(message).with_metadata(metadata(delivery));
                let request = SlackApiChatPostMessageRequest::new(channel.into(), content)
                    .opt_thread_ts(thread.map(|t| SlackTs::new(t.message_id.clone())));
                let response = api
                    .session()
                    .chat_post_message(&request)
                    .await
                    .map_err(|e| self.failed(api.workspace(), "chat.postMessage", e))?;
                MessageRef {
                    channel: response.channel.to_string(),
                    message_id: response.ts.to_string(),
                }
            }
        };
        if !message.attachments.is_empty() {
            self.share_files(api, delivery, &posted, thread, message).await?;
        }
        Ok(posted)
    }

    /// The message an earlier attempt of `delivery` posted, if Slack has it: among the
    /// parent's replies for a thread reply, in the channel's history otherwise.
    async fn find_posted(
        &self,
        api: &SlackApi,
        delivery: &Delivery,
        channel: &str,
        thread: Option<&MessageRef>,
    ) -> Result<Option<MessageRef>, SendError> {
        let messages = match thread {
            Some(parent) => self.replies(api, channel, parent).await,
            None => self.history(api, channel).await,
        }?;
        let id = delivery.outbox_id.to_string();
        let found = messages.iter().find(|m| {
            m.content.metadata.as_ref().is_some_and(|meta| {
                meta.event_type == METADATA_EVENT
                    && meta.event_payload.as_ref().and_then(|p| p.get("outbox_id")) == Some(&id)
            })
        });
        Ok(found.map(|m| MessageRef {
            channel: channel.to_owned(),
            message_id: m.origin.ts.to_string(),
        }))
    }

    async fn history(
        &self,
        api: &SlackApi,
        channel: &str,
    ) -> Result<Vec<SlackHistoryMessage>, SendError> {
        const METHOD: &str = "conversations.history";
        self.admit(api.workspace(), METHOD)?;
        let request = SlackApiConversationsHistoryRequest::new()
            .with_channel(channel.into())
            .with_limit(RECONCILE_LOOKBACK)
            .with_include_all_metadata(true);
        match api.session().conversations_history(&request).await {
            Ok(history) => Ok(history.messages),
            Err(err) => Err(self.lookup_failed(api.workspace(), METHOD, err)),
        }
    }

    async fn replies(
        &self,
        api: &SlackApi,
        channel: &str,
        parent: &MessageRef,
    ) -> Result<Vec<SlackHistoryMessage>, SendError> {
        const METHOD: &str = "conversations.replies";
        self.admit(api.workspace(), METHOD)?;
        let params = [
            ("channel", Some(channel.to_owned())),
            ("ts", Some(parent.message_id.clone())),
            ("limit", Some(RECONCILE_LOOKBACK.to_string())),
            ("include_all_metadata", Some("true".to_owned())),
        ];
        let found: Result<SlackApiConversationsRepliesResponse, _> =
            api.get_method(METHOD, &params).await;
        match found {
            Ok(replies) => Ok(replies.messages),
            Err(err) => Err(self.lookup_failed(api.workspace(), METHOD, err)),
        }
    }

    /// A look-up that failed is retried, never permanent: without it a retry could post a
    /// second copy, and the message itself may well be deliverable.
    fn lookup_failed(
        &self,
        workspace: Option<&str>,
        method: &'static str,
        err: SlackClientError,
    ) -> SendError {
        match self.failed(workspace, method, err) {
            // A refused token is refused for the post too: it is read again instead.
            SendError::Permanent { reason } if AUTH_ERRORS.contains(&reason.as_str()) => {
                SendError::Permanent { reason }
            }
            SendError::Permanent { reason } => SendError::Retryable {
                reason: format!("{method} (checking for an earlier attempt): {reason}"),
                retry_after: None,
            },
            other => other,
        }
    }

    /// `conversations.create`; on `name_taken` (an earlier try made it, or anyone else did)
    /// the channel of that name is found instead: never a second channel.
    async fn create_room(&self, api: &SlackApi, name: &str) -> Result<String, SendError> {
        self.admit(api.workspace(), "conversations.create")?;
        let request = SlackApiConversationsCreateRequest::new(name.to_owned());
        match api.session().conversations_create(&request).await {
            Ok(made) => Ok(made.channel.id.to_string()),
            Err(SlackClientError::ApiError(error)) if error.code == "name_taken" => {
                self.find_channel(api, name).await
            }
            Err(err) => Err(self.failed(api.workspace(), "conversations.create", err)),
        }
    }

    /// The channel named `name` (archived ones too: their names stay taken), page by page.
    async fn find_channel(&self, api: &SlackApi, name: &str) -> Result<String, SendError> {
        let mut cursor: Option<SlackCursorId> = None;
        for _ in 0..LIST_PAGES_MAX {
            self.admit(api.workspace(), "conversations.list")?;
            let request = SlackApiConversationsListRequest::new()
                .with_limit(LIST_PAGE)
                .with_exclude_archived(false)
                .with_types(vec![SlackConversationType::Public, SlackConversationType::Private])
                .opt_cursor(cursor.take());
            let page = api
                .session()
                .conversations_list(&request)
                .await
                .map_err(|e| self.lookup_failed(api.workspace(), "conversations.list", e))?;
            if let Some(found) = page.channels.iter().find(|c| c.name.as_deref() == Some(name)) {
                return Ok(found.id.to_string());
            }
            cursor = page.response_metadata.and_then(|m| m.next_cursor);
            if cursor.as_ref().is_none_or(|c| c.value().is_empty()) {
                break;
            }
        }
        // Taken but not visible (yet): looking again later may find it; making another
        // channel would split the room.
        Err(SendError::Retryable {
            reason: format!("`{name}` is taken but not listed"),
            retry_after: None,
        })
    }

    /// Maps a room step's result: "already done" is done.
    fn step_done<T>(
        &self,
        api: &SlackApi,
        method: &'static str,
        result: Result<T, SlackClientError>,
    ) -> Result<Option<String>, SendError> {
        match result {
            Ok(_) => Ok(None),
            Err(SlackClientError::ApiError(api)) if ALREADY_DONE.contains(&api.code.as_str()) => {
                Ok(None)
            }
            Err(err) => Err(self.failed(api.workspace(), method, err)),
        }
    }

    /// The DM channel with `user` (known as `key` in the cache: qualified by its workspace),
    /// opened once and remembered.
    async fn dm_channel(&self, api: &SlackApi, key: &str, user: &str) -> Result<String, SendError> {
        if let Some(channel) = self.dm_channels.lock().unwrap_or_else(|e| e.into_inner()).get(key) {
            return Ok(channel.clone());
        }
        self.admit(api.workspace(), "conversations.open")?;
        let request = SlackApiConversationsOpenRequest::new().with_users(vec![user.into()]);
        let opened = api
            .session()
            .conversations_open(&request)
            .await
            .map_err(|e| self.failed(api.workspace(), "conversations.open", e))?;
        let channel = opened.channel.id.to_string();
        let mut cached = self.dm_channels.lock().unwrap_or_else(|e| e.into_inner());
        crate::platform::cache::insert_bounded(&mut cached, key.to_owned(), channel.clone());
        Ok(channel)
    }
}

pub(super) fn metadata(delivery: &Delivery) -> SlackMessageMetadata {
    let payload = HashMap::from([("outbox_id".to_owned(), delivery.outbox_id.to_string())]);
    SlackMessageMetadata { event_type: METADATA_EVENT.to_owned(), event_payload: Some(payload) }
}

/// Slack client errors → what the dispatcher should do.
pub fn send_error(err: SlackClientError) -> SendError {
    let retryable = |reason: String| SendError::Retryable { reason, retry_after: None };
    match err {
        // Refused before anything happened: a wait, not a failed attempt.
        SlackClientError::RateLimitError(limit) => {
            SendError::Paced { retry_after: limit.retry_after.unwrap_or(DEFAULT_PAUSE) }
        }
        SlackClientError::ApiError(api) if PERMANENT_ERRORS.contains(&api.code.as_str()) => {
            SendError::Permanent { reason: api.code }
        }
        SlackClientError::ApiError(api) => retryable(api.code),
        SlackClientError::HttpError(http) if http.status_code.is_server_error() => {
            retryable(format!("HTTP {}", http.status_code))
        }
        SlackClientError::HttpError(http) => {
            SendError::Permanent { reason: format!("HTTP {}", http.status_code) }
        }
        other => retryable(other.to_string()),
    }
}

#[async_trait]
impl ChatPort for SlackChat {
    fn platform(&self) -> Platform {
        Platform::Slack
    }

    async fn post(
        &self,
        delivery: Delivery,
        channel: &str,
        message: &Message,
        thread: Option<&MessageRef>,
    ) -> Result<MessageRef, SendError> {
        self.admit(delivery.workspace.as_deref(), "chat.postMessage")?;
        self.pace(channel)?;
        let delivery = &delivery;
        self.authed(delivery, |api| async move {
            self.post_to(&api, delivery, channel, message, thread).await
        })
        .await
    }

    async fn update(
        &self,
        delivery: Delivery,
        at: &MessageRef,
        message: &Message,
    ) -> Result<(), SendError> {
        // An update is idempotent: repeating it leaves the same message.
        self.admit(delivery.workspace.as_deref(), "chat.update")?;
        let request = SlackApiChatUpdateRequest::new(
            at.channel.as_str().into(),
            render::content(message),
            SlackTs::new(at.message_id.clone()),
        );
        let request = &request;
        self.authed(&delivery, |api| async move {
            api.session()
                .chat_update(request)
                .await
                .map_err(|e| self.failed(api.workspace(), "chat.update", e))
        })
        .await?;
        Ok(())
    }

    async fn direct_message(
        &self,
        delivery: Delivery,
        user: &str,
        message: &Message,
    ) -> Result<MessageRef, SendError> {
        let key = workspace::qualify(delivery.workspace.as_deref(), user);
        self.admit(delivery.workspace.as_deref(), "chat.postMessage")?;
        // Paced per person: the DM channel is theirs alone.
        self.pace(&format!("dm:{key}"))?;
        let (delivery, key) = (&delivery, key.as_str());
        self.authed(delivery, |api| async move {
            let channel = self.dm_channel(&api, key, user).await?;
            self.post_to(&api, delivery, &channel, message, None).await
        })
        .await
    }

    async fn room(
        &self,
        delivery: Delivery,
        op: &RoomOp,
        pinned: Option<&MessageRef>,
    ) -> Result<Option<String>, SendError> {
        self.authed(&delivery, |api| async move { self.room_step(&api, op, pinned).await }).await
    }

    async fn publish_home(
        &self,
        delivery: Delivery,
        user: &str,
        message: &Message,
    ) -> Result<(), SendError> {
        // Publishing replaces the whole view: repeating it leaves the same home.
        self.admit(delivery.workspace.as_deref(), "views.publish")?;
        let card = message.card.clone().unwrap_or_default();
        let request = SlackApiViewsPublishRequest::new(
            SlackUserId::new(user.to_owned()),
            render::home(&card),
        );
        let request = &request;
        self.authed(&delivery, |api| async move {
            api.session()
                .views_publish(request)
                .await
                .map_err(|e| self.failed(api.workspace(), "views.publish", e))
        })
        .await?;
        Ok(())
    }
}

impl SlackChat {
    /// One step of a war room, with `api`'s token.
    async fn room_step(
        &self,
        api: &SlackApi,
        op: &RoomOp,
        pinned: Option<&MessageRef>,
    ) -> Result<Option<String>, SendError> {
        match op {
            RoomOp::Create { name, .. } => self.create_room(api, name).await.map(Some),
            RoomOp::Invite { channel, users } => {
                self.admit(api.workspace(), "conversations.invite")?;
                let users = users.iter().map(|u| SlackUserId::new(u.clone())).collect();
                let request = SlackApiConversationsInviteRequest::new(channel.into(), users);
                let invited = api.session().conversations_invite(&request).await;
                self.step_done(api, "conversations.invite", invited)
            }
            RoomOp::Pin { channel, .. } => {
                let Some(message) = pinned else {
                    return Err(SendError::Permanent { reason: "nothing to pin".into() });
                };
                self.admit(api.workspace(), "pins.add")?;
                let ts = SlackTs::new(message.message_id.clone());
                let request = SlackApiPinsAddRequest::new(channel.into(), ts);
                let pinned = api.session().pins_add(&request).await;
                self.step_done(api, "pins.add", pinned)
            }
            // `slack_room = "thread"`: the posted card's thread is the room, nothing to call.
            RoomOp::Thread { .. } => match pinned {
                Some(card) => Ok(Some(slack_thread_room(&card.channel, &card.message_id))),
                None => Err(SendError::Permanent { reason: "no card to thread on".into() }),
            },
            RoomOp::AddMember { .. } | RoomOp::ForumPost { .. } => {
                Err(SendError::Permanent { reason: format!("not a Slack room step: {op:?}") })
            }
            RoomOp::Archive { channel } => {
                self.admit(api.workspace(), "conversations.archive")?;
                let request = SlackApiConversationsArchiveRequest::new(channel.into());
                let archived = api.session().conversations_archive(&request).await;
                self.step_done(api, "conversations.archive", archived)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use slack_morphism::errors::{SlackClientApiError, SlackClientHttpError, SlackRateLimitError};

    use super::*;

    #[test]
    fn slack_errors_map_to_what_the_dispatcher_should_do() {
        let limited = SlackClientError::RateLimitError(
            SlackRateLimitError::new().with_retry_after(Duration::from_secs(30)),
        );
        assert_eq!(send_error(limited), SendError::Paced { retry_after: Duration::from_secs(30) });
        let api = |code: &str| SlackClientError::ApiError(SlackClientApiError::new(code.into()));
        for code in ["channel_not_found", "not_in_channel", "is_archived", "invalid_auth"] {
            assert_eq!(send_error(api(code)), SendError::Permanent { reason: code.into() });
        }
        assert!(matches!(send_error(api("internal_error")), SendError::Retryable { .. }));
        let http = |status: u16| {
            SlackClientError::HttpError(SlackClientHttpError::new(
                axum::http::StatusCode::from_u16(status).unwrap(),
            ))
        };
        assert!(matches!(send_error(http(503)), SendError::Retryable { .. }));
        assert!(matches!(send_error(http(404)), SendError::Permanent { .. }));
    }
}
