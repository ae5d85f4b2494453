//! The gateway way in: a serenity client whose event handler turns INTERACTION_CREATE into
//! the same decode/answer path as the HTTP endpoint, answering through the REST callback.
//! Reactions with the pin emoji in an incident's room thread go on its timeline
//! (`reactions`), and edits and deletes of captured messages follow them (`room_edits`);
//! other channel messages are only logged.

use serde_json::Value;
use serenity::all::{
    ChannelId, Context, EventHandler, GatewayIntents, GuildId, Interaction, Message, MessageId,
    MessageUpdateEvent, Reaction, ReactionType,
};
use serenity::client::ClientBuilder;
use tokio_util::sync::CancellationToken;

use super::interactions::Interactions;
use super::reactions::{self, GatewayReaction};
use super::rest::serenity_http;
use super::room_edits::{self, GatewayEdit};

struct Handler {
    interactions: Interactions,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        // serenity's model serialises back to Discord's JSON (all but the `type` tag, which
        // the enum variant carries): one decoder for both ways in.
        let kind = match &interaction {
            Interaction::Ping(_) => 1,
            Interaction::Command(_) => 2,
            Interaction::Component(_) => 3,
            Interaction::Autocomplete(_) => 4,
            Interaction::Modal(_) => 5,
            _ => 0,
        };
        let mut payload: Value = match serde_json::to_value(&interaction) {
            Ok(payload) => payload,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read a gateway interaction");
                return;
            }
        };
        payload["type"] = kind.into();
        let interactions = self.interactions.clone();
        // Each interaction on its own task, so a slow one does not hold up the next.
        tokio::spawn(async move {
            let answer = interactions.answer(&payload).await;
            if let Err(err) = interactions.callback(&payload, &answer.initial).await {
                tracing::warn!(error = %err, "could not answer a gateway interaction");
                return;
            }
            if let Some(pending) = answer.pending {
                interactions.finish(pending).await;
            }
        });
    }

    async fn reaction_add(&self, _ctx: Context, reaction: Reaction) {
        let Some(user) = reaction.user_id.map(|u| u.to_string()) else { return };
        let emoji = match &reaction.emoji {
            ReactionType::Unicode(emoji) => Some(emoji.as_str()),
            _ => None,
        };
        let (channel, message) = (reaction.channel_id.to_string(), reaction.message_id.to_string());
        let author = reaction.message_author_id.map(|a| a.to_string());
        let seen = GatewayReaction {
            user: &user,
            channel: &channel,
            message: &message,
            author: author.as_deref(),
            emoji,
        };
        let services = self.interactions.services();
        let Some(inbound) =
            reactions::capture(&seen, &services.setup().settings.incident.pin_emoji)
        else {
            return;
        };
        // Nobody waits for an answer to a reaction; a refusal (not a room, someone unknown)
        // wrote nothing.
        let reply = services.handle_inbound(inbound).await;
        tracing::debug!(channel = %channel, reply = ?reply.message.text, "room reaction");
    }

    async fn message_update(
        &self,
        _ctx: Context,
        _old: Option<Message>,
        _new: Option<Message>,
        event: MessageUpdateEvent,
    ) {
        let (channel, message) = (event.channel_id.to_string(), event.id.to_string());
        let author = event.author.as_ref().map(|a| a.id.to_string());
        let edited_at = event.edited_timestamp.and_then(|t| {
            let at = chrono::DateTime::parse_from_rfc3339(&t.to_string()).ok()?;
            Some(at.with_timezone(&chrono::Utc))
        });
        let seen = GatewayEdit {
            channel: &channel,
            message: &message,
            author: author.as_deref(),
            content: event.content.as_deref(),
            edited_at,
        };
        let Some(posted_at) = reactions::snowflake_time(&message) else { return };
        let Some(inbound) = room_edits::edited(&seen, posted_at) else { return };
        // Edits of messages not on a timeline are refused and write nothing.
        let reply = self.interactions.services().handle_inbound(inbound).await;
        tracing::debug!(channel = %channel, reply = ?reply.message.text, "room edit");
    }

    async fn message_delete(
        &self,
        _ctx: Context,
        channel_id: ChannelId,
        deleted_message_id: MessageId,
        _guild_id: Option<GuildId>,
    ) {
        let (channel, message) = (channel_id.to_string(), deleted_message_id.to_string());
        let Some(posted_at) = reactions::snowflake_time(&message) else { return };
        let inbound = room_edits::deleted(&channel, &message, posted_at);
        let reply = self.interactions.services().handle_inbound(inbound).await;
        tracing::debug!(channel = %channel, reply = ?reply.message.text, "room delete");
    }

    async fn message(&self, _ctx: Context, message: Message) {
        tracing::debug!(channel = %message.channel_id, author = %message.author.id, "message");
    }
}

/// Runs the gateway connection until `shutdown` (serenity reconnects and resumes by itself).
pub async fn run(
    interactions: Interactions,
    token: String,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let settings = interactions.services().setup().settings.discord.clone();
    let http = serenity_http(&settings, &token);
    let mut intents = GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::GUILD_MESSAGE_REACTIONS;
    if settings.message_content {
        intents |= GatewayIntents::MESSAGE_CONTENT;
    }
    let mut client =
        ClientBuilder::new_with_http(http, intents).event_handler(Handler { interactions }).await?;
    let shards = client.shard_manager.clone();
    tokio::select! {
        result = client.start() => result?,
        _ = shutdown.cancelled() => shards.shutdown_all().await,
    }
    Ok(())
}
