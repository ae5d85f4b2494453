//! The war room once it exists on its platform: the incident learns where it is, so that
//! commands typed there and messages captured there find it.

use chrono::{DateTime, Utc};

use super::Incidents;
use crate::domain::incident::timeline::Happening;
use crate::domain::incident::{Incident, Room};
use crate::domain::item::SYSTEM_ACTOR;
use crate::domain::messages::incident as text;
use crate::services::Services;
use crate::services::error::AppError;
use crate::services::items::{self, Change};
use crate::storage::effects::Effects;
use crate::storage::incidents::NewTimelineEntry;
use crate::storage::{self, Tx};

/// Records that incident `id`'s room is `room`; a second report of the same room changes
/// nothing (the room is made once, however often that is reported).
pub async fn room_opened(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    id: i64,
    room: Room,
    now: DateTime<Utc>,
) -> Result<Incident, AppError> {
    let current = storage::items::get_for_update::<Incident>(tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(text::unknown_incident(id)))?;
    if current.room.as_ref() == Some(&room) {
        return Ok(current);
    }
    let mut next = current.clone();
    next.room = Some(room.clone());
    let entry = NewTimelineEntry {
        at: now,
        author_key: None,
        author_name: text::steward_author(),
        happening: Happening::RoomOpened { channel: room.channel.clone() },
        source_key: None,
    };
    storage::incidents::insert_entries(tx, id, &[entry]).await?;
    let change = Change::new(current, next, SYSTEM_ACTOR, "room");
    items::save::<Incidents>(services, tx, effects, change, now).await
}
