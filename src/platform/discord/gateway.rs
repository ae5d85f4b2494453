//! The gateway way in: a serenity client whose event handler turns INTERACTION_CREATE into
//! the same decode/answer path as the HTTP endpoint, answering through the REST callback.
//! Channel messages arrive too (for war rooms later); today they are only logged.

use serde_json::Value;
use serenity::all::{Context, EventHandler, GatewayIntents, Interaction, Message};
use serenity::client::ClientBuilder;
use tokio_util::sync::CancellationToken;

use super::interactions::Interactions;
use super::rest::serenity_http;

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
    let settings = interactions.services().settings.discord.clone();
    let http = serenity_http(&settings, &token);
    let intents =
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES;
    let mut client =
        ClientBuilder::new_with_http(http, intents).event_handler(Handler { interactions }).await?;
    let shards = client.shard_manager.clone();
    tokio::select! {
        result = client.start() => result?,
        _ = shutdown.cancelled() => shards.shutdown_all().await,
    }
    Ok(())
}
