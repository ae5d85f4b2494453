//! The neutral input model: one inbound event from any platform, after verification and
//! decoding by its adapter.

use std::collections::BTreeMap;

use super::ids::Platform;

/// One thing a person did in chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// Unique per intent: a platform event id, or for clicks the button's action id plus the
    /// actor, so that retries and double clicks are recognised as the same intent.
    pub dedupe_key: String,
    pub platform: Platform,
    /// The workspace the event came from (Slack's team id, `T…`): the items it creates and
    /// every message they cause belong there, and the actor is looked up in it. `None` on
    /// platforms without workspaces and for events that name none (the single workspace of
    /// the environment's token).
    pub workspace: Option<String>,
    /// The platform's user id of the actor (Slack `U…`, Discord snowflake, console name).
    pub actor: String,
    /// The channel the event came from; replies and cards go there.
    pub channel: String,
    pub kind: InboundKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundKind {
    /// A slash command: `name` without the slash (`steward`, `escalate`), `args` the rest.
    Command { name: String, args: String },
    /// A button click carrying the button's action id.
    Action { action: String },
    /// A click whose button asked for text first (modal submit).
    Submission { action: String, fields: BTreeMap<String, String> },
    /// A message in an incident's room was pinned or reacted to with the pin emoji, edited
    /// or deleted (Slack events, Discord gateway, console `/pin`).
    RoomMessage(super::incident::timeline::RoomMessage),
}

impl Inbound {
    /// A short description for logs and spans: the command name or the action id.
    pub fn summary(&self) -> String {
        match &self.kind {
            InboundKind::Command { name, .. } => format!("/{name}"),
            InboundKind::Action { action } | InboundKind::Submission { action, .. } => {
                action.clone()
            }
            InboundKind::RoomMessage(message) => format!("room message {}", message.message_id),
        }
    }

    /// The dedupe key of a click: the same person pressing the same button on the same card
    /// version twice is one intent, on any platform.
    pub fn click_dedupe_key(platform: Platform, actor: &str, action: &str) -> String {
        format!("{platform}:click:{actor}:{action}")
    }
}
