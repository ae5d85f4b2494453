//! Slack payloads → the neutral [`Inbound`], after verification.
//!
//! - Slash commands (`/steward <sub> …` or a workflow's own `/escalate …`, names mapped back
//!   through `[slack.commands]`) → `Command`, deduplicated by their `trigger_id` (unique per
//!   invocation).
//! - `block_actions` → `Action`, deduplicated by [`Inbound::click_dedupe_key`] (the action id
//!   carries the card version, so a double click is one intent). A button that asks for text
//!   first carries its prompt in `value` and opens a modal instead.
//! - `view_submission` → `Submission`; the modal's `private_metadata` names the action and
//!   the channel of the card. A select's answer (static or external) is its
//!   `selected_option.value`.
//! - `block_suggestion` (an `external_select` loading its options) → `Suggest`, answered in
//!   the acknowledgement.
//! - Events API callbacks (`app_mention`) → `Command` under `/steward`, deduplicated by
//!   `event_id` (Slack retries events, and a retry may overlap the first delivery).
//!
//! Payloads are read as JSON values rather than strict structs: Slack adds fields freely, and
//! a payload Steward cannot use is ignored with a log line, not an error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::SlackSettings;
use crate::domain::ids::Platform;
use crate::domain::inbound::{Inbound, InboundKind};
use crate::domain::incident::room::slack_thread_room;
use crate::domain::incident::timeline::{CaptureHow, RoomChange, RoomMessage};
use crate::domain::reply::Prompt;

/// Where the reply to an inbound event is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyRoute {
    /// In the acknowledgement itself (slash commands: the HTTP response body, or the Socket
    /// Mode ack payload).
    Ack,
    /// Through the interaction's `response_url` (button clicks), after the acknowledgement.
    ResponseUrl(String),
    /// As `chat.postEphemeral` to the actor in `channel` (modal submits, mentions).
    Ephemeral { channel: String, user: String },
    /// A click on the App Home tab: the home is published again with the answer on top.
    Home { user: String },
}

/// What a verified Slack request asks of Steward.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// Handle it through the services and route the reply.
    Inbound { inbound: Inbound, route: ReplyRoute },
    /// A button with a prompt: open a modal with this trigger, unless `user` may not take
    /// the action (then the refusal goes by `route`).
    OpenModal {
        trigger_id: String,
        modal: PromptModal,
        user: String,
        route: ReplyRoute,
        /// The workspace of the click, whose token opens the modal.
        workspace: Option<String>,
    },
    /// Slack asks for the options of an `external_select` (`block_suggestion`): the choices
    /// of `action`'s prompt that match `typed`, answered in the acknowledgement.
    Suggest { user: String, action: String, typed: String, workspace: Option<String> },
    /// The person opened Steward's App Home tab (in `workspace`): publish their home.
    HomeOpened { user: String, workspace: Option<String> },
    /// Events API endpoint check: answer with the challenge.
    UrlVerification { challenge: String },
    /// Nothing for Steward to do (other event types, closed modals).
    Ignored { why: String },
}

/// A modal to open for a prompting button.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptModal {
    pub prompt: Prompt,
    pub metadata: ModalMetadata,
    /// The prompt's choices were too many for the button value and a static menu: the modal
    /// has an `external_select`, whose options Slack loads from Steward while the person
    /// types (`block_suggestion`).
    pub external: bool,
}

/// What a prompting button's `value` carries: the prompt to open (its choices only while
/// they fit), or, when `external`, the prompt without them: the action id names the item and
/// the verb, which is all Steward needs to load them (`Services::prompt_choices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptValue {
    #[serde(flatten)]
    pub prompt: Prompt,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
}

impl PromptModal {
    /// The modal a button with `value` opens (none when it is not a prompt's value).
    pub fn from_value(value: &str, metadata: ModalMetadata) -> Option<PromptModal> {
        let PromptValue { prompt, external } = serde_json::from_str(value).ok()?;
        Some(PromptModal { prompt, metadata, external })
    }
}

/// Carried through the modal in `private_metadata`: what the submit means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModalMetadata {
    pub action: String,
    pub channel: String,
}

