//! Button clicks on a request card (`req:<id>:<verb>:v<version>`) and the shared transition
//! path of `/assign` and `/handoff`.

use chrono::{DateTime, Utc};

use super::{Change, direct_message, save_change, sla_view, snapshot};
use crate::domain::identity::Person;
use crate::domain::ids::PersonKey;
use crate::domain::messages::request as text;
use crate::domain::messages::unknown_button;
use crate::domain::reply::{Message, Reply};
use crate::domain::request::{Request, RequestAction, apply, parse_action_id};
use crate::services::Services;
use crate::services::error::AppError;
use crate::services::inbound::Request as Inbound;
use crate::storage::effects::Effects;
use crate::storage::{self, Tx};

/// Handles a click on a request card, with the text typed into the button's prompt if any.
pub async fn handle_click(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    request: &Inbound<'_>,
    action: &str,
    typed: Option<&str>,
) -> Result<Reply, AppError> {
    let actor = request.actor;
    let now = request.now;
    let action_ref =
        parse_action_id(action).ok_or_else(|| AppError::Refused(unknown_button(action)))?;
    let action = decode_action(services, &action_ref.verb, typed)?;
    let current = storage::requests::get_for_update(tx, action_ref.id)
        .await?
        .ok_or_else(|| AppError::NotFound(text::unknown_request(action_ref.id)))?;
    if action_ref.version != current.version {
        // The card was out of date (someone else acted first). If the action makes no sense
        // any more, say why; otherwise show the current card to decide again.
        apply(&current, Some(actor), &action, now).map_err(|r| refused(services, actor, &r))?;
        let view = sla_view(&current, now).ok();
        let zone = actor.time_zone;
        let mut card = text::card(&current, view.as_ref(), &services.directory, zone);
        card.living_key = None;
        let message = Message { text: Some(text::stale_card(current.id)), ..Message::card(card) };
        return Ok(Reply { ephemeral: true, message });
    }
    let saved = transition(services, tx, effects, actor, current, &action, now).await?;
    Ok(Reply::private(text::done(&action, saved.id, &services.directory)))
}

fn refused(
    services: &Services,
    actor: &Person,
    refusal: &crate::domain::request::Refusal,
) -> AppError {
    AppError::Refused(text::refusal(refusal, &services.directory, actor.time_zone))
}

/// Applies `action` by `actor` to a locked request and saves it, with the thread line, the
/// assignment reason and the direct message to a new assignee.
pub(crate) async fn transition(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    actor: &Person,
    current: Request,
    action: &RequestAction,
    now: DateTime<Utc>,
) -> Result<Request, AppError> {
    let mut next =
        apply(&current, Some(actor), action, now).map_err(|r| refused(services, actor, &r))?;
    next.version += 1;
    let reason = match action {
        RequestAction::Assign { reason, .. } => Some(reason.clone()),
        RequestAction::Reassign { .. } => Some(text::manual_assignment_reason(&actor.display_name)),
        RequestAction::Handoff { .. } => Some(text::handoff_reason(&actor.display_name)),
        RequestAction::Accept if current.assignee.as_ref() != Some(&actor.key) => {
            Some(text::accepted_reason())
        }
        _ => None,
    };
    if let (Some(reason), Some(assignment)) = (&reason, next.assignment.as_mut()) {
        assignment.reason = reason.clone();
    }
    let reason_text = reason.clone().unwrap_or_default();
    let lines =
        vec![text::thread_line(action, &actor.display_name, &reason_text, &services.directory)];
    let mut messages = Vec::new();
    // A hand-off sends one summary for all items instead (see `/handoff`).
    if let RequestAction::Assign { to, .. } | RequestAction::Reassign { to } = action {
        messages.extend(direct_message(
            services,
            &next,
            to,
            text::assigned_to_you(&next, &reason_text),
            format!("req:{}:assigned:v{}", next.id, next.version),
            now,
        ));
    }
    let change = Change {
        before: snapshot(&current),
        after: next,
        actor: actor.key.to_string(),
        action: action.verb().to_owned(),
        lines,
        messages,
    };
    save_change(services, tx, effects, change, now).await
}

fn decode_action(
    services: &Services,
    verb: &str,
    typed: Option<&str>,
) -> Result<RequestAction, AppError> {
    let typed = typed.map(str::trim).unwrap_or("");
    Ok(match verb {
        "accept" => RequestAction::Accept,
        "needinfo" => RequestAction::NeedInfo,
        "resume" => RequestAction::Resume,
        "reopen" => RequestAction::Reopen,
        "resolve" => RequestAction::Resolve { note: typed.to_owned() },
        "reassign" => RequestAction::Reassign { to: known_person(services, typed)? },
        other => return Err(AppError::Refused(unknown_button(other))),
    })
}

/// A person key that names someone in the directory.
pub(crate) fn known_person(services: &Services, raw: &str) -> Result<PersonKey, AppError> {
    PersonKey::parse(raw)
        .ok()
        .filter(|key| services.directory.person(key).is_some())
        .ok_or_else(|| AppError::Refused(text::unknown_person(raw)))
}
