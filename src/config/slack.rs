//! `[slack]`: the Slack adapter. Tokens and signing secrets come from the environment only.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Secret;

/// Bot token (`xoxb-…`) for the Web API.
pub const SLACK_BOT_TOKEN_ENV: &str = "STEWARD_SLACK_BOT_TOKEN";
/// App-level token (`xapp-…`) for Socket Mode.
pub const SLACK_APP_TOKEN_ENV: &str = "STEWARD_SLACK_APP_TOKEN";
/// Signing secrets, comma-separated (two while rotating).
pub const SLACK_SIGNING_SECRETS_ENV: &str = "STEWARD_SLACK_SIGNING_SECRETS";
/// The app's OAuth client secret (installing into more workspaces; it also signs `state`).
pub const SLACK_CLIENT_SECRET_ENV: &str = "STEWARD_SLACK_CLIENT_SECRET";
/// 32 bytes as 64 hex digits: encrypts the bot tokens of installed workspaces at rest.
pub const TOKEN_KEY_ENV: &str = "STEWARD_TOKEN_KEY";

/// How Slack reaches Steward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlackTransport {
    /// Events API, slash commands and interactivity as signed HTTPS requests to `/slack/…`.
    #[default]
    Http,
    /// Socket Mode: Steward opens a WebSocket to Slack (no public URL needed).
    Socket,
}

/// `[slack]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackSettings {
    /// Run the Slack adapter (`steward serve`).
    pub enabled: bool,
    pub transport: SlackTransport,
    /// Base URL of the Web API (a proxy, or a local fake in tests).
    pub api_url: String,
    /// Slack command name (without slash) per Steward command, when a workspace needs other
    /// names, e.g. `{ steward = "ops", escalate = "ops-escalate" }`. Unlisted: the same name.
    pub commands: BTreeMap<String, String>,
    /// Shortest gap between two messages to one channel, in milliseconds (Slack allows about
    /// one per second per channel).
    pub channel_pacing_ms: u64,
    /// Accepted clock skew of signed requests, in seconds either way (Slack says 300).
    pub signature_window_seconds: i64,
    /// Public base URL Slack calls in HTTP mode, for `steward slack manifest`.
    pub public_url: String,
    /// A person's App Home is republished at most once per this many seconds when something
    /// of theirs changes (a burst of changes is one `views.publish`); only for people who
    /// opened their home.
    pub home_debounce_seconds: u64,
    /// The app's OAuth client id. Set (with `STEWARD_SLACK_CLIENT_SECRET` and
    /// `STEWARD_TOKEN_KEY`) to install into more workspaces at `/slack/install`; empty: one
    /// workspace, the bot token from the environment.
    pub client_id: String,
    /// Slack's OAuth v2 authorize page (`/slack/install` redirects there).
    pub authorize_url: String,
    /// How long an install link's signed `state` stays valid, in minutes.
    pub install_state_minutes: i64,
    /// The team id (`T…`) of the workspace of `STEWARD_SLACK_BOT_TOKEN`, which plain Slack
    /// ids in `[[people]]` (`slack = "U456"`) belong to; people of other workspaces are
    /// written `slack = "T123:U456"`. Empty: plain ids match in whichever workspace an event
    /// comes from.
    pub default_workspace: String,
    /// From `STEWARD_SLACK_CLIENT_SECRET` only.
    #[serde(skip)]
    pub client_secret: Option<Secret>,
    /// From `STEWARD_TOKEN_KEY` only.
    #[serde(skip)]
    pub token_key: Option<Secret>,
    /// From `STEWARD_SLACK_BOT_TOKEN` only.
    #[serde(skip)]
    pub bot_token: Option<Secret>,
    /// From `STEWARD_SLACK_APP_TOKEN` only.
    #[serde(skip)]
    pub app_token: Option<Secret>,
    /// From `STEWARD_SLACK_SIGNING_SECRETS` only.
    #[serde(skip)]
    pub signing_secrets: Vec<Secret>,
}

impl Default for SlackSettings {
    fn default() -> Self {
        SlackSettings {
            enabled: false,
            transport: SlackTransport::Http,
            api_url: "https://slack.com/api".into(),
            commands: BTreeMap::new(),
            channel_pacing_ms: 1000,
            signature_window_seconds: 300,
            public_url: "https://steward.example.com".into(),
            home_debounce_seconds: 10,
            client_id: String::new(),
            authorize_url: "https://slack.com/oauth/v2/authorize".into(),
            install_state_minutes: 10,
            default_workspace: String::new(),
            client_secret: None,
            token_key: None,
            bot_token: None,
            app_token: None,
            signing_secrets: Vec::new(),
        }
    }
}

impl SlackSettings {
    /// The Slack name of a Steward command (`escalate` → `escalate` unless renamed).
    pub fn slack_command<'a>(&'a self, steward: &'a str) -> &'a str {
        self.commands.get(steward).map(String::as_str).unwrap_or(steward)
    }

    /// The Steward command a Slack command name stands for.
    pub fn steward_command(&self, slack: &str) -> String {
        let slack = slack.trim_start_matches('/');
        self.commands
            .iter()
            .find(|(_, name)| name.trim_start_matches('/') == slack)
            .map(|(steward, _)| steward.clone())
            .unwrap_or_else(|| slack.to_owned())
    }

