//! Where an incident's war room is, and the rules for naming its channel.

use serde::{Deserialize, Serialize};

use crate::domain::ids::Platform;

/// The longest channel name Slack accepts.
pub const MAX_CHANNEL_NAME: usize = 80;

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
