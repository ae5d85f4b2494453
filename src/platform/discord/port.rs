//! The outbox's way out to Discord: create messages (with the outbox row's nonce and
//! `enforce_nonce`, so a retried send cannot post twice; a message's file goes in the same
//! request as `multipart/form-data`), edit living cards in place, post an
//! item's history in a thread started from its card, and DM people.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value, json};
use serenity::builder::CreateAttachment;
use serenity::http::{LightMethod, Route};
use serenity::model::id::{ChannelId, GuildId, MessageId, UserId};

use super::render;
use super::rest::{CallError, Rest, codes, snowflake};
use crate::domain::ids::Platform;
use crate::domain::incident::RoomOp;
use crate::domain::messages::discord as text;
use crate::domain::reply::{Message, MessageRef};
use crate::services::ports::{ChatPort, Delivery, SendError};

/// How long an idle thread stays open (minutes): a week.
const THREAD_ARCHIVE_MINUTES: u32 = 10080;

pub struct DiscordChat {
    rest: Arc<Rest>,
    /// Discord user id → DM channel id (stable per user, so asked for once).
    dm_channels: Mutex<HashMap<String, String>>,
    /// Thread ids known to exist (a thread started from a message has the message's id);
    /// bounded by `platform::cache`, like the DM channels.
    threads: Mutex<HashSet<String>>,
}

impl DiscordChat {
    pub fn new(rest: Arc<Rest>) -> DiscordChat {
        DiscordChat { rest, dm_channels: Mutex::default(), threads: Mutex::default() }
    }

    async fn create(
        &self,
        delivery: Delivery,
        channel: &str,
        message: &Message,
    ) -> Result<MessageRef, CallError> {
        let channel_id = snowflake(channel, "channel")?;
        let route = || Route::ChannelMessages { channel_id: ChannelId::new(channel_id) };
        let key = format!("POST channels/{channel_id}/messages");
        let with_nonce = |mut body: Value| {
            body["nonce"] = json!(delivery.nonce());
            body["enforce_nonce"] = json!(true);
            body
        };
        let created = match message.attachments.first() {
            Some(file) => {
                // One request with the file, so the nonce covers it too: a retry cannot
                // post the message (or the file) twice.
                let body = with_nonce(render::message_with_file(message));
                let files = vec![CreateAttachment::bytes(file.data.clone(), file.filename.clone())];
                match self
                    .rest
                    .call_with_files(&key, route(), LightMethod::Post, &body, files)
                    .await
                {
                    // Too large for the channel: the message goes without it, with its
                    // fallback text in its place.
                    Err(err) if err.code == Some(codes::ENTITY_TOO_LARGE) => {
                        tracing::warn!(outbox_id = delivery.outbox_id, "discord refused the file");
                        let body = with_nonce(render::message(message));
                        self.rest.call(&key, route(), LightMethod::Post, Some(&body)).await?
                    }
                    other => other?,
                }
            }
            None => {
                let body = with_nonce(render::message(message));
                self.rest.call(&key, route(), LightMethod::Post, Some(&body)).await?
            }
        };
        let id = created.get("id").and_then(Value::as_str).ok_or_else(|| CallError {
            error: SendError::Permanent { reason: "created message has no id".into() },
            code: None,
        })?;
        Ok(MessageRef { channel: channel.to_owned(), message_id: id.to_owned() })
    }

    /// Starts the thread on `parent` unless it is known to exist; returns the thread id.
    async fn ensure_thread(&self, parent: &MessageRef, name: &str) -> Result<String, CallError> {
        let thread = parent.message_id.clone();
        if self.threads.lock().unwrap_or_else(|e| e.into_inner()).contains(&thread) {
            return Ok(thread);
        }
        let channel_id = snowflake(&parent.channel, "channel")?;
        let message_id = snowflake(&parent.message_id, "message")?;
        let route = Route::ChannelMessageThreads {
            channel_id: ChannelId::new(channel_id),
            message_id: MessageId::new(message_id),
        };
        let body = json!({ "name": name, "auto_archive_duration": THREAD_ARCHIVE_MINUTES });
        let key = format!("POST channels/{channel_id}/messages/threads");
        match self.rest.call(&key, route, LightMethod::Post, Some(&body)).await {
            Ok(_) => {}
            // Started before (by an earlier process): fine.
            Err(err) if err.code == Some(codes::THREAD_ALREADY_CREATED) => {}
            Err(err) => return Err(err),
        }
        let mut known = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        crate::platform::cache::insert_bounded_set(&mut known, thread.clone());
        Ok(thread)
    }

    /// Starts a post in a forum channel (`POST /channels/{forum}/threads`): its thread's id.
    async fn forum_post(
        &self,
        forum: &str,
        name: &str,
        text: &str,
        tags: &[String],
    ) -> Result<String, CallError> {
        let forum_id = snowflake(forum, "forum channel")?;
        let route = Route::ChannelForumPosts { channel_id: ChannelId::new(forum_id) };
        // The first message is rendered like any other: within the content limit whatever
        // the title's length, and pinging nobody.
        let message = render::message(&Message::text(text));
        let body = json!({ "name": name, "auto_archive_duration": THREAD_ARCHIVE_MINUTES,
            "message": message, "applied_tags": tags });
        let key = format!("POST channels/{forum_id}/threads");
        let post = self.rest.call(&key, route, LightMethod::Post, Some(&body)).await?;
        let id = post.get("id").and_then(Value::as_str).ok_or_else(|| CallError {
            error: SendError::Permanent { reason: "forum post has no id".into() },
            code: None,
        })?;
        Ok(id.to_owned())
    }

