//! Where an incident's war room is, and the rules for naming its channel.

use serde::{Deserialize, Serialize};

use crate::domain::ids::Platform;

/// The longest channel name Slack accepts.
pub const MAX_CHANNEL_NAME: usize = 80;

/// How many people one `conversations.invite` call invites. Slack takes up to 1,000 ids per
/// call; smaller batches keep each call quick and a refused batch small.
pub const INVITE_BATCH: usize = 100;

/// One step of making or closing a platform room, sent through the outbox (kind `room`) so
/// that it happens exactly once, after the change that asked for it committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RoomOp {
    /// Make the room channel `name` for incident `incident` (or find it, if an earlier try
    /// made it): the dispatcher then records the room with the incident.
    Create { incident: i64, name: String },
    /// Invite platform users (at most [`INVITE_BATCH`]) into the room channel.
    Invite { channel: String, users: Vec<String> },
    /// Pin the living message `living_key` (posted in `channel`) once it is posted.
    Pin { channel: String, living_key: String },
    /// Archive the room channel.
    Archive { channel: String },
    /// Start the room thread `name` on the living message `living_key` (Discord: the summary
    /// card in the team channel) once it is posted; the thread is found, not started again,
    /// by a retry. The dispatcher then records the room with incident `incident`.
    Thread { incident: i64, living_key: String, name: String },
    /// Make the room a post `name` in the Discord forum channel `forum`, opening with `text`
    /// and tagged with `tags` (the severity's). The dispatcher then records the room (the
    /// post's thread) with incident `incident`.
    ForumPost { incident: i64, forum: String, name: String, text: String, tags: Vec<String> },
    /// Add one platform user to the room thread (Discord adds members one by one).
    AddMember { channel: String, user: String },
}

impl RoomOp {
    /// The living message this step needs posted first, if any.
    pub fn waits_for(&self) -> Option<&str> {
        match self {
            RoomOp::Pin { living_key, .. } | RoomOp::Thread { living_key, .. } => Some(living_key),
            _ => None,
        }
    }

    /// The incident whose room this step makes (its channel id is what the step returns).
    pub fn makes_room_of(&self) -> Option<i64> {
        match self {
            RoomOp::Create { incident, .. }
            | RoomOp::Thread { incident, .. }
            | RoomOp::ForumPost { incident, .. } => Some(*incident),
            _ => None,
        }
    }
}

/// `users` in invite batches of at most [`INVITE_BATCH`], in order.
pub fn invite_batches(users: &[String]) -> Vec<Vec<String>> {
    users.chunks(INVITE_BATCH).map(<[String]>::to_vec).collect()
}

/// An incident's war room: a channel (Slack channel, console channel) or a thread (Discord
/// thread, which is a channel of its own there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub platform: Platform,
    /// The channel people talk in: the Slack channel id, the Discord thread id, the console
    /// channel name.
    pub channel: String,
}

impl Room {
    /// The projected look-up key of commands and events typed in the room.
    pub fn lookup_key(&self) -> String {
        lookup_key(self.platform, &self.channel)
    }
}

pub fn lookup_key(platform: Platform, channel: &str) -> String {
    format!("{platform}:{channel}")
}

/// The room of a Slack incident kept in its summary card's thread (`[incident] slack_room =
/// "thread"`): the channel and the card's `ts`, as one room channel `C…/ts`. A Slack channel
/// id never holds a `/`.
pub fn slack_thread_room(channel: &str, ts: &str) -> String {
    format!("{channel}/{ts}")
}

/// The channel and the thread's `ts` of a room made by [`slack_thread_room`]; None for a
/// room that is a channel of its own.
pub fn thread_room_parts(room: &str) -> Option<(&str, &str)> {
    room.split_once('/')
}

/// The channel a room (or an inbound event's channel) is in: the channel itself, or the
/// channel of a Slack thread room.
pub fn bare_channel(room: &str) -> &str {
    thread_room_parts(room).map_or(room, |(channel, _)| channel)
}

