//! The incident timeline: every change to an incident (a [`Happening`]) and every message
//! captured from its room (pinned, or reacted to with the configured emoji) is an entry with
//! its own time and author. Entries are rows of their own (`incident_timeline`), so a busy room
//! never rewrites the incident's document, and a captured message is keyed by where it lives
//! on its platform, so a redelivered event never adds it twice.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::IncidentRole;
use crate::domain::ids::{AccountKey, PersonKey};
use crate::domain::severity::Severity;

/// What happened to an incident: the automatic timeline entry of each change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Happening {
    Declared {
        severity: Severity,
        title: String,
    },
    Role {
        role: IncidentRole,
        to: PersonKey,
        previous: Option<PersonKey>,
    },
    Joined,
    Update {
        text: String,
    },
    Note {
        text: String,
    },
    Severity {
        from: Severity,
        to: Severity,
    },
    AccountAdded {
        account: AccountKey,
    },
    AccountRemoved {
        account: AccountKey,
    },
    Mitigated,
    Resolved {
        summary: String,
    },
    Reopened,
    NoticeDrafted {
        number: u32,
        account: AccountKey,
    },
    NoticeApproved {
        number: u32,
        account: AccountKey,
    },
    NoticeSent {
        number: u32,
        account: AccountKey,
    },
    Action {
        number: u32,
        owner: PersonKey,
        due: NaiveDate,
        text: String,
    },
    /// The room exists on its platform (a Slack channel, a Discord thread).
    RoomOpened {
        channel: String,
    },
    /// The room's channel was archived, `incident.archive_after` after resolve.
    RoomArchived {
        channel: String,
    },
    /// A message from the room, captured by a pin or a reaction.
    Captured {
        text: String,
    },
}

/// How a room message was marked for the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureHow {
    Pin,
    Reaction,
}

/// A message from a room, as the platform adapter saw it: captured (pinned, reacted to),
/// edited or deleted. `message_id` is where it lives on its platform (Slack `ts`, Discord
/// message id, console number): the entry's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMessage {
    /// The room's channel (Slack channel id, Discord thread id, console channel name).
    pub channel: String,
    pub message_id: String,
    /// The author's platform user id and, for people Steward does not know, their name on
    /// the platform.
    pub author: String,
    pub author_name: Option<String>,
    pub text: String,
    /// When the message was posted (not when it was pinned).
    pub posted_at: DateTime<Utc>,
    pub change: RoomChange,
}

/// What happened to a room message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomChange {
    Captured(CaptureHow),
    Edited,
    Deleted,
}

/// One timeline entry, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// The author's display name (a platform name for someone Steward does not know).
    pub author: String,
    pub happening: Happening,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The key of a captured message's entry: unique per incident.
pub fn source_key(platform: &str, channel: &str, message_id: &str) -> String {
    format!("{platform}:{channel}:{message_id}")
}
