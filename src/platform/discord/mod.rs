//! The Discord adapter (serenity). Everything that names a serenity type lives here.
//!
//! - `rest`: serenity's `Http` pointed at `discord.api_url`, requests sent with Steward's own
//!   pacing (per route from the rate-limit headers, 50/s global) and error mapping.
//! - `verify`: Ed25519 signatures of the HTTP interactions endpoint.
//! - `http`: `POST /discord/interactions` (axum); `gateway`: the WebSocket way in.
//! - `decode`: interaction JSON → neutral `Inbound` (or a step answered here: PING, modal,
//!   confirmation, autocomplete); `interactions`: the answer within 3 s, or deferred.
//! - `commands`: application commands mirroring the command catalogue; `register`.
//! - `render`: Card/Message/Reply → embeds and components; `port`: the outbox's `ChatPort`.

pub mod commands;
pub mod decode;
pub mod gateway;
pub mod http;
pub mod interactions;
pub mod port;
pub mod reactions;
pub mod render;
pub mod rest;
pub mod room_edits;
pub mod verify;

use std::sync::Arc;

use serenity::http::{LightMethod, Route};
use serenity::model::id::{ApplicationId, GuildId};

use crate::config::Settings;
use crate::services::ports::Clock;

pub use interactions::Interactions;
pub use port::DiscordChat;
pub use rest::Rest;

/// The REST client from `[discord]` and the bot token; `None` when no token is set.
pub fn rest(settings: &Settings, clock: Arc<dyn Clock>) -> Option<Arc<Rest>> {
    let token = settings.discord.bot_token.as_ref()?;
    Some(Arc::new(Rest::new(&settings.discord, token.expose(), clock)))
}

/// Registers every application command (bulk overwrite), in `guild` only when given;
/// returns how many commands Discord now has.
pub async fn register(
    rest: &Rest,
    settings: &Settings,
    guild: Option<u64>,
) -> anyhow::Result<usize> {
    let application = settings
        .discord
        .application_id
        .filter(|id| *id != 0)
        .ok_or_else(|| anyhow::anyhow!("discord.application_id is not set"))?;
    let application_id = ApplicationId::new(application);
    let body = commands::Catalogue::new(settings).registration();
    let (route, key) = match guild.filter(|id| *id != 0) {
        Some(guild) => (
            Route::GuildCommands { application_id, guild_id: GuildId::new(guild) },
            format!("PUT applications/guilds/{guild}/commands"),
        ),
        None => (Route::Commands { application_id }, "PUT applications/commands".to_owned()),
    };
    let registered = rest
        .call(&key, route, LightMethod::Put, Some(&body))
        .await
        .map_err(|e| anyhow::anyhow!("registering commands failed: {}", e.error))?;
    Ok(registered.as_array().map(Vec::len).unwrap_or(0))
}

/// What `steward serve` runs for Discord.
#[derive(Default)]
pub struct DiscordRuntime {
    /// The outbox's port (when a bot token is set).
    pub port: Option<Arc<dyn crate::services::ChatPort>>,
    /// `POST /discord/interactions`, in http mode.
    pub routes: Option<axum::Router>,
}

/// Sets Discord up for `steward serve` from `[discord]`: the port, optional command
/// registration, and the way in (the gateway task, or the HTTP routes to merge).
pub async fn start(
    services: &crate::services::Services,
    tasks: &mut tokio::task::JoinSet<()>,
    shutdown: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<DiscordRuntime> {
    let settings = &services.setup().settings;
    if !settings.discord.enabled {
        return Ok(DiscordRuntime::default());
    }
    let rest = rest(settings, services.clock().clone()).ok_or_else(|| {
        anyhow::anyhow!("[discord] is enabled but {} is not set", crate::config::DISCORD_TOKEN_ENV)
    })?;
    if settings.discord.register_on_start {
        match register(&rest, settings, settings.discord.guild_id).await {
            Ok(count) => tracing::info!(count, "Discord commands registered"),
            Err(err) => tracing::warn!(error = %err, "could not register Discord commands"),
        }
    }
    let interactions = Interactions::new(services.clone(), Some(rest.clone()));
    let port: Arc<dyn crate::services::ChatPort> = Arc::new(DiscordChat::new(rest));
    let mut runtime = DiscordRuntime { port: Some(port), routes: None };
    match settings.discord.mode {
        crate::config::DiscordMode::Http => {
            let state = http::DiscordHttpState::new(interactions).map_err(anyhow::Error::msg)?;
            runtime.routes = Some(http::routes(state));
        }
        crate::config::DiscordMode::Gateway => {
            let token = settings.discord.bot_token.as_ref().map(|t| t.expose().to_owned());
            let shutdown = shutdown.clone();
            tasks.spawn(async move {
                let token = token.unwrap_or_default();
                if let Err(err) = gateway::run(interactions, token, shutdown).await {
                    tracing::error!(error = ?err, "Discord gateway stopped");
                }
            });
        }
    }
    Ok(runtime)
}

/// `steward discord register [--guild <id>] [--dry-run]`. The dry run prints only the body
/// (so it can be piped into a validator) and needs neither a token nor an application id.
pub async fn register_command(
    settings: &Settings,
    guild: Option<u64>,
    dry_run: bool,
) -> anyhow::Result<()> {
    if dry_run {
        let body = commands::Catalogue::new(settings).registration();
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(());
    }
    let clock: Arc<dyn Clock> = Arc::new(crate::services::ports::SystemClock);
    let rest = rest(settings, clock)
        .ok_or_else(|| anyhow::anyhow!("{} is not set", crate::config::DISCORD_TOKEN_ENV))?;
    let guild = guild.or(settings.discord.guild_id);
    let count = register(&rest, settings, guild).await?;
    match guild {
        Some(guild) => println!("Registered {count} Discord commands in guild {guild}."),
        None => println!("Registered {count} Discord commands globally."),
    }
    Ok(())
}
