//! Edits and deletes on the gateway (`MESSAGE_UPDATE`, `MESSAGE_DELETE`): a message captured
//! on an incident's timeline follows them (the service looks the entry up by the message's
//! place; for other messages nothing is written). The gateway has no event ids: an edit is
//! keyed by the message and its edit time, a delete by the message, so a redelivery after a
//! resume changes the entry once.

use chrono::{DateTime, Utc};

use crate::domain::ids::Platform;
use crate::domain::inbound::{Inbound, InboundKind};
use crate::domain::incident::timeline::{RoomChange, RoomMessage};

/// An edited message as Steward needs it.
pub struct GatewayEdit<'a> {
    pub channel: &'a str,
    pub message: &'a str,
    /// The author (the one who edits a message is its author); absent in some updates.
    pub author: Option<&'a str>,
    /// The new text. Discord sends it only with the Message Content intent
    /// (`[discord] message_content`); without it the text is empty.
    pub content: Option<&'a str>,
    /// When it was edited: updates without it (an embed unfurled) are not edits.
    pub edited_at: Option<DateTime<Utc>>,
}

/// The room change of an edit with its new text, or `None` for an update that is not an
/// edit or whose text Discord did not send.
pub fn edited(edit: &GatewayEdit<'_>, posted_at: DateTime<Utc>) -> Option<Inbound> {
    let edited_at = edit.edited_at?;
    let text = edit.content.filter(|t| !t.trim().is_empty())?;
    let GatewayEdit { channel, message, .. } = edit;
    let author = edit.author.unwrap_or_default();
    Some(room_change(
        format!("discord:edit:{channel}:{message}:{}", edited_at.timestamp_millis()),
        channel,
        message,
        author,
        text,
        posted_at,
        RoomChange::Edited,
    ))
}

/// The room change of a deleted message (Discord does not say who deleted it).
pub fn deleted(channel: &str, message: &str, posted_at: DateTime<Utc>) -> Inbound {
    let key = format!("discord:delete:{channel}:{message}");
    room_change(key, channel, message, "", "", posted_at, RoomChange::Deleted)
}

fn room_change(
    dedupe_key: String,
    channel: &str,
    message: &str,
    author: &str,
    text: &str,
    posted_at: DateTime<Utc>,
    change: RoomChange,
) -> Inbound {
    Inbound {
        dedupe_key,
        platform: Platform::Discord,
        workspace: None,
        actor: author.to_owned(),
        channel: channel.to_owned(),
        kind: InboundKind::RoomMessage(RoomMessage {
            channel: channel.to_owned(),
            message_id: message.to_owned(),
            author: author.to_owned(),
            author_name: None,
            text: text.to_owned(),
            posted_at,
            change,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(content: Option<&str>, edited: bool) -> GatewayEdit<'_> {
        GatewayEdit {
            channel: "5000000000000000",
            message: "175928847299117063",
            author: Some("100000000000000002"),
            content,
            edited_at: edited.then(|| DateTime::from_timestamp(1_800_000_000, 0).unwrap()),
        }
    }

    #[test]
    fn an_edit_with_its_text_is_a_room_edit_keyed_by_its_edit_time() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let inbound = edited(&edit(Some("Rolled back"), true), now).unwrap();
        assert_eq!(
            inbound.dedupe_key,
            "discord:edit:5000000000000000:175928847299117063:1800000000000"
        );
        let InboundKind::RoomMessage(message) = inbound.kind else { panic!("not a room message") };
        assert_eq!((message.text.as_str(), message.change), ("Rolled back", RoomChange::Edited));
    }

    #[test]
    fn updates_that_are_not_edits_or_carry_no_text_are_nothing() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert!(edited(&edit(Some("Rolled back"), false), now).is_none());
        assert!(edited(&edit(Some(""), true), now).is_none());
        assert!(edited(&edit(None, true), now).is_none());
    }
}