/// The form fields of a slash command request.
#[derive(Debug, Deserialize)]
pub struct CommandForm {
    pub command: String,
    #[serde(default)]
    pub text: String,
    pub user_id: String,
    pub channel_id: String,
    pub trigger_id: String,
    /// The workspace the command was typed in.
    #[serde(default)]
    pub team_id: Option<String>,
}

/// A slash command.
pub fn command(settings: &SlackSettings, form: CommandForm) -> Decoded {
    let name = settings.steward_command(&form.command);
    let inbound = Inbound {
        dedupe_key: format!("slack:command:{}", form.trigger_id),
        platform: Platform::Slack,
        workspace: form.team_id.filter(|team| !team.is_empty()),
        actor: form.user_id,
        channel: form.channel_id,
        kind: InboundKind::Command { name, args: form.text },
    };
    Decoded::Inbound { inbound, route: ReplyRoute::Ack }
}

/// An interactivity payload (the JSON in the `payload` form field).
pub fn interaction(payload: &Value) -> Decoded {
    let decoded = match str_at(payload, &["type"]) {
        Some("block_actions") => block_actions(payload),
        Some("view_submission") => view_submission(payload),
        Some("block_suggestion") => block_suggestion(payload),
        other => ignored(format!("interaction type {other:?}")),
    };
    in_workspace(decoded, str_at(payload, &["team", "id"]))
}

/// Puts the workspace (Slack's team id) a payload names on what it decoded to.
fn in_workspace(mut decoded: Decoded, team: Option<&str>) -> Decoded {
    let team = team.filter(|team| !team.is_empty()).map(str::to_owned);
    match &mut decoded {
        Decoded::Inbound { inbound, .. } => inbound.workspace = team,
        Decoded::OpenModal { workspace, .. }
        | Decoded::HomeOpened { workspace, .. }
        | Decoded::Suggest { workspace, .. } => *workspace = team,
        _ => {}
    }
    decoded
}

impl Decoded {
    /// The workspace it came from, whose token answers it.
    pub fn workspace(&self) -> Option<&str> {
        match self {
            Decoded::Inbound { inbound, .. } => inbound.workspace.as_deref(),
            Decoded::OpenModal { workspace, .. }
            | Decoded::HomeOpened { workspace, .. }
            | Decoded::Suggest { workspace, .. } => workspace.as_deref(),
            _ => None,
        }
    }
}

fn block_actions(payload: &Value) -> Decoded {
    let Some(user) = str_at(payload, &["user", "id"]) else {
        return ignored("block_actions without a user".into());
    };
    let Some(action) = payload.get("actions").and_then(|a| a.get(0)) else {
        return ignored("block_actions without an action".into());
    };
    let Some(action_id) = str_at(action, &["action_id"]) else {
        return ignored("action without an action_id".into());
    };
    let channel = str_at(payload, &["channel", "id"])
        .or_else(|| str_at(payload, &["container", "channel_id"]))
        .unwrap_or_default()
        .to_owned();
    let on_home = str_at(payload, &["view", "type"]) == Some("home");
    let route = match str_at(payload, &["response_url"]) {
        _ if on_home => ReplyRoute::Home { user: user.to_owned() },
        Some(url) => ReplyRoute::ResponseUrl(url.to_owned()),
        None => ReplyRoute::Ephemeral { channel: channel.clone(), user: user.to_owned() },
    };
    let metadata = ModalMetadata { action: action_id.to_owned(), channel: channel.clone() };
    let modal = str_at(action, &["value"]).and_then(|v| PromptModal::from_value(v, metadata));
    if let Some(modal) = modal {
        let Some(trigger_id) = str_at(payload, &["trigger_id"]) else {
            return ignored("prompt button without a trigger_id".into());
        };
        return Decoded::OpenModal {
            trigger_id: trigger_id.to_owned(),
            modal,
            user: user.to_owned(),
            route,
            workspace: None,
        };
    }
    let inbound = Inbound {
        dedupe_key: Inbound::click_dedupe_key(Platform::Slack, user, action_id),
        platform: Platform::Slack,
        workspace: None,
        actor: user.to_owned(),
        channel,
        kind: InboundKind::Action { action: action_id.to_owned() },
    };
    Decoded::Inbound { inbound, route }
}

