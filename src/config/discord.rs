//! `[discord]`: the Discord adapter. The bot token is a secret and comes from the environment
//! only (`STEWARD_DISCORD_BOT_TOKEN`); the application's public key is not secret.

use serde::Deserialize;

use super::Secret;

/// The environment variable with the bot token (with or without the `Bot ` prefix).
pub const DISCORD_TOKEN_ENV: &str = "STEWARD_DISCORD_BOT_TOKEN";

/// How interactions reach Steward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscordMode {
    /// A gateway WebSocket connection (serenity client); no public URL needed.
    #[default]
    Gateway,
    /// Discord posts interactions to `POST /discord/interactions` on Steward's HTTP server.
    Http,
}

/// `[discord]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordSettings {
    pub enabled: bool,
    pub mode: DiscordMode,
    /// Base URL of the REST API (and, through `GET /gateway`, of the gateway); a proxy or a
    /// test fake may stand in for Discord.
    pub api_url: String,
    /// The application (client) id: a snowflake.
    pub application_id: Option<u64>,
    /// The application's Ed25519 public key, hex (64 characters); needed in `http` mode.
    pub public_key: Option<String>,
    /// Register the application commands (bulk overwrite) at start-up.
    pub register_on_start: bool,
    /// Register commands in this guild only (instant) instead of globally.
    pub guild_id: Option<u64>,
    /// Accepted age of a signed interaction's timestamp, in seconds either way.
    pub signature_window_seconds: i64,
    /// How long an interaction may take before Steward defers its answer (Discord allows
    /// 3 s for the first response).
    pub defer_after_ms: u64,
    /// Ask the gateway for the privileged Message Content intent (enable it for the bot in
    /// the Developer Portal first, or the gateway refuses to connect): with it, an edit of a
    /// message on an incident's timeline updates the entry's text; without it Discord sends
    /// edits without their text and the entry keeps its own.
    pub message_content: bool,
    /// From `STEWARD_DISCORD_BOT_TOKEN` only.
    #[serde(skip)]
    pub bot_token: Option<Secret>,
}

impl Default for DiscordSettings {
    fn default() -> Self {
        DiscordSettings {
            enabled: false,
            mode: DiscordMode::Gateway,
            api_url: "https://discord.com".into(),
            application_id: None,
            public_key: None,
            register_on_start: false,
            guild_id: None,
            signature_window_seconds: 300,
            defer_after_ms: 2000,
            message_content: false,
            bot_token: None,
        }
    }
}

impl DiscordSettings {
    /// Checks that go beyond types: `(key, problem)` on failure.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let problem = |key: &str, text: &str| Err((format!("discord.{key}"), text.to_owned()));
        if !(self.api_url.starts_with("http://") || self.api_url.starts_with("https://")) {
            return problem("api_url", "must start with http:// or https://");
        }
        if let Some(key) = &self.public_key
            && !matches!(hex::decode(key.trim()), Ok(bytes) if bytes.len() == 32)
        {
            return problem("public_key", "must be 64 hex digits (the application's public key)");
        }
        if !(1..=2900).contains(&self.defer_after_ms) {
            return problem("defer_after_ms", "must be between 1 and 2900 (Discord waits 3 s)");
        }
        if self.signature_window_seconds <= 0 {
            return problem("signature_window_seconds", "must be greater than zero");
        }
        if !self.enabled {
            return Ok(());
        }
        if self.application_id.is_none_or(|id| id == 0) {
            return problem("application_id", "is required when Discord is enabled");
        }
        if self.mode == DiscordMode::Http && self.public_key.is_none() {
            return problem("public_key", "is required in http mode (to verify interactions)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_http_mode_needs_an_application_id_and_a_valid_public_key() {
        let mut settings = DiscordSettings { enabled: true, ..DiscordSettings::default() };
        assert_eq!(settings.validate().unwrap_err().0, "discord.application_id");
        settings.application_id = Some(42);
        settings.mode = DiscordMode::Http;
        assert_eq!(settings.validate().unwrap_err().0, "discord.public_key");
        settings.public_key = Some("zz".into());
        assert_eq!(settings.validate().unwrap_err().0, "discord.public_key");
        settings.public_key = Some("ab".repeat(32));
        assert_eq!(settings.validate(), Ok(()));
    }
}
