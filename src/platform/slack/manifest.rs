//! `steward slack manifest`: a Slack app manifest (JSON, which Slack's "Create from
//! manifest" accepts) with every slash command and its usage hint from the command catalogue,
//! the bot scopes the adapter uses, and either the request URLs (HTTP transport) or Socket
//! Mode.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::http::{COMMANDS_PATH, EVENTS_PATH, INTERACTIVITY_PATH};
use crate::config::{SlackSettings, SlackTransport};
use crate::domain::messages::{self, slack as text};

/// The bot token scopes the adapter needs, and why.
pub const BOT_SCOPES: &[&str] = &[
    "commands",         // slash commands
    "chat:write",       // cards, thread lines, chat.update, chat.postEphemeral
    "im:write",         // conversations.open for DMs to approvers and assignees
    "channels:history", // conversations.history: reconciling a retried post
    "groups:history",
    "im:history",
    "app_mentions:read", // "@Steward escalate …"
    "files:write",       // digest charts (when uploaded)
];

/// The manifest for `settings`.
pub fn manifest(settings: &SlackSettings) -> Value {
    let socket = settings.transport == SlackTransport::Socket;
    let base = settings.public_url.trim_end_matches('/');
    // One Slack command per Steward command name: `/steward` plus each workflow's own.
    let mut commands: BTreeMap<String, (String, &str)> = BTreeMap::new();
    for help in messages::COMMANDS {
        let mut words = help.usage.trim_start_matches('/').split_whitespace();
        let Some(first) = words.next() else { continue };
        let (name, hint) = if first == crate::domain::command::ROOT {
            let sub = words.next().unwrap_or_default();
            (first.to_owned(), format!("{sub} {}", words.collect::<Vec<_>>().join(" ")))
        } else {
            (first.to_owned(), words.collect::<Vec<_>>().join(" "))
        };
        commands.entry(name).or_insert((hint.trim().to_owned(), help.summary));
    }
    commands.entry(crate::domain::command::ROOT.to_owned()).and_modify(|(hint, summary)| {
        *hint = "<command> [arguments] (try: help)".to_owned();
        *summary = "Every Steward command as /steward <command>.";
    });
    let slash_commands: Vec<Value> = commands
        .iter()
        .map(|(name, (hint, summary))| {
            let mut command = json!({
                "command": format!("/{}", settings.slack_command(name)),
                "description": truncate(summary, 100),
                "usage_hint": truncate(hint, 100),
                "should_escape": false,
            });
            if !socket {
                command["url"] = json!(format!("{base}{COMMANDS_PATH}"));
            }
            command
        })
        .collect();
    let mut interactivity = json!({ "is_enabled": true });
    let mut events = json!({ "bot_events": ["app_mention"] });
    if !socket {
        interactivity["request_url"] = json!(format!("{base}{INTERACTIVITY_PATH}"));
        events["request_url"] = json!(format!("{base}{EVENTS_PATH}"));
    }
    json!({
        "display_information": { "name": text::APP_NAME, "description": text::APP_DESCRIPTION },
        "features": {
            "bot_user": { "display_name": text::APP_NAME, "always_online": true },
            "slash_commands": slash_commands,
        },
        "oauth_config": { "scopes": { "bot": BOT_SCOPES } },
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "socket_mode_enabled": socket,
            "org_deploy_enabled": false,
            "token_rotation_enabled": false,
        },
    })
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_manifest_lists_steward_and_workflow_commands_with_urls() {
        let mut settings = SlackSettings::default();
        settings.commands.insert("escalate".into(), "ops-escalate".into());
        let manifest = manifest(&settings);
        let commands = manifest["features"]["slash_commands"].as_array().unwrap();
        let names: Vec<&str> = commands.iter().map(|c| c["command"].as_str().unwrap()).collect();
        assert!(names.contains(&"/steward"));
        assert!(names.contains(&"/ops-escalate"));
        assert!(names.contains(&"/credit"));
        let escalate = commands.iter().find(|c| c["command"] == "/ops-escalate").unwrap();
        assert!(escalate["usage_hint"].as_str().unwrap().contains("sev"));
        assert_eq!(escalate["url"], "https://steward.example.com/slack/commands");
        assert_eq!(manifest["settings"]["socket_mode_enabled"], false);
    }

    #[test]
    fn socket_manifest_has_no_request_urls() {
        let settings = SlackSettings { transport: SlackTransport::Socket, ..Default::default() };
        let manifest = manifest(&settings);
        assert_eq!(manifest["settings"]["socket_mode_enabled"], true);
        assert!(manifest["settings"]["interactivity"].get("request_url").is_none());
    }
}
