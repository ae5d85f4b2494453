//! The incident commands: `/incident …` and `/incidents`. A command typed in an incident's
//! room may leave out the id: the room names it.

use chrono::{DateTime, Utc};

use super::Incidents;
use super::actions::transition;
use super::declare::{declare, room_post};
use super::review::review_text;
use crate::domain::identity::Person;
use crate::domain::ids::PersonKey;
use crate::domain::incident::room::{bare_channel, lookup_key};
use crate::domain::incident::{Incident, IncidentAction};
use crate::domain::incident_command::{Act, IncidentCommand};
use crate::domain::messages::incident::{self as text, ReviewFormat};
use crate::domain::reply::Reply;
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::inbound::{Event, EventTx};
use crate::services::items;
use crate::storage::outbox::NewOutboxMessage;
use crate::storage::{self, Tx};

/// How many incidents `/incidents` lists at most.
const LIST_LIMIT: i64 = 50;

pub async fn command(work: EventTx<'_, '_>, command: IncidentCommand) -> Result<Reply, AppError> {
    let EventTx { setup, tx, effects, event } = work;
    match command {
        IncidentCommand::Declare { severity, title, accounts } => {
            declare(setup, tx, effects, event, severity, &title, &accounts).await
        }
        IncidentCommand::Act { id, act } => {
            let id = incident_id(tx, event, id).await?;
            let current = storage::items::get_for_update::<Incident>(tx.conn().await?, id)
                .await?
                .ok_or_else(|| AppError::NotFound(text::unknown_incident(id)))?;
            let action = action_of(setup, &current, act)?;
            let messages = messages_of(setup, event.actor, &current, &action, event.now);
            let actor = event.actor;
            let change = transition(setup, tx, actor, current, &action, event.now).await?;
            let change = change.messages(messages);
            let saved = items::save::<Incidents>(setup, tx, effects, change, event.now).await?;
            Ok(Reply::private(text::done(&action, &saved, &setup.directory)))
        }
        IncidentCommand::Review { id } => {
            let id = incident_id(tx, event, id).await?;
            let zone = event.actor.time_zone;
            let review = review_text(setup, tx.conn().await?, id, zone, ReviewFormat::Text).await?;
            Ok(Reply::private(review))
        }
        IncidentCommand::Show { id } => {
            let id = incident_id(tx, event, id).await?;
            items::show::<Incidents>(setup, tx, event, id).await
        }
        IncidentCommand::List { all } => {
            let incidents = storage::incidents::list(tx.conn().await?, all, LIST_LIMIT).await?;
            Ok(Reply::private_card(text::list(&incidents, all, event.actor.time_zone)))
        }
    }
}

/// The named incident, or the one whose room the command was typed in.
async fn incident_id(tx: &mut Tx, event: &Event<'_>, id: Option<i64>) -> Result<i64, AppError> {
    if let Some(id) = id {
        return Ok(id);
    }
    let platform = event.inbound.platform;
    let room = lookup_key(platform, &event.inbound.channel);
    let mut id = storage::incidents::id_by_room(tx.conn().await?, &room).await?;
    // Typed in a thread of a room channel: the room is the channel.
    if id.is_none() && bare_channel(&event.inbound.channel) != event.inbound.channel {
        let room = lookup_key(platform, bare_channel(&event.inbound.channel));
        id = storage::incidents::id_by_room(tx.conn().await?, &room).await?;
    }
    id.ok_or_else(|| AppError::Refused(text::which_incident()))
}

/// The domain action of a command, with what it needs from the directory and settings.
fn action_of(setup: &Setup, incident: &Incident, act: Act) -> Result<IncidentAction, AppError> {
    let settings = &setup.settings.incident;
    Ok(match act {
        Act::Role { role, person } => {
            let person = member(setup, incident, &person)?;
            IncidentAction::AssignRole { role, to: person }
        }
        Act::Join => IncidentAction::Join,
        Act::Update { text } => {
            IncidentAction::Update { text, cadence: settings.update_every.of(incident.severity) }
        }
        Act::Note { text } => IncidentAction::Note { text },
        Act::Severity { to } => {
            IncidentAction::Severity { to, cadence: settings.update_every.of(to) }
        }
        Act::AccountAdd { account } => {
            let found = items::account_of(setup, &account)?;
            IncidentAction::AddAccount { account, tier: found.tier.clone() }
        }
        Act::AccountRemove { account } => IncidentAction::RemoveAccount { account },
        Act::Mitigated => IncidentAction::Mitigated,
        Act::Resolve { summary } => IncidentAction::Resolve { summary },
        Act::Reopen => {
            IncidentAction::Reopen { cadence: settings.update_every.of(incident.severity) }
        }
        Act::Notice { account, text: body } => {
            if setup.directory.account(&account).is_none() {
                return Err(AppError::Refused(text::unknown_account(account.as_str())));
            }
            IncidentAction::DraftNotice { account, text: body }
        }
        Act::Approve { notice } => IncidentAction::ApproveNotice { number: notice },
        Act::Sent { notice } => IncidentAction::MarkNoticeSent {
            number: notice,
            next_update_in: settings.customer_update_every,
        },
        Act::Action { owner, due, text: body } => {
            known(setup, &owner)?;
            IncidentAction::AddAction { owner, due, text: body }
        }
    })
}

fn known(setup: &Setup, key: &PersonKey) -> Result<(), AppError> {
    match setup.directory.person(key) {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound(text::unknown_person(key.as_str()))),
    }
}

/// A person who may hold a role: known, and in the incident's team or joined to it.
fn member(setup: &Setup, incident: &Incident, key: &PersonKey) -> Result<PersonKey, AppError> {
    let person = setup
        .directory
        .person(key)
        .ok_or_else(|| AppError::NotFound(text::unknown_person(key.as_str())))?;
    if person.team != incident.team && !incident.is_member(key) {
        return Err(AppError::Refused(text::not_a_member(&person.display_name, incident.id)));
    }
    Ok(person.key.clone())
}

/// What a change says beyond the card: a status update goes to the room and to the team's
/// stakeholder channel, a notice draft to the room.
fn messages_of(
    setup: &Setup,
    actor: &Person,
    incident: &Incident,
    action: &IncidentAction,
    now: DateTime<Utc>,
) -> Vec<NewOutboxMessage> {
    let version = incident.version + 1;
    let mut out = Vec::new();
    match action {
        IncidentAction::Update { text: body, .. } => {
            let words = text::status_update(incident, body, &actor.display_name);
            if let Some(room) = &incident.room {
                out.push(room_post(
                    incident,
                    &room.channel,
                    words.clone(),
                    &format!("update:v{version}:room"),
                    now,
                ));
            }
            let stakeholders = setup
                .directory
                .team(&incident.team)
                .and_then(|team| team.channels.get(&incident.living.platform).cloned())
                .unwrap_or_else(|| incident.living.channel.clone());
            out.push(room_post(
                incident,
                &stakeholders,
                words,
                &format!("update:v{version}:stakeholders"),
                now,
            ));
        }
        IncidentAction::DraftNotice { account, text: body } => {
            let number = incident.notices.len() as u32 + 1;
            let words = text::notice_draft(incident, number, account, body, &actor.display_name);
            let target = incident
                .room
                .as_ref()
                .map(|r| r.channel.clone())
                .unwrap_or_else(|| incident.living.channel.clone());
            out.push(room_post(incident, &target, words, &format!("notice:{number}:draft"), now));
        }
        _ => {}
    }
    out
}