fn view_submission(payload: &Value) -> Decoded {
    let Some(user) = str_at(payload, &["user", "id"]) else {
        return ignored("view_submission without a user".into());
    };
    let metadata = str_at(payload, &["view", "private_metadata"])
        .and_then(|m| serde_json::from_str::<ModalMetadata>(m).ok());
    let Some(metadata) = metadata else {
        return ignored("view_submission of a modal Steward did not open".into());
    };
    let mut fields = BTreeMap::new();
    if let Some(blocks) = payload.pointer("/view/state/values").and_then(Value::as_object) {
        for inputs in blocks.values().filter_map(Value::as_object) {
            for (name, input) in inputs {
                let value = str_at(input, &["value"])
                    .or_else(|| str_at(input, &["selected_option", "value"]));
                if let Some(value) = value {
                    fields.insert(name.clone(), value.to_owned());
                }
            }
        }
    }
    let inbound = Inbound {
        dedupe_key: Inbound::click_dedupe_key(Platform::Slack, user, &metadata.action),
        platform: Platform::Slack,
        workspace: None,
        actor: user.to_owned(),
        channel: metadata.channel.clone(),
        kind: InboundKind::Submission { action: metadata.action, fields },
    };
    // A modal opened from the App Home has no channel: answer on the home.
    let route = if metadata.channel.is_empty() {
        ReplyRoute::Home { user: user.to_owned() }
    } else {
        ReplyRoute::Ephemeral { channel: metadata.channel, user: user.to_owned() }
    };
    Decoded::Inbound { inbound, route }
}

/// Slack loading the options of an `external_select` in one of Steward's modals: the
/// modal's `private_metadata` names the action whose prompt it is, `value` is what the
/// person has typed so far.
fn block_suggestion(payload: &Value) -> Decoded {
    let Some(user) = str_at(payload, &["user", "id"]) else {
        return ignored("block_suggestion without a user".into());
    };
    let metadata = str_at(payload, &["view", "private_metadata"])
        .and_then(|m| serde_json::from_str::<ModalMetadata>(m).ok());
    let Some(metadata) = metadata else {
        return ignored("block_suggestion outside a modal Steward opened".into());
    };
    Decoded::Suggest {
        user: user.to_owned(),
        action: metadata.action,
        typed: str_at(payload, &["value"]).unwrap_or_default().to_owned(),
        workspace: None,
    }
}

/// An Events API body (or a Socket Mode `events_api` payload). `pin_emoji` is the Slack name
/// of the reaction that puts a message on an incident's timeline (`[incident]
/// pin_emoji_slack`).
pub fn event(body: &Value, pin_emoji: &str) -> Decoded {
    match str_at(body, &["type"]) {
        Some("url_verification") => Decoded::UrlVerification {
            challenge: str_at(body, &["challenge"]).unwrap_or_default().to_owned(),
        },
        Some("event_callback") => {
            // The envelope names the workspace (`team_id`); an event may name it too.
            let team = str_at(body, &["team_id"]).or_else(|| str_at(body, &["event", "team"]));
            in_workspace(event_callback(body, pin_emoji), team)
        }
        other => ignored(format!("event envelope {other:?}")),
    }
}

fn event_callback(body: &Value, pin_emoji: &str) -> Decoded {
    let (Some(event_id), Some(event)) = (str_at(body, &["event_id"]), body.get("event")) else {
        return ignored("event_callback without event_id".into());
    };
    if str_at(event, &["type"]) == Some("app_home_opened") {
        return match (str_at(event, &["user"]), str_at(event, &["tab"])) {
            (Some(user), Some("home")) => {
                Decoded::HomeOpened { user: user.to_owned(), workspace: None }
            }
            _ => ignored("app_home_opened on another tab".into()),
        };
    }
    match str_at(event, &["type"]) {
        Some("reaction_added") => return reaction_added(event_id, event, pin_emoji),
        Some("pin_added") => return pin_added(event_id, event),
        Some("message") => return message_event(event_id, event),
        _ => {}
    }
    if str_at(event, &["type"]) != Some("app_mention") || event.get("bot_id").is_some() {
        return ignored(format!("event type {:?}", str_at(event, &["type"])));
    }
    let (Some(user), Some(channel)) = (str_at(event, &["user"]), str_at(event, &["channel"]))
    else {
        return ignored("app_mention without user or channel".into());
    };
    let text = str_at(event, &["text"]).unwrap_or_default();
    // "@Steward incident note …" typed in a thread room names its incident by the thread.
    let room = in_thread(channel, event, str_at(event, &["ts"]).unwrap_or_default());
    let inbound = Inbound {
        dedupe_key: format!("slack:event:{event_id}"),
        platform: Platform::Slack,
        workspace: None,
        actor: user.to_owned(),
        channel: room,
        kind: InboundKind::Command {
            name: crate::domain::command::ROOT.to_owned(),
            args: strip_mentions(text),
        },
    };
    let route = ReplyRoute::Ephemeral { channel: channel.to_owned(), user: user.to_owned() };
    Decoded::Inbound { inbound, route }
}

