//! Incident war rooms: declare, roles, updates with a cadence, notices with four eyes,
//! action items, the room and its timeline, the review.
//!
//! An incident is a living item: commands, clicks and timers go through the kernel
//! (`services::items`), which saves every change — audit record, compare-and-set write with
//! the projection, card update and thread line. What the kernel does not have is the
//! timeline: every change writes its entry (`storage::incidents`) in the same transaction,
//! and messages captured from the room are entries of their own that never touch the row.

mod actions;
mod capture;
mod commands;
mod declare;
mod reminders;
mod review;
mod room;
mod timers;

use std::sync::Arc;

pub use actions::Incidents;
pub use capture::capture;
pub use commands::command;
pub use declare::declare_for_escalation;
pub use reminders::{ACTION_DUE, ActionDue, CUSTOMER_UPDATE, CustomerUpdate};
pub use review::review_text;
pub use room::{ARCHIVE_ROOM, ArchiveRoom, room_created, room_opened};
pub use timers::{NO_COMMANDER, NoCommander, UPDATE_DUE, UpdateDue};

use super::jobs::JobRegistry;
use crate::domain::item::ItemKind;

/// Registers the incident timers with the job workers.
pub fn register_jobs(registry: &mut JobRegistry) {
    registry.register(&ItemKind::Incident.job_kind(NO_COMMANDER), Arc::new(NoCommander));
    registry.register(&ItemKind::Incident.job_kind(UPDATE_DUE), Arc::new(UpdateDue));
    registry.register(&ItemKind::Incident.job_kind(ACTION_DUE), Arc::new(ActionDue));
    registry.register(&ItemKind::Incident.job_kind(CUSTOMER_UPDATE), Arc::new(CustomerUpdate));
    registry.register(&ItemKind::Incident.job_kind(ARCHIVE_ROOM), Arc::new(ArchiveRoom));
}
