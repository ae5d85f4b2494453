//! The war room on its platform. The console's room is a channel named at declare; a Slack
//! room (`[incident] slack_room = "channel"`) is made through the outbox, step by step, each
//! step exactly once (`RoomOp`, outbox kind `room`):
//!
//! ```text
//! declare ─▶ create (name_taken → the existing channel) ─▶ room_created: the incident records
//!   the room; its save posts the card copy into it; invites in batches; pin the copy
//! resolve ─▶ job archive_room after `archive_after` ─▶ archive
//! ```
//!
//! Commands typed in the room's channel find the incident through the room's projected
//! look-up key, so they may leave the id out.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Incidents;
use crate::config::RoomMode;
use crate::domain::ids::Platform;
use crate::domain::incident::room::{channel_name, invite_batches, thread_room_parts};
use crate::domain::incident::timeline::Happening;
use crate::domain::incident::{Incident, IncidentState, Room, RoomOp};
use crate::domain::item::{ItemKind, LivingItem, SYSTEM_ACTOR};
use crate::domain::messages::incident as text;
use crate::domain::reply::Message;
use crate::services::error::AppError;
use crate::services::items::{self, Change, mirror_key};
use crate::services::jobs::{JobError, JobHandler, payload};
use crate::services::{Services, Setup};
use crate::storage::effects::Effects;
use crate::storage::incidents::NewTimelineEntry;
use crate::storage::jobs::{Job, NewJob};
use crate::storage::outbox::{NewOutboxMessage, OutboxKind};
use crate::storage::{self, Tx};

/// Job kind `incident.archive_room`.
pub const ARCHIVE_ROOM: &str = "archive_room";

/// Records that incident `id`'s room is `room`; a second report of the same room changes
/// nothing (the room is made once, however often that is reported).
pub async fn room_opened(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    id: i64,
    room: Room,
    now: DateTime<Utc>,
) -> Result<Incident, AppError> {
    let current = storage::items::get_for_update::<Incident>(tx.conn().await?, id)
        .await?
        .ok_or_else(|| AppError::NotFound(text::unknown_incident(id)))?;
    if current.room.as_ref() == Some(&room) {
        return Ok(current);
    }
    let mut next = current.clone();
    next.room = Some(room.clone());
    let entry = system_entry(Happening::RoomOpened { channel: room.channel.clone() }, now);
    storage::incidents::insert_entries(tx.conn().await?, id, &[entry]).await?;
    let change = Change::new(current, next, SYSTEM_ACTOR, "room");
    items::save::<Incidents>(setup, tx, effects, change, now).await
}

/// The outbox step that makes the room of a new incident, with the room's name: a Slack
/// channel of its own (`slack_room = "channel"`), the card's thread (`slack_room = "thread"`),
/// a Discord thread on the summary card. None
/// elsewhere (the console's room is named at declare).
pub(super) fn create_step(
    setup: &Setup,
    incident: &Incident,
    now: DateTime<Utc>,
) -> Option<(NewOutboxMessage, String)> {
    let settings = &setup.settings.incident;
    let name = channel_name(&settings.channel_prefix, incident.id, &incident.title);
    let op = match incident.living.platform {
        Platform::Slack if settings.slack_room == RoomMode::Channel => {
            RoomOp::Create { incident: incident.id, name: name.clone() }
        }
        Platform::Discord if settings.discord_forum.is_some() => RoomOp::ForumPost {
            incident: incident.id,
            forum: settings.discord_forum.clone().unwrap_or_default(),
            name: name.clone(),
            text: text::forum_post_opened(incident, &settings.pin_emoji),
            tags: settings
                .discord_forum_tags
                .get(&incident.severity)
                .cloned()
                .into_iter()
                .collect(),
        },
        // The card's thread: nothing to make on Slack, the step only waits for the card.
        Platform::Slack | Platform::Discord => RoomOp::Thread {
            incident: incident.id,
            living_key: incident.card_key(),
            name: name.clone(),
        },
        _ => return None,
    };
    Some((step(incident, &incident.living.channel, &op, "room:create", now), name))
}

