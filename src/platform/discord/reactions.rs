//! Reactions on the gateway (`MESSAGE_REACTION_ADD`): the pin emoji on a message in an
//! incident's room thread puts the message on the timeline, like a Slack pin reaction. The
//! event names the message (channel, id) and its author, not its text; the message's own
//! time comes from its snowflake.

use chrono::{DateTime, Utc};

use crate::domain::ids::Platform;
use crate::domain::inbound::{Inbound, InboundKind};
use crate::domain::incident::timeline::{CaptureHow, RoomChange, RoomMessage};

/// Discord's epoch (2015-01-01) in Unix milliseconds: snowflakes count from it.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A gateway reaction as Steward needs it.
pub struct GatewayReaction<'a> {
    pub user: &'a str,
    pub channel: &'a str,
    pub message: &'a str,
    /// The reacted message's author (sent with `MESSAGE_REACTION_ADD`).
    pub author: Option<&'a str>,
    /// The emoji itself for a Unicode emoji (custom emojis never match).
    pub emoji: Option<&'a str>,
}

/// The room capture of a reaction with `pin_emoji`, or `None` for any other reaction. The
/// gateway has no event id: the dedupe key is the reaction itself (who, on which message),
/// so a redelivery after a resume is one capture.
pub fn capture(reaction: &GatewayReaction<'_>, pin_emoji: &str) -> Option<Inbound> {
    if reaction.emoji != Some(pin_emoji) {
        return None;
    }
    let posted_at = snowflake_time(reaction.message)?;
    let GatewayReaction { user, channel, message, .. } = reaction;
    Some(Inbound {
        dedupe_key: format!("discord:reaction:{channel}:{message}:{user}"),
        platform: Platform::Discord,
        workspace: None,
        actor: (*user).to_owned(),
        channel: (*channel).to_owned(),
        kind: InboundKind::RoomMessage(RoomMessage {
            channel: (*channel).to_owned(),
            message_id: (*message).to_owned(),
            author: reaction.author.unwrap_or(user).to_owned(),
            author_name: None,
            text: String::new(),
            posted_at,
            change: RoomChange::Captured(CaptureHow::Reaction),
        }),
    })
}

/// When a snowflake (a message id) was made.
pub(super) fn snowflake_time(id: &str) -> Option<DateTime<Utc>> {
    let id: u64 = id.parse().ok()?;
    let millis = (id >> 22).checked_add(DISCORD_EPOCH_MS)?;
    DateTime::from_timestamp_millis(i64::try_from(millis).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reaction(emoji: Option<&str>) -> GatewayReaction<'_> {
        GatewayReaction {
            user: "100000000000000002",
            channel: "5000000000000000",
            // Discord's documented example snowflake: 2016-04-30 11:18:25.796 UTC.
            message: "175928847299117063",
            author: Some("100000000000000009"),
            emoji,
        }
    }

    #[test]
    fn the_pin_emoji_is_a_capture_at_the_message_time_other_emojis_are_not() {
        let inbound = capture(&reaction(Some("📌")), "📌").unwrap();
        assert_eq!(
            inbound.dedupe_key,
            "discord:reaction:5000000000000000:175928847299117063:100000000000000002"
        );
        let InboundKind::RoomMessage(message) = inbound.kind else { panic!() };
        assert_eq!(message.posted_at.to_rfc3339(), "2016-04-30T11:18:25.796+00:00");
        assert_eq!(message.author, "100000000000000009");
        assert!(capture(&reaction(Some("🎉")), "📌").is_none());
        assert!(capture(&reaction(None), "📌").is_none());
    }
}