/// A reaction with the pin emoji on a message: a capture for the timeline of the incident
/// whose room the message is in. The event names the message (channel and `ts`) and its
/// author, not its text.
fn reaction_added(event_id: &str, event: &Value, pin_emoji: &str) -> Decoded {
    if str_at(event, &["reaction"]) != Some(pin_emoji) {
        return ignored(format!("reaction {:?}", str_at(event, &["reaction"])));
    }
    let (Some(user), Some(channel), Some(ts)) = (
        str_at(event, &["user"]),
        str_at(event, &["item", "channel"]),
        str_at(event, &["item", "ts"]),
    ) else {
        return ignored("reaction_added without user, channel or ts".into());
    };
    let author = str_at(event, &["item_user"]).unwrap_or(user);
    let author_name = None;
    let captured = RoomCapture { event_id, user, channel, ts, author, author_name, text: "" };
    captured.decoded(CaptureHow::Reaction)
}

/// A message pinned in a channel: the event carries the message itself.
fn pin_added(event_id: &str, event: &Value) -> Decoded {
    let message = event.get("item").and_then(|item| item.get("message"));
    let (Some(user), Some(channel), Some(message)) =
        (str_at(event, &["user"]), str_at(event, &["channel_id"]), message)
    else {
        return ignored("pin_added without user, channel or message".into());
    };
    let Some(ts) = str_at(message, &["ts"]) else {
        return ignored("pin_added message without ts".into());
    };
    let author = str_at(message, &["user"]).unwrap_or(user);
    let text = str_at(message, &["text"]).unwrap_or_default();
    let author_name = profile_name(message);
    let channel = &in_thread(channel, message, ts);
    let captured = RoomCapture { event_id, user, channel, ts, author, author_name, text };
    captured.decoded(CaptureHow::Pin)
}

/// A message edited or deleted in a channel (`message_changed`, `message_deleted`): the
/// timeline entry captured from it, if any, follows (the service looks it up by the
/// message's place; for other messages nothing is written). Edits of bots' messages (Steward's
/// own card updates) are ignored.
fn message_event(event_id: &str, event: &Value) -> Decoded {
    let Some(channel) = str_at(event, &["channel"]) else {
        return ignored("message event without channel".into());
    };
    let (message, change) = match str_at(event, &["subtype"]) {
        Some("message_changed") => (event.get("message"), RoomChange::Edited),
        Some("message_deleted") => (event.get("previous_message"), RoomChange::Deleted),
        other => return ignored(format!("message subtype {other:?}")),
    };
    let Some(message) = message.filter(|m| m.get("bot_id").is_none()) else {
        return ignored("message event of a bot or without its message".into());
    };
    let ts = str_at(event, &["deleted_ts"]).or_else(|| str_at(message, &["ts"]));
    let (Some(author), Some(ts)) = (str_at(message, &["user"]), ts) else {
        return ignored("message event without author or ts".into());
    };
    // The one who edits a message is its author; a delete may be an admin's, but Slack does
    // not say whose, so it is the author's too.
    let user = str_at(message, &["edited", "user"]).unwrap_or(author);
    let text = if change == RoomChange::Edited {
        str_at(message, &["text"]).unwrap_or_default()
    } else {
        ""
    };
    let author_name = profile_name(message);
    let channel = &in_thread(channel, message, ts);
    let captured = RoomCapture { event_id, user, channel, ts, author, author_name, text };
    captured.decoded_as(change)
}

