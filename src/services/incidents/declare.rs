//! `/incident declare`: a new incident, its summary card, its room and its first timers.

use chrono::{DateTime, Utc};

use super::{Incidents, room, timers};
use crate::domain::ids::{AccountKey, Platform};
use crate::domain::incident::timeline::Happening;
use crate::domain::incident::{Incident, IncidentDeclaration, Room};
use crate::domain::item::{ItemKind, LivingItem};
use crate::domain::messages::incident as text;
use crate::domain::reply::{Message, Reply};
use crate::domain::severity::Severity;
use crate::services::Services;
use crate::services::error::AppError;
use crate::services::inbound::Event;
use crate::services::items::{self, audit};
use crate::storage::effects::Effects;
use crate::storage::incidents::NewTimelineEntry;
use crate::storage::outbox::{NewOutboxMessage, OutboxKind};
use crate::storage::{self, Tx};

pub async fn declare(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    event: &Event<'_>,
    severity: Severity,
    title: &str,
    accounts: &[AccountKey],
) -> Result<Reply, AppError> {
    let (actor, now) = (event.actor, event.now);
    // Every account must exist before anything is written.
    let mut affected = Vec::new();
    for key in accounts {
        let account = services
            .directory
            .account(key)
            .ok_or_else(|| AppError::Refused(text::unknown_account(key.as_str())))?;
        affected.push((account.key.clone(), account.tier.clone()));
    }
    let team = items::team_of(services, &actor.team)?;
    let (platform, channel) = items::home_of(team, event);
    let settings = &services.settings.incident;
    let mut incident = Incident::declared(IncidentDeclaration {
        team: team.key.clone(),
        title: title.trim().to_owned(),
        severity,
        declared_by: actor.key.clone(),
        declared_at: now,
        accounts: affected,
        escalation: None,
        cadence: settings.update_every.of(severity),
        platform,
        channel,
    });
    incident.id = storage::items::next_id(&mut **tx, ItemKind::Incident).await?;
    let mut messages = Vec::new();
    // The console's room is a console channel, there as soon as it is named; the platforms'
    // rooms are made by the outbox (Slack channel, Discord thread).
    let mut room_name = format!("{}{}", settings.channel_prefix, incident.id);
    if room::makes_channel(services, platform) {
        let (create, name) = room::create_step(services, &incident, now);
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
        "accounts": accounts.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
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
    if !items::create::<Incidents>(services, tx, effects, &incident, &[], messages, now).await? {
        return Err(AppError::Unexpected(anyhow::anyhow!("incident {} exists", incident.id)));
    }
    storage::incidents::insert_entries(tx, incident.id, &[entry]).await?;
    timers::schedule_no_commander(services, effects, &incident);
    Ok(Reply::private(text::declared(&incident, &room_name)))
}

/// A plain message into the incident's room (`what` completes its dedupe key).
pub(super) fn room_post(
    incident: &Incident,
    room: &str,
    body: String,
    what: &str,
    now: DateTime<Utc>,
) -> NewOutboxMessage {
    NewOutboxMessage {
        platform: incident.platform.as_str().to_owned(),
        kind: OutboxKind::Post,
        target: room.to_owned(),
        message: Message::text(body),
        dedupe_key: incident.key(what),
        not_before: now,
    }
}
