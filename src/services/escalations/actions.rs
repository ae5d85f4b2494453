//! Button clicks on an escalation card: compare-and-set on the card's version, then the pure
//! transition, then [`save_change`](super::save_change).

use super::paging::page_step;
use super::{Change, save_change, sla_view, snapshot, timers};
use crate::domain::escalation::{ActionRef, EscalationAction, apply};
use crate::domain::ids::PersonKey;
use crate::domain::messages::escalation as text;
use crate::domain::reply::{Message, Reply};
use crate::services::Services;
use crate::services::error::AppError;
use crate::services::inbound::Request;
use crate::storage::effects::Effects;
use crate::storage::outbox::{NewOutboxMessage, OutboxKind};
use crate::storage::{self, Tx};

/// Handles a click on `esc:<id>:<verb>:v<version>`, with the text typed into the button's
/// prompt if it had one.
pub async fn handle_click(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    request: &Request<'_>,
    action_ref: &ActionRef,
    typed: Option<&str>,
) -> Result<Reply, AppError> {
    let actor = request.actor;
    let now = request.now;
    let action = decode_action(services, &action_ref.verb, typed)?;
    let current = storage::escalations::get_for_update(tx, action_ref.id)
        .await?
        .ok_or_else(|| AppError::NotFound(text::unknown_escalation(action_ref.id)))?;
    let refused =
        |refusal| AppError::Refused(text::refusal(&refusal, &services.directory, actor.time_zone));
    if action_ref.version != current.version {
        // The card was out of date. If the action makes no sense any more, say why (e.g.
        // "already acknowledged by sam"); otherwise show the current card to decide again.
        apply(&current, actor, &action, now).map_err(refused)?;
        let view = sla_view(&current, now).ok();
        let mut card = text::card(&current, view.as_ref(), &services.directory, actor.time_zone);
        card.living_key = None;
        let message = Message { text: Some(text::stale_card(current.id)), ..Message::card(card) };
        return Ok(Reply { ephemeral: true, message });
    }
    let mut next = apply(&current, actor, &action, now).map_err(refused)?;
    next.version += 1;
    let mut lines = vec![text::thread_line(&action, &actor.display_name, &services.directory)];
    let mut messages = Vec::new();
    match &action {
        EscalationAction::EscalateNow => {
            if let Some(pages) = page_step(services, &next, now) {
                next.paging = pages.names.clone();
                lines.push(text::paged_line(pages.level, &pages.names, false));
                messages.extend(pages.messages);
            }
            timers::schedule_step(effects, &next, now);
        }
        EscalationAction::Reassign { to } => {
            messages.extend(direct_message(services, &next, to, now, &actor.display_name));
        }
        _ => {}
    }
    if next.acknowledged.is_some() {
        next.paging.clear(); // someone owns it: nobody is being paged any more
    }
    let change = Change {
        before: snapshot(&current),
        after: next,
        actor: actor.key.to_string(),
        action: action.verb().to_owned(),
        lines,
        messages,
    };
    let saved = save_change(services, tx, effects, change, now).await?;
    Ok(Reply::private(text::done(&action, saved.id)))
}

fn decode_action(
    services: &Services,
    verb: &str,
    typed: Option<&str>,
) -> Result<EscalationAction, AppError> {
    let typed = typed.map(str::trim).unwrap_or("");
    Ok(match verb {
        "acknowledge" => EscalationAction::Acknowledge,
        "claim" => EscalationAction::Claim,
        "escalate" => EscalationAction::EscalateNow,
        "wait" => EscalationAction::WaitOnCustomer,
        "resume" => EscalationAction::Resume,
        "reopen" => EscalationAction::Reopen,
        "resolve" => EscalationAction::Resolve { note: typed.to_owned() },
        "reassign" => {
            let key = PersonKey::parse(typed)
                .ok()
                .filter(|key| services.directory.person(key).is_some())
                .ok_or_else(|| AppError::Refused(text::unknown_person_key(typed)))?;
            EscalationAction::Reassign { to: key }
        }
        other => return Err(AppError::Refused(crate::domain::messages::unknown_button(other))),
    })
}

/// Tells the new owner, on the escalation's platform, that it is theirs.
fn direct_message(
    services: &Services,
    e: &crate::domain::escalation::Escalation,
    to: &PersonKey,
    now: chrono::DateTime<chrono::Utc>,
    by: &str,
) -> Option<NewOutboxMessage> {
    let person = services.directory.person(to)?;
    let user = person.identities.get(&e.platform)?;
    Some(NewOutboxMessage {
        platform: e.platform.as_str().to_owned(),
        kind: OutboxKind::Dm,
        target: user.clone(),
        message: Message::text(text::reassigned_to_you(e, by)),
        dedupe_key: format!("esc:{}:assigned:v{}", e.id, e.version),
        not_before: now,
    })
}