/// Where a message is, as a room: a reply in a thread is in the thread room `C…/thread_ts`
/// (`slack_room = "thread"`; the service falls back to the channel when no incident's room is
/// that thread), any other message in its channel.
fn in_thread(channel: &str, message: &Value, ts: &str) -> String {
    match str_at(message, &["thread_ts"]) {
        Some(thread) if thread != ts => slack_thread_room(channel, thread),
        _ => channel.to_owned(),
    }
}

/// The author's name on Slack as a message carries it (`user_profile`), for authors Steward
/// does not know: their display name, else their real name.
fn profile_name(message: &Value) -> Option<&str> {
    [["user_profile", "display_name"], ["user_profile", "real_name"]]
        .iter()
        .filter_map(|path| str_at(message, path))
        .find(|name| !name.trim().is_empty())
}

struct RoomCapture<'a> {
    event_id: &'a str,
    user: &'a str,
    channel: &'a str,
    ts: &'a str,
    author: &'a str,
    author_name: Option<&'a str>,
    text: &'a str,
}

impl RoomCapture<'_> {
    fn decoded(self, how: CaptureHow) -> Decoded {
        self.decoded_as(RoomChange::Captured(how))
    }

    fn decoded_as(self, change: RoomChange) -> Decoded {
        let Some(posted_at) = ts_time(self.ts) else {
            return ignored(format!("message ts {:?}", self.ts));
        };
        let inbound = Inbound {
            dedupe_key: format!("slack:event:{}", self.event_id),
            platform: Platform::Slack,
            workspace: None,
            actor: self.user.to_owned(),
            channel: self.channel.to_owned(),
            kind: InboundKind::RoomMessage(RoomMessage {
                channel: self.channel.to_owned(),
                message_id: self.ts.to_owned(),
                author: self.author.to_owned(),
                author_name: self.author_name.map(str::to_owned),
                text: self.text.to_owned(),
                posted_at,
                change,
            }),
        };
        // Nobody is waiting for an answer to a reaction: the acknowledgement is all.
        Decoded::Inbound { inbound, route: ReplyRoute::Ack }
    }
}

/// A Slack `ts` (`"1732352400.000100"`: seconds and microseconds) as a time.
fn ts_time(ts: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let (seconds, micros) = ts.split_once('.').unwrap_or((ts, "0"));
    let micros: u32 = format!("{micros:0<6}").get(..6)?.parse().ok()?;
    chrono::DateTime::from_timestamp(seconds.parse().ok()?, micros * 1000)
}

/// `"<@U0BOT> escalate ACME-1 sev2 down"` → `"escalate ACME-1 sev2 down"`. Only the leading
/// mentions (the bot's) go: a mention further on is part of what was said (`assign 4 <@U…>`).
fn strip_mentions(text: &str) -> String {
    text.split_whitespace()
        .skip_while(|word| word.starts_with("<@") && word.ends_with('>'))
        .collect::<Vec<_>>()
        .join(" ")
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |v, key| v.get(key)).and_then(Value::as_str)
}

