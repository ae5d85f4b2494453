//! Messages captured from an incident's room: pinned, or reacted to with the configured
//! emoji (or `/pin` on the console); edits update the entry, deletes mark it. A capture is
//! one timeline row keyed by the message's place on its platform, so a redelivered event, a
//! second pin or a second reaction never adds it twice; it does not touch the incident row.

use chrono::{DateTime, Utc};

use crate::domain::ids::Platform;
use crate::domain::incident::room::{bare_channel, lookup_key};
use crate::domain::incident::timeline::{Happening, RoomChange, RoomMessage, source_key};
use crate::domain::messages::incident as text;
use crate::domain::reply::Reply;
use crate::services::Setup;
use crate::services::error::AppError;
use crate::storage::incidents::NewTimelineEntry;
use crate::storage::{self, Tx};

pub async fn capture(
    setup: &Setup,
    tx: &mut Tx,
    platform: Platform,
    now: DateTime<Utc>,
    message: &RoomMessage,
) -> Result<Reply, AppError> {
    let room = lookup_key(platform, &message.channel);
    let mut id = storage::incidents::id_by_room(tx.conn().await?, &room).await?;
    // A reply in a thread of a room channel: the room is the channel, not the thread.
    if id.is_none() && bare_channel(&message.channel) != message.channel {
        let room = lookup_key(platform, bare_channel(&message.channel));
        id = storage::incidents::id_by_room(tx.conn().await?, &room).await?;
    }
    let id = id.ok_or_else(|| AppError::Refused(text::not_a_room(&message.channel)))?;
    // Keyed by the bare channel: a reaction (which names no thread) and a pin of the same
    // reply are one entry.
    let channel = bare_channel(&message.channel);
    let source = source_key(platform.as_str(), channel, &message.message_id);
    let happening = Happening::Captured { text: message.text.clone() };
    match message.change {
        RoomChange::Captured(_) => {
            // Someone Steward knows by their name here; anyone else by their platform name.
            let known = setup.directory.resolve(platform, &message.author);
            let author_name = known
                .map(|p| p.display_name.clone())
                .or_else(|| message.author_name.clone())
                .unwrap_or_else(|| message.author.clone());
            let entry = NewTimelineEntry {
                at: message.posted_at,
                author_key: known.map(|p| p.key.to_string()),
                author_name,
                happening,
                source_key: Some(source),
            };
            let added =
                storage::incidents::insert_entries(tx.conn().await?, id, &[entry]).await? == 1;
            Ok(Reply::private(text::captured(id, added)))
        }
        RoomChange::Edited => {
            let found =
                storage::incidents::edit_captured(tx.conn().await?, id, &source, &happening, now)
                    .await?;
            Ok(Reply::private(text::capture_edited(id, found)))
        }
        RoomChange::Deleted => {
            let found =
                storage::incidents::delete_captured(tx.conn().await?, id, &source, now).await?;
            Ok(Reply::private(text::capture_deleted(id, found)))
        }
    }
}