/// The room's channel when it is a Slack channel of its own (not the team's channel): the
/// one Steward made, keeps a card copy in, and archives.
pub(super) fn own_channel(incident: &Incident) -> Option<&str> {
    let room = incident.room.as_ref()?;
    let thread = thread_room_parts(&room.channel).is_some();
    (room.platform == Platform::Slack && room.channel != incident.living.channel && !thread)
        .then_some(room.channel.as_str())
}

/// The channels the summary card is kept in besides the team's: the room's, until archived.
pub(super) fn card_mirrors(incident: &Incident) -> Vec<String> {
    match own_channel(incident) {
        Some(channel) if incident.room_archived_at.is_none() => vec![channel.to_owned()],
        _ => Vec::new(),
    }
}

/// Called by the outbox dispatcher once the platform made (or found) incident `id`'s room
/// channel: records it (whose save posts the card copy into it), invites the responders in
/// batches and pins the copy, in one transaction. Repeating it changes nothing: the room is
/// recorded once and every step has its dedupe key.
pub async fn room_created(
    services: &Services,
    platform: Platform,
    id: i64,
    channel: &str,
) -> anyhow::Result<()> {
    let setup = services.setup();
    let now = services.clock().now();
    let mut tx = crate::storage::Tx::begin(services.pool()).await?;
    let mut effects = services.effects();
    let room = Room { platform, channel: channel.to_owned() };
    let incident = room_opened(setup, &mut tx, &mut effects, id, room, now).await?;
    // A Slack thread room is the team's channel: nobody to invite, the card is the parent.
    if platform == Platform::Slack && thread_room_parts(channel).is_some() {
        storage::effects::write_all(tx.conn().await?, &effects, now).await?;
        tx.commit().await?;
        return Ok(());
    }
    let users = invitees(setup, &incident);
    effects.outbox.extend(invite_steps(&incident, channel, users, "room:invite", now));
    // A Slack room keeps a pinned copy of the card; a Discord thread starts from the card.
    if platform == Platform::Slack {
        let living_key = mirror_key(&incident.card_key(), channel);
        let op = RoomOp::Pin { channel: channel.to_owned(), living_key };
        effects.send(step(&incident, channel, &op, "room:pin", now));
    }
    storage::effects::write_all(tx.conn().await?, &effects, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The invite of the people a change made responders or role holders, when the room's
/// channel exists already (the ones before were invited when it was made).
pub(super) fn invite_newcomers(
    setup: &Setup,
    before: &Incident,
    after: &Incident,
    now: DateTime<Utc>,
) -> Option<Vec<NewOutboxMessage>> {
    let made = match &before.room {
        Some(room) if room.platform == Platform::Discord => Some(room.channel.as_str()),
        _ => own_channel(before),
    };
    let channel = made.filter(|_| before.room_archived_at.is_none())?;
    let known = invitees(setup, before);
    let users: Vec<String> =
        invitees(setup, after).into_iter().filter(|u| !known.contains(u)).collect();
    let what = format!("room:invite:v{}", after.version + 1);
    Some(invite_steps(after, channel, users, &what, now))
}

/// The steps that bring `users` into the room: Slack invites in batches, Discord adds
/// thread members one by one. `what` starts their dedupe keys.
fn invite_steps(
    incident: &Incident,
    channel: &str,
    users: Vec<String>,
    what: &str,
    now: DateTime<Utc>,
) -> Vec<NewOutboxMessage> {
    if incident.living.platform == Platform::Discord {
        let add = |user: String| {
            let key = format!("{what}:{user}");
            let op = RoomOp::AddMember { channel: channel.to_owned(), user };
            step(incident, channel, &op, &key, now)
        };
        return users.into_iter().map(add).collect();
    }
    let invite = |(n, users): (usize, Vec<String>)| {
        let op = RoomOp::Invite { channel: channel.to_owned(), users };
        step(incident, channel, &op, &format!("{what}:{n}"), now)
    };
    invite_batches(&users).into_iter().enumerate().map(invite).collect()
}

/// The platform ids of the responders and role holders, each once, in order.
fn invitees(setup: &Setup, incident: &Incident) -> Vec<String> {
    let roles = [&incident.roles.commander, &incident.roles.comms, &incident.roles.scribe];
    let people = incident.responders.iter().chain(roles.into_iter().flatten());
    let mut users: Vec<String> = Vec::new();
    for key in people {
        let Some(person) = setup.directory.person(key) else { continue };
        if let Some(user) = person.user_on(incident.living.platform)
            && !users.iter().any(|u| u == user)
        {
            users.push(user.to_owned());
        }
    }
    users
}

fn step(
    incident: &Incident,
    target: &str,
    op: &RoomOp,
    what: &str,
    now: DateTime<Utc>,
) -> NewOutboxMessage {
    NewOutboxMessage {
        platform: incident.living.platform.as_str().to_owned(),
        kind: OutboxKind::Room,
        target: target.to_owned(),
        message: Message::text(serde_json::to_string(op).unwrap_or_default()),
        dedupe_key: incident.key(what),
        not_before: now,
        workspace: incident.living.workspace.clone(),
    }
}

fn system_entry(happening: Happening, now: DateTime<Utc>) -> NewTimelineEntry {
    NewTimelineEntry {
        at: now,
        author_key: None,
        author_name: text::steward_author(),
        happening,
        source_key: None,
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ArchivePayload {
    incident: i64,
    /// The resolve this run is about; a reopen (and a later resolve) makes it moot.
    resolved_at: DateTime<Utc>,
}

/// After every save of a resolved incident with a room channel: archive it
/// `incident.archive_after` after the resolve (once per resolve).
pub(super) fn schedule_archive(setup: &Setup, effects: &mut Effects, incident: &Incident) {
    let Some(resolved) = &incident.resolved else { return };
    if incident.state != IncidentState::Resolved
        || incident.room_archived_at.is_some()
        || own_channel(incident).is_none()
    {
        return;
    }
    effects.schedule(NewJob {
        kind: ItemKind::Incident.job_kind(ARCHIVE_ROOM),
        payload: serde_json::json!({ "incident": incident.id, "resolved_at": resolved.at }),
        run_at: resolved.at + setup.settings.incident.archive_after,
        dedupe_key: Some(incident.key(format_args!("room:archive:{}", resolved.at.timestamp()))),
        max_attempts: 5,
    });
}

/// Archives the room channel of an incident still resolved by the same resolve. The
/// transcript needs nothing more: its entries were written as they were captured.
pub struct ArchiveRoom;

#[async_trait]
impl JobHandler for ArchiveRoom {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let ArchivePayload { incident, resolved_at } = payload(job)?;
        let current = storage::items::get_for_update::<Incident>(tx.conn().await?, incident)
            .await
            .map_err(JobError::retry)?;
        let Some(current) = current else { return Ok(()) };
        let still = current.state == IncidentState::Resolved
            && current.resolved.as_ref().map(|r| r.at) == Some(resolved_at)
            && current.room_archived_at.is_none();
        let Some(channel) = own_channel(&current).filter(|_| still).map(str::to_owned) else {
            return Ok(());
        };
        let now = services.clock().now();
        let entry = system_entry(Happening::RoomArchived { channel: channel.clone() }, now);
        storage::incidents::insert_entries(tx.conn().await?, incident, &[entry])
            .await
            .map_err(JobError::retry)?;
        let archive = step(
            &current,
            &channel,
            &RoomOp::Archive { channel: channel.clone() },
            "room:archive",
            now,
        );
        let mut next = current.clone();
        next.room_archived_at = Some(now);
        let change = Change::new(current, next, SYSTEM_ACTOR, "archive_room").messages([archive]);
        items::save_in_job::<Incidents>(services, tx, services.effects(), change).await
    }
}