fn ignored(why: String) -> Decoded {
    Decoded::Ignored { why }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn workflow_and_root_commands_decode_with_renamed_names() {
        let mut settings = SlackSettings::default();
        settings.commands.insert("escalate".into(), "ops-esc".into());
        let form = |command: &str| CommandForm {
            command: command.into(),
            text: "ACME-1042 sev2 down".into(),
            user_id: "U1".into(),
            channel_id: "C1".into(),
            trigger_id: "T.1".into(),
            team_id: Some("T0ONE".into()),
        };
        let Decoded::Inbound { inbound, route } = command(&settings, form("/ops-esc")) else {
            panic!("not an inbound")
        };
        assert_eq!(route, ReplyRoute::Ack);
        assert_eq!(inbound.dedupe_key, "slack:command:T.1");
        assert_eq!(inbound.workspace.as_deref(), Some("T0ONE"));
        assert_eq!(
            inbound.kind,
            InboundKind::Command { name: "escalate".into(), args: "ACME-1042 sev2 down".into() }
        );
    }

    #[test]
    fn a_click_is_an_action_keyed_by_actor_and_action() {
        let payload = json!({
            "type": "block_actions", "user": {"id": "U1"}, "channel": {"id": "C1"},
            "trigger_id": "t", "response_url": "https://hooks.slack.com/x", "team": {"id": "T0TWO"},
            "actions": [{"action_id": "esc:1:ack:v1", "value": "esc:1:ack:v1"}]
        });
        let Decoded::Inbound { inbound, route } = interaction(&payload) else { panic!() };
        assert_eq!(inbound.dedupe_key, "slack:click:U1:esc:1:ack:v1");
        assert_eq!(inbound.workspace.as_deref(), Some("T0TWO"));
        assert_eq!(route, ReplyRoute::ResponseUrl("https://hooks.slack.com/x".into()));
    }

    #[test]
    fn a_prompt_button_opens_a_modal_and_its_submit_is_a_submission() {
        let prompt = Prompt {
            title: "Reject".into(),
            label: "Reason".into(),
            required: true,
            choices: vec![],
        };
        let payload = json!({
            "type": "block_actions", "user": {"id": "U1"}, "channel": {"id": "C1"},
            "trigger_id": "trig", "actions": [{"action_id": "cr:1:reject:v1",
            "value": serde_json::to_string(&prompt).unwrap()}]
        });
        let Decoded::OpenModal { trigger_id, modal, user, .. } = interaction(&payload) else {
            panic!()
        };
        assert_eq!(user, "U1");
        assert_eq!(trigger_id, "trig");
        let metadata = serde_json::to_string(&modal.metadata).unwrap();
        let submit = json!({
            "type": "view_submission", "user": {"id": "U1"},
            "view": {"private_metadata": metadata,
                     "state": {"values": {"b": {"text": {"type": "plain_text_input", "value": "no budget"}}}}}
        });
        let Decoded::Inbound { inbound, .. } = interaction(&submit) else { panic!() };
        assert_eq!(inbound.channel, "C1");
        let InboundKind::Submission { action, fields } = inbound.kind else { panic!() };
        assert_eq!(action, "cr:1:reject:v1");
        assert_eq!(fields["text"], "no budget");
    }

    #[test]
    fn a_block_suggestion_names_the_modals_action_and_the_typed_text() {
        let metadata = ModalMetadata { action: "esc:4:reassign:v2".into(), channel: "C1".into() };
        let payload = json!({
            "type": "block_suggestion", "user": {"id": "U1"}, "team": {"id": "T1"},
            "action_id": "text",
            "block_id": "prompt", "value": "ali", "container": {"type": "view", "view_id": "V1"},
            "view": {"id": "V1", "type": "modal",
                     "private_metadata": serde_json::to_string(&metadata).unwrap()}
        });
        assert_eq!(
            interaction(&payload),
            Decoded::Suggest {
                user: "U1".into(),
                action: "esc:4:reassign:v2".into(),
                typed: "ali".into(),
                workspace: Some("T1".into()),
            }
        );
        let foreign = json!({"type": "block_suggestion", "user": {"id": "U1"}, "value": "x",
            "view": {"private_metadata": "not ours"}});
        assert!(matches!(interaction(&foreign), Decoded::Ignored { .. }));
    }

    #[test]
    fn mentions_are_commands_keyed_by_event_id() {
        let body = json!({"type": "event_callback", "event_id": "Ev1",
            "event": {"type": "app_mention", "user": "U1", "channel": "C1", "text": "<@UBOT> whoami"}});
        let Decoded::Inbound { inbound, .. } = event(&body, "pushpin") else { panic!() };
        assert_eq!(inbound.dedupe_key, "slack:event:Ev1");
        assert_eq!(
            inbound.kind,
            InboundKind::Command { name: "steward".into(), args: "whoami".into() }
        );
        let body = json!({"type": "event_callback", "event_id": "Ev2",
            "event": {"type": "app_mention", "user": "U1", "channel": "C1",
                      "text": "<@UBOT> assign 4 <@U0SAM>"}});
        let Decoded::Inbound { inbound, .. } = event(&body, "pushpin") else { panic!() };
        assert_eq!(
            inbound.kind,
            InboundKind::Command { name: "steward".into(), args: "assign 4 <@U0SAM>".into() },
            "only the leading mention of the bot goes"
        );
        assert!(matches!(event(&json!({"type": "url_verification", "challenge": "c"}), "pushpin"),
            Decoded::UrlVerification { challenge } if challenge == "c"));
    }

    #[test]
    fn a_pin_emoji_reaction_and_a_pin_are_room_captures_other_reactions_are_ignored() {
        let reaction = |emoji: &str| {
            json!({"type": "event_callback", "event_id": "Ev1", "event": {
                "type": "reaction_added", "user": "U0SAM", "reaction": emoji, "item_user": "U0EXT",
                "item": {"type": "message", "channel": "C0ROOM", "ts": "1763888400.000100"}}})
        };
        let Decoded::Inbound { inbound, route } = event(&reaction("pushpin"), "pushpin") else {
            panic!()
        };
        assert_eq!(route, ReplyRoute::Ack);
        assert_eq!(inbound.dedupe_key, "slack:event:Ev1");
        let InboundKind::RoomMessage(message) = inbound.kind else { panic!() };
        assert_eq!(
            (message.channel.as_str(), message.message_id.as_str()),
            ("C0ROOM", "1763888400.000100")
        );
        assert_eq!(message.author, "U0EXT");
        assert_eq!(message.posted_at.to_rfc3339(), "2025-11-23T09:00:00.000100+00:00");
        assert!(matches!(event(&reaction("tada"), "pushpin"), Decoded::Ignored { .. }));

        let pin = json!({"type": "event_callback", "event_id": "Ev2", "event": {
            "type": "pin_added", "user": "U0SAM", "channel_id": "C0ROOM",
            "item": {"type": "message", "message": {"user": "U0EXT", "text": "Found it", "ts": "1763888400.5"}}}});
        let Decoded::Inbound { inbound, .. } = event(&pin, "pushpin") else { panic!() };
        let InboundKind::RoomMessage(message) = inbound.kind else { panic!() };
        assert_eq!(
            (message.text.as_str(), message.change),
            ("Found it", RoomChange::Captured(CaptureHow::Pin))
        );
        assert_eq!(message.posted_at.timestamp_subsec_millis(), 500);
    }

    #[test]
    fn message_changed_and_deleted_are_room_edits_and_deletes_bots_are_ignored() {
        let changed = |bot: bool| {
            let mut message = json!({"type": "message", "user": "U0SAM", "text": "Found it (v2)",
                "ts": "1763888400.000100", "edited": {"user": "U0SAM", "ts": "1763888500.000000"}});
            if bot {
                message["bot_id"] = json!("B0STEWARD");
            }
            json!({"type": "event_callback", "event_id": "Ev7", "event": {"type": "message",
                "subtype": "message_changed", "channel": "C0ROOM", "hidden": true,
                "message": message, "ts": "1763888500.000200"}})
        };
        let Decoded::Inbound { inbound, route } = event(&changed(false), "pushpin") else {
            panic!()
        };
        assert_eq!((route, inbound.actor.as_str()), (ReplyRoute::Ack, "U0SAM"));
        let InboundKind::RoomMessage(message) = inbound.kind else { panic!() };
        assert_eq!(
            (message.message_id.as_str(), message.text.as_str(), message.change),
            ("1763888400.000100", "Found it (v2)", RoomChange::Edited)
        );
        assert!(matches!(event(&changed(true), "pushpin"), Decoded::Ignored { .. }));

        let deleted = json!({"type": "event_callback", "event_id": "Ev8", "event": {
            "type": "message", "subtype": "message_deleted", "channel": "C0ROOM", "hidden": true,
            "deleted_ts": "1763888400.000100",
            "previous_message": {"type": "message", "user": "U0SAM", "text": "Found it", "ts": "1763888400.000100"}}});
        let Decoded::Inbound { inbound, .. } = event(&deleted, "pushpin") else { panic!() };
        let InboundKind::RoomMessage(message) = inbound.kind else { panic!() };
        assert_eq!(
            (message.message_id.as_str(), message.change),
            ("1763888400.000100", RoomChange::Deleted)
        );
        let plain = json!({"type": "event_callback", "event_id": "Ev9", "event": {
            "type": "message", "channel": "C0ROOM", "user": "U0SAM", "text": "hi", "ts": "1.0"}});
        assert!(matches!(event(&plain, "pushpin"), Decoded::Ignored { .. }));
    }
}