/// The room's channel name: `prefix` + id + `-` + a slug of the title, lowercase, only
/// `[a-z0-9_-]`, at most [`MAX_CHANNEL_NAME`] characters. The slug is cut, never the id.
pub fn channel_name(prefix: &str, id: i64, title: &str) -> String {
    let clean = |text: &str| -> String {
        let mut out = String::new();
        for c in text.chars().flat_map(char::to_lowercase) {
            let c = if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' };
            // No runs of dashes: "Invoices -- not" reads as "invoices-not".
            if c == '-' && (out.is_empty() || out.ends_with('-')) {
                continue;
            }
            out.push(c);
        }
        out
    };
    let head = format!("{}{id}", clean(prefix));
    let slug = clean(title);
    let room = MAX_CHANNEL_NAME.saturating_sub(head.len() + 1);
    let slug = slug[..slug.len().min(room)].trim_end_matches('-');
    if slug.is_empty() { head } else { format!("{head}-{slug}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_prefix_id_and_a_lowercase_slug() {
        assert_eq!(
            channel_name("inc-", 7, "Invoices not generated!"),
            "inc-7-invoices-not-generated"
        );
        assert_eq!(channel_name("INC_", 7, "Ünïcode  & spaces"), "inc_7-n-code-spaces");
        assert_eq!(channel_name("inc-", 7, "???"), "inc-7");
    }

    #[test]
    fn a_name_of_exactly_the_limit_is_kept_and_one_more_character_cuts_the_slug() {
        // "inc-7-" is 6 characters: a 74-character slug fills the name to exactly 80.
        let fits = "a".repeat(74);
        assert_eq!(channel_name("inc-", 7, &fits), format!("inc-7-{fits}"));
        assert_eq!(channel_name("inc-", 7, &fits).len(), MAX_CHANNEL_NAME);
        let over = "b".repeat(75);
        assert_eq!(channel_name("inc-", 7, &over), format!("inc-7-{}", "b".repeat(74)));
    }

    #[test]
    fn the_longest_prefix_and_id_still_leave_a_valid_name() {
        // The configuration allows 40 characters of prefix; ids are at most 19 digits.
        let prefix = "p".repeat(40);
        let name = channel_name(&prefix, i64::MAX, &"Outage ".repeat(30));
        assert_eq!(name.len(), MAX_CHANNEL_NAME, "{name}");
        assert!(name.starts_with(&format!("{prefix}{}-outage", i64::MAX)), "{name}");
        // A cut that lands just after a dash drops the dash, never a digit of the id.
        let name = channel_name("inc-", 1, &format!("{}-x", "a".repeat(73)));
        assert_eq!(name, format!("inc-1-{}", "a".repeat(73)));
    }

    #[test]
    fn a_slack_thread_room_names_its_channel_and_thread() {
        let room = slack_thread_room("C0OPS", "1795424160.000100");
        assert_eq!(thread_room_parts(&room), Some(("C0OPS", "1795424160.000100")));
        assert_eq!(thread_room_parts("C0ROOM1"), None);
    }

    #[test]
    fn invites_go_in_batches_of_at_most_a_hundred() {
        let users: Vec<String> = (0..201).map(|n| format!("U{n}")).collect();
        let batches = invite_batches(&users);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 1]);
        assert_eq!(batches.concat(), users);
        assert!(invite_batches(&[]).is_empty());
    }

    #[test]
    fn a_room_op_round_trips_through_its_outbox_json() {
        let op = RoomOp::Pin { channel: "C1".into(), living_key: "inc:1@C1".into() };
        let json = serde_json::to_string(&op).unwrap();
        assert!(json.contains(r#""op":"pin""#), "{json}");
        assert_eq!(serde_json::from_str::<RoomOp>(&json).unwrap(), op);
        assert_eq!(op.waits_for(), Some("inc:1@C1"));
    }

    #[test]
    fn a_long_title_is_cut_but_never_the_id() {
        let name = channel_name("incident-", 123_456_789, &"very long title ".repeat(20));
        assert!(name.len() <= MAX_CHANNEL_NAME, "{name}");
        assert!(name.starts_with("incident-123456789-very-long"), "{name}");
        assert!(!name.ends_with('-'), "{name}");
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c))
        );
    }
}
