//! `steward slack manifest`: a Slack app manifest (JSON, which Slack's "Create from
//! manifest" accepts) with every slash command and its usage hint from the command catalogue,
//! the bot scopes the adapter uses, and either the request URLs (HTTP transport) or Socket
//! Mode.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::http::{COMMANDS_PATH, EVENTS_PATH, INTERACTIVITY_PATH, OPTIONS_PATH};
use crate::config::{SlackSettings, SlackTransport};
use crate::domain::messages::{self, slack as text};

/// The Web API methods the adapter calls and the bot scope each needs (none for
/// `views.open`). A test checks this against the calls in the code, so the manifest asks
/// for exactly what is used.
pub const METHOD_SCOPES: &[(&str, Option<&str>)] = &[
    // Cards, thread lines, digests.
    ("chat_post_message", Some("chat:write")),
    ("chat_update", Some("chat:write")),
    ("chat_post_ephemeral", Some("chat:write")),
    // DMs to approvers and assignees.
    ("conversations_open", Some("im:write")),
    // Reconciling a retried post, in public and private channels and DMs.
    ("conversations_history", Some("channels:history")),
    ("conversations_history", Some("groups:history")),
    ("conversations_history", Some("im:history")),
    // Reconciling a retried thread reply (history lists top-level messages only).
    ("conversations_replies", Some("channels:history")),
    ("conversations_replies", Some("groups:history")),
    ("conversations_replies", Some("im:history")),
    // Incident war rooms: a channel per incident, found again by name on `name_taken`,
    // responders invited, the summary card pinned, the channel archived after resolve.
    ("conversations_create", Some("channels:manage")),
    ("conversations_create", Some("groups:write")),
    ("conversations_list", Some("channels:read")),
    ("conversations_list", Some("groups:read")),
    ("conversations_invite", Some("channels:manage")),
    ("conversations_invite", Some("groups:write")),
    ("pins_add", Some("pins:write")),
    ("conversations_archive", Some("channels:manage")),
    ("conversations_archive", Some("groups:write")),
    ("views_open", None),
    // The App Home tab.
    ("views_publish", None),
    // A digest's chart (`files`): upload URL, bytes, share into the channel.
    ("get_upload_url_external", Some("files:write")),
    ("files_upload_via_url", Some("files:write")),
    ("files_complete_upload_external", Some("files:write")),
];

/// The bot token scopes: those of [`METHOD_SCOPES`], plus slash commands, the
/// `app_mention` event ("@Steward escalate …"), the `reaction_added` and `pin_added` events
/// (messages captured for an incident's timeline), and `chat:write.public` so cards can be
/// posted to a public channel the bot was not invited to (private channels still need
/// `/invite @Steward`, or `chat.postMessage` fails with `not_in_channel`).
pub const BOT_SCOPES: &[&str] = &[
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "channels:history",
    "groups:history",
    "im:history",
    "app_mentions:read",
    "reactions:read",
    "pins:read",
    "channels:manage",
    "channels:read",
    "groups:write",
    "groups:read",
    "pins:write",
    "files:write",
];

/// The public URL in `config/default.toml`, which is nobody's server.
pub const EXAMPLE_PUBLIC_URL: &str = "https://steward.example.com";

/// What an admin should fix before using the manifest.
pub fn warnings(settings: &SlackSettings) -> Vec<String> {
    let example = settings.public_url.trim_end_matches('/') == EXAMPLE_PUBLIC_URL;
    if settings.transport == SlackTransport::Http && example {
        vec![text::example_public_url(&settings.public_url)]
    } else {
        Vec::new()
    }
}

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
    let mut events = json!({
        "bot_events": ["app_mention", "app_home_opened", "reaction_added", "pin_added",
            "message.channels", "message.groups"]
    });
    if !socket {
        interactivity["request_url"] = json!(format!("{base}{INTERACTIVITY_PATH}"));
        // Long people lists are `external_select` menus: Slack loads their options here.
        interactivity["message_menu_options_url"] = json!(format!("{base}{OPTIONS_PATH}"));
        events["request_url"] = json!(format!("{base}{EVENTS_PATH}"));
    }
    json!({
        "display_information": { "name": text::APP_NAME, "description": text::APP_DESCRIPTION },
        "features": {
            "bot_user": { "display_name": text::APP_NAME, "always_online": true },
            "app_home": { "home_tab_enabled": true, "messages_tab_enabled": true },
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
        let interactivity = &manifest["settings"]["interactivity"];
        assert_eq!(interactivity["request_url"], "https://steward.example.com/slack/interactivity");
        assert_eq!(
            interactivity["message_menu_options_url"],
            "https://steward.example.com/slack/options"
        );
    }

    #[test]
    fn scopes_are_exactly_those_of_the_calls_in_the_code() {
        let sources = [
            include_str!("port.rs"),
            include_str!("inbound.rs"),
            include_str!("client.rs"),
            include_str!("files.rs"),
        ];
        // Without whitespace, so calls that rustfmt splits over lines read as one.
        let sources: Vec<String> =
            sources.iter().map(|s| s.split_whitespace().collect::<String>()).collect();
        let mut called: Vec<String> = sources
            .iter()
            .flat_map(|s| s.split("session().").skip(1))
            .map(|rest| rest.split('(').next().unwrap_or_default().to_owned())
            .collect();
        // Untyped calls name the method as Slack spells it: `get_method(METHOD` after
        // `const METHOD: &str = "conversations.replies"`.
        for source in &sources {
            for rest in source.split("get_method(METHOD").skip(1) {
                let before = &source[..source.len() - rest.len()];
                let name = before.rsplit("constMETHOD:&str=\"").next().unwrap_or_default();
                called.push(name.split('"').next().unwrap_or_default().replace('.', "_"));
            }
        }
        called.sort();
        called.dedup();
        let mut known: Vec<String> = METHOD_SCOPES.iter().map(|(m, _)| (*m).to_owned()).collect();
        known.dedup();
        known.sort();
        assert_eq!(called, known, "every Web API call has its scope listed, and no other");
        let mut wanted: Vec<&str> = METHOD_SCOPES.iter().filter_map(|(_, s)| *s).collect();
        wanted.extend([
            "commands",
            "app_mentions:read",
            "chat:write.public",
            "reactions:read",
            "pins:read",
        ]);
        wanted.sort();
        wanted.dedup();
        let mut asked: Vec<&str> = BOT_SCOPES.to_vec();
        asked.sort();
        assert_eq!(asked, wanted);
    }

    #[test]
    fn the_example_public_url_is_warned_about_in_http_mode_only() {
        let example = SlackSettings::default();
        assert_eq!(warnings(&example).len(), 1);
        assert!(warnings(&example)[0].contains("slack.public_url"));
        let real =
            SlackSettings { public_url: "https://ops.acme.test".into(), ..Default::default() };
        assert!(warnings(&real).is_empty());
        let socket = SlackSettings { transport: SlackTransport::Socket, ..Default::default() };
        assert!(warnings(&socket).is_empty());
    }

    #[test]
    fn socket_manifest_has_no_request_urls() {
        let settings = SlackSettings { transport: SlackTransport::Socket, ..Default::default() };
        let manifest = manifest(&settings);
        assert_eq!(manifest["settings"]["socket_mode_enabled"], true);
        assert!(manifest["settings"]["interactivity"].get("request_url").is_none());
    }
}
