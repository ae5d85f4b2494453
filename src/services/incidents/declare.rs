//! `/incident declare`: a new incident, its summary card, its room and its first timers.

use chrono::{DateTime, Utc};

use super::{Incidents, room, timers};
use crate::domain::escalation::Escalation;
use crate::domain::identity::Person;
use crate::domain::ids::{AccountKey, Platform};
use crate::domain::incident::timeline::Happening;
use crate::domain::incident::{Incident, IncidentDeclaration, Room};
use crate::domain::item::{ItemKind, LivingItem};
use crate::domain::messages::incident as text;
use crate::domain::reply::{Message, Reply};
use crate::domain::severity::Severity;
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::inbound::Event;
use crate::services::items::{self, audit};
use crate::storage::effects::Effects;
use crate::storage::incidents::NewTimelineEntry;
use crate::storage::outbox::{NewOutboxMessage, OutboxKind};
use crate::storage::{self, Tx};

pub async fn declare(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    event: &Event<'_>,
    severity: Severity,
    title: &str,
    accounts: &[AccountKey],
) -> Result<Reply, AppError> {
    // Every account must exist before anything is written.
    let mut affected = Vec::new();
    for key in accounts {
        let account = items::account_of(setup, key)?;
        affected.push((account.key.clone(), account.tier.clone()));
    }
    let team = items::team_of(setup, &event.actor.team)?;
    let (platform, channel) = items::home_of(team, event);
    let workspace = event.inbound.workspace.clone();
    let opening = Opening {
        severity,
        title,
        accounts: affected,
        escalation: None,
        platform,
        channel,
        workspace,
    };
    let (incident, room_name) = open(setup, tx, effects, event.actor, opening, event.now).await?;
    Ok(Reply::private(text::declared(&incident, &room_name)))
}

/// "Open war room" on escalation `e`'s card: declares an incident linked to it, at its
/// severity, its account affected, its card next to the escalation's. Returns its id.
pub async fn declare_for_escalation(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    actor: &Person,
    e: &Escalation,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let title = text::war_room_title(e.id, &e.summary);
    let opening = Opening {
        severity: e.severity,
        title: &title,
        accounts: vec![(e.account.clone(), e.tier.clone())],
        escalation: Some(e.id),
        platform: e.living.platform,
        channel: e.living.channel.clone(),
        workspace: e.living.workspace.clone(),
    };
    let (incident, _) = open(setup, tx, effects, actor, opening, now).await?;
    Ok(incident.id)
}

/// What a new incident is opened with besides its declarer and time.
pub(super) struct Opening<'a> {
    pub severity: Severity,
    pub title: &'a str,
    /// Affected accounts with their tiers, known to exist.
    pub accounts: Vec<(AccountKey, String)>,
    /// The escalation whose card's "Open war room" declared it.
    pub escalation: Option<i64>,
    /// Where its card lives.
    pub platform: Platform,
    pub channel: String,
    pub workspace: Option<String>,
}

/// Declares an incident: its row, card, room (or the step that makes it), first timeline
/// entry and first timer. Returns it with its room's name.
pub(super) async fn open(
    setup: &Setup,
    tx: &mut Tx,
    effects: &mut Effects,
    actor: &Person,
    opening: Opening<'_>,
    now: DateTime<Utc>,
) -> Result<(Incident, String), AppError> {
    let Opening { severity, title, accounts: affected, escalation, platform, channel, workspace } =
        opening;
    let team = items::team_of(setup, &actor.team)?;
    let settings = &setup.settings.incident;
    let mut incident = Incident::declared(IncidentDeclaration {
        team: team.key.clone(),
        title: title.trim().to_owned(),
        severity,
        declared_by: actor.key.clone(),
        declared_at: now,
        accounts: affected,
        escalation,
        cadence: settings.update_every.of(severity),
        platform,
        channel,
    });
    incident.living.workspace = workspace;
    incident.id = storage::items::next_id(tx.read().await?, ItemKind::Incident).await?;
    let mut messages = Vec::new();
    // The console's room is a console channel, there as soon as it is named; the platforms'
    // rooms are made by the outbox (Slack channel, Discord thread).
    let mut room_name = format!("{}{}", settings.channel_prefix, incident.id);
    if let Some((create, name)) = room::create_step(setup, &incident, now) {
        messages.push(create);
        room_name = name;
    }
    if platform == Platform::Console {
        incident.room = Some(Room { platform, channel: room_name.clone() });
        messages.push(room_post(
            &incident,
            &room_name,
            text::room_opened(&incident),
            "room:opened",
            now,
        ));
    }
    let after = serde_json::json!({
        "title": incident.title,
        "severity": severity.as_str(),
        "accounts": incident.accounts.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(),
        "escalation": escalation,
        "state": incident.snapshot(),
    });
    let actor_key = actor.key.to_string();
    audit(effects, &mut incident, actor_key, "declare", serde_json::Value::Null, after, now);
    let entry = NewTimelineEntry {
        at: now,
        author_key: Some(actor.key.to_string()),
        author_name: actor.display_name.clone(),
        happening: Happening::Declared { severity, title: incident.title.clone() },
        source_key: None,
    };
    if !items::create_once::<Incidents>(setup, tx, effects, &incident, &[], messages, now).await? {
        return Err(AppError::Unexpected(anyhow::anyhow!("incident {} exists", incident.id)));
    }
    storage::incidents::insert_entries(tx.conn().await?, incident.id, &[entry]).await?;
    timers::schedule_no_commander(setup, effects, &incident);
    Ok((incident, room_name))
}

/// A plain message into the incident's room (`what` completes its dedupe key).
pub(super) fn room_post(
    incident: &Incident,
    room: &str,
    body: String,
    what: &str,
    now: DateTime<Utc>,
) -> NewOutboxMessage {
    // A Slack thread room: a reply in the card's thread, in the card's channel.
    if let Some((channel, _)) = crate::domain::incident::room::thread_room_parts(room) {
        return NewOutboxMessage {
            platform: incident.living.platform.as_str().to_owned(),
            kind: OutboxKind::Post,
            target: channel.to_owned(),
            message: Message { thread_of: Some(incident.card_key()), ..Message::text(body) },
            dedupe_key: incident.key(what),
            not_before: now,
            workspace: incident.living.workspace.clone(),
        };
    }
    NewOutboxMessage {
        platform: incident.living.platform.as_str().to_owned(),
        kind: OutboxKind::Post,
        target: room.to_owned(),
        message: Message::text(body),
        dedupe_key: incident.key(what),
        not_before: now,
        workspace: incident.living.workspace.clone(),
    }
}