    /// Checks what types cannot: a usable transport has its secrets.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.signature_window_seconds <= 0 {
            return Err((
                "slack.signature_window_seconds".into(),
                "must be greater than zero".into(),
            ));
        }
        if self.home_debounce_seconds == 0 {
            return Err(("slack.home_debounce_seconds".into(), "must be at least 1".into()));
        }
        if !self.enabled {
            return Ok(());
        }
        self.validate_install()?;
        if !self.api_url.starts_with("https://") && !self.api_url.starts_with("http://") {
            return Err(("slack.api_url".into(), "must be an http(s) URL".into()));
        }
        // With installing configured, every workspace may bring its own token: the
        // environment's (the default workspace's) is then optional.
        if self.bot_token.is_none() && self.client_id.is_empty() {
            return Err(("slack.enabled".into(), format!("needs {SLACK_BOT_TOKEN_ENV}")));
        }
        if !self.default_workspace.is_empty()
            && !crate::domain::workspace::is_team_id(&self.default_workspace)
        {
            return Err((
                "slack.default_workspace".into(),
                format!("`{}` is not a Slack team id (T…)", self.default_workspace),
            ));
        }
        match self.transport {
            SlackTransport::Http if self.signing_secrets.is_empty() => Err((
                "slack.transport".into(),
                format!("\"http\" needs {SLACK_SIGNING_SECRETS_ENV}"),
            )),
            SlackTransport::Socket if self.app_token.is_none() => {
                Err(("slack.transport".into(), format!("\"socket\" needs {SLACK_APP_TOKEN_ENV}")))
            }
            _ => Ok(()),
        }
    }
}

impl SlackSettings {
    /// Installing into more workspaces (`client_id` set) needs the client secret and a
    /// usable token key, or every install would fail at the callback.
    fn validate_install(&self) -> Result<(), (String, String)> {
        if self.client_id.is_empty() {
            return Ok(());
        }
        if self.client_secret.is_none() {
            return Err(("slack.client_id".into(), format!("needs {SLACK_CLIENT_SECRET_ENV}")));
        }
        let key = self.token_key.as_ref().map(|k| k.expose().trim());
        if !key.is_some_and(|k| k.len() == 64 && k.chars().all(|c| c.is_ascii_hexdigit())) {
            return Err((
                "slack.client_id".into(),
                format!("needs {TOKEN_KEY_ENV}: 64 hex digits"),
            ));
        }
        Ok(())
    }
}

/// Splits `STEWARD_SLACK_SIGNING_SECRETS` (empty entries are ignored).
pub fn parse_signing_secrets(raw: &str) -> Vec<Secret> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Secret::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_commands_map_both_ways() {
        let mut settings = SlackSettings::default();
        settings.commands.insert("escalate".into(), "ops-escalate".into());
        assert_eq!(settings.steward_command("/ops-escalate"), "escalate");
        assert_eq!(settings.steward_command("/credit"), "credit");
        assert_eq!(settings.slack_command("escalate"), "ops-escalate");
    }

    #[test]
    fn an_enabled_http_adapter_needs_signing_secrets() {
        let mut settings = SlackSettings {
            enabled: true,
            bot_token: Some(Secret::new("xoxb")),
            ..Default::default()
        };
        let (key, problem) = settings.validate().unwrap_err();
        assert_eq!(key, "slack.transport");
        assert!(problem.contains(SLACK_SIGNING_SECRETS_ENV));
        settings.signing_secrets = parse_signing_secrets("new, old");
        assert_eq!(settings.signing_secrets.len(), 2);
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn installing_needs_the_client_secret_and_a_64_hex_digit_token_key() {
        let mut settings = SlackSettings {
            enabled: true,
            bot_token: Some(Secret::new("xoxb")),
            signing_secrets: parse_signing_secrets("s"),
            client_id: "1.2".into(),
            ..Default::default()
        };
        assert!(settings.validate().unwrap_err().1.contains(SLACK_CLIENT_SECRET_ENV));
        settings.client_secret = Some(Secret::new("c"));
        settings.token_key = Some(Secret::new("abcd"));
        assert!(settings.validate().unwrap_err().1.contains(TOKEN_KEY_ENV));
        settings.token_key = Some(Secret::new("ab".repeat(32)));
        assert!(settings.validate().is_ok());
        // Installed workspaces bring their own tokens: the environment's may be left out.
        settings.bot_token = None;
        assert!(settings.validate().is_ok());
        settings.client_id.clear();
        assert!(settings.validate().unwrap_err().1.contains(SLACK_BOT_TOKEN_ENV));
    }

    #[test]
    fn the_default_workspace_is_a_team_id() {
        let mut settings = SlackSettings {
            enabled: true,
            bot_token: Some(Secret::new("xoxb")),
            signing_secrets: parse_signing_secrets("s"),
            default_workspace: "T0123ABCD".into(),
            ..Default::default()
        };
        assert!(settings.validate().is_ok());
        settings.default_workspace = "acme".into();
        assert_eq!(settings.validate().unwrap_err().0, "slack.default_workspace");
    }
}