    /// The active post `name` in `forum`, if an earlier try made it: the forum's guild
    /// (`GET /channels/{forum}`), then the guild's active threads.
    async fn find_forum_post(&self, forum: &str, name: &str) -> Result<Option<String>, CallError> {
        let forum_id = snowflake(forum, "forum channel")?;
        let route = Route::Channel { channel_id: ChannelId::new(forum_id) };
        let channel = self
            .rest
            .call(&format!("GET channels/{forum_id}"), route, LightMethod::Get, None)
            .await?;
        let guild = channel.get("guild_id").and_then(Value::as_str).unwrap_or_default();
        let guild_id = snowflake(guild, "guild")?;
        let route = Route::GuildThreadsActive { guild_id: GuildId::new(guild_id) };
        let key = format!("GET guilds/{guild_id}/threads/active");
        let active = self.rest.call(&key, route, LightMethod::Get, None).await?;
        let threads = active.get("threads").and_then(Value::as_array).cloned().unwrap_or_default();
        let made = threads.iter().find(|t| {
            t.get("parent_id").and_then(Value::as_str) == Some(forum)
                && t.get("name").and_then(Value::as_str) == Some(name)
        });
        Ok(made.and_then(|t| t.get("id")).and_then(Value::as_str).map(str::to_owned))
    }

    async fn dm_channel(&self, user: &str) -> Result<String, CallError> {
        if let Some(channel) = self.dm_channels.lock().unwrap_or_else(|e| e.into_inner()).get(user)
        {
            return Ok(channel.clone());
        }
        let recipient = snowflake(user, "user")?;
        let body = json!({ "recipient_id": recipient.to_string() });
        let channel = self
            .rest
            .call(
                "POST users/@me/channels",
                Route::UserMeDmChannels,
                LightMethod::Post,
                Some(&body),
            )
            .await?;
        let id = channel.get("id").and_then(Value::as_str).ok_or_else(|| CallError {
            error: SendError::Permanent { reason: "DM channel has no id".into() },
            code: None,
        })?;
        let mut cached = self.dm_channels.lock().unwrap_or_else(|e| e.into_inner());
        crate::platform::cache::insert_bounded(&mut cached, user.to_owned(), id.to_owned());
        Ok(id.to_owned())
    }
}

#[async_trait]
impl ChatPort for DiscordChat {
    fn platform(&self) -> Platform {
        Platform::Discord
    }

    async fn post(
        &self,
        delivery: Delivery,
        channel: &str,
        message: &Message,
        thread: Option<&MessageRef>,
    ) -> Result<MessageRef, SendError> {
        let target = match thread {
            Some(parent) => {
                let name = text::thread_name(message.thread_of.as_deref().unwrap_or("history"));
                self.ensure_thread(parent, &name).await.map_err(|e| e.error)?
            }
            None => channel.to_owned(),
        };
        self.create(delivery, &target, message).await.map_err(|e| e.error)
    }

    async fn update(
        &self,
        _delivery: Delivery,
        at: &MessageRef,
        message: &Message,
    ) -> Result<(), SendError> {
        let channel_id = snowflake(&at.channel, "channel").map_err(|e| e.error)?;
        let message_id = snowflake(&at.message_id, "message").map_err(|e| e.error)?;
        let route = Route::ChannelMessage {
            channel_id: ChannelId::new(channel_id),
            message_id: MessageId::new(message_id),
        };
        let key = format!("PATCH channels/{channel_id}/messages");
        let body = render::message(message);
        match self.rest.call(&key, route, LightMethod::Patch, Some(&body)).await {
            Ok(_) => Ok(()),
            Err(err) => Err(err.error),
        }
    }

    async fn direct_message(
        &self,
        delivery: Delivery,
        user: &str,
        message: &Message,
    ) -> Result<MessageRef, SendError> {
        let channel = self.dm_channel(user).await.map_err(|e| e.error)?;
        self.create(delivery, &channel, message).await.map_err(|e| e.error)
    }

    /// A Discord war room is a thread started from the summary card (a retry finds it
    /// started: "thread already created"); members are added one by one. A 429 on either is
    /// a wait (`Paced`), however long its `retry_after`: the room comes late, once.
    async fn room(
        &self,
        delivery: Delivery,
        op: &RoomOp,
        pinned: Option<&MessageRef>,
    ) -> Result<Option<String>, SendError> {
        match (op, pinned) {
            (RoomOp::Thread { name, .. }, Some(card)) => {
                self.ensure_thread(card, name).await.map(Some).map_err(|e| e.error)
            }
            (RoomOp::ForumPost { forum, name, text, tags, .. }, _) => {
                // A retry may follow a post whose answer was lost: find it before posting
                // again (Discord has no nonce for forum posts; the name holds the id).
                if delivery.attempt > 1
                    && let Some(made) =
                        self.find_forum_post(forum, name).await.map_err(|e| e.error)?
                {
                    return Ok(Some(made));
                }
                self.forum_post(forum, name, text, tags).await.map(Some).map_err(|e| e.error)
            }
            (RoomOp::AddMember { channel, user }, _) => {
                let channel_id = snowflake(channel, "channel").map_err(|e| e.error)?;
                let user_id = snowflake(user, "user").map_err(|e| e.error)?;
                let route = Route::ChannelThreadMember {
                    channel_id: ChannelId::new(channel_id),
                    user_id: UserId::new(user_id),
                };
                let key = format!("PUT channels/{channel_id}/thread-members");
                self.rest.call(&key, route, LightMethod::Put, None).await.map_err(|e| e.error)?;
                Ok(None)
            }
            _ => Err(SendError::Permanent { reason: format!("not a Discord room step: {op:?}") }),
        }
    }
}
