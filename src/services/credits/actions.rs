//! Clicks on the approval card: compare-and-set on the card's version, four eyes and
//! authority checked server-side under the row lock, then [`save_change`](super::save_change).

use super::{Change, approver_dms, build_card, requester_dm, save_change, snapshot};
use crate::domain::credit::{ActionRef, CreditAction, CreditState, check_authority, month_bounds};
use crate::domain::messages::credit as text;
use crate::domain::reply::{Message, Reply};
use crate::services::Services;
use crate::services::error::AppError;
use crate::services::inbound::Request;
use crate::storage::effects::Effects;
use crate::storage::{self, Tx};

/// Handles a click on `cr:<id>:<verb>:v<version>`, with the text typed into the button's
/// prompt if it had one. Seeing the button grants nothing: everything is checked here.
pub async fn handle_click(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    request: &Request<'_>,
    action_ref: &ActionRef,
    typed: Option<&str>,
) -> Result<Reply, AppError> {
    let (actor, now) = (request.actor, request.now);
    let typed = typed.map(str::trim).unwrap_or("").to_owned();
    let action = match action_ref.verb.as_str() {
        "approve" => CreditAction::Approve,
        "reject" => CreditAction::Reject { reason: typed },
        "ask" => CreditAction::AskInfo { question: typed },
        other => return Err(AppError::Refused(crate::domain::messages::unknown_button(other))),
    };
    let current = storage::credits::get_for_update(tx, action_ref.id)
        .await?
        .ok_or_else(|| AppError::NotFound(text::unknown_credit(action_ref.id)))?;
    let refused = |r| AppError::Refused(text::refusal(&r, &services.directory, actor.time_zone));
    if action_ref.version != current.version {
        // An out-of-date card: say who decided (e.g. "already approved by sam"), or show the
        // current card to decide again (an edit voids what the old card showed).
        current.check_decider(actor).map_err(refused)?;
        let mut card = build_card(services, tx, &current, actor.time_zone, now).await?;
        card.living_key = None;
        let stale = text::stale_card(&current, &services.directory, actor.time_zone);
        return Ok(Reply {
            ephemeral: true,
            message: Message { text: Some(stale), ..Message::card(card) },
        });
    }
    let level = current.check_decider(actor).map_err(refused)?.clone();
    if action == CreditAction::Approve && level.authority {
        let payload = &current.payload;
        let who = actor.key.as_str();
        storage::credits::lock_authority(tx, who).await?;
        let (from, to) = month_bounds(now, actor.time_zone);
        let used =
            storage::credits::approved_sum(tx, who, payload.currency.code(), from, to).await?;
        let matrix = &services.policies.credit.authority;
        check_authority(matrix, actor, &level, payload.amount, &payload.currency, used)
            .map_err(refused)?;
        let magnitude = payload.amount.abs();
        storage::credits::record_approval(
            tx,
            current.id,
            who,
            payload.currency.code(),
            magnitude,
            now,
        )
        .await?;
    }
    let mut next = current.decide(actor, &action, now).map_err(refused)?;
    next.version += 1;
    let line = text::decision_line(&action, &actor.display_name, &next);
    let mut messages: Vec<_> = requester_dm(services, &next, &line, now).into_iter().collect();
    if action == CreditAction::Approve && next.state == CreditState::Pending {
        messages.extend(approver_dms(services, &next, now, false));
    }
    let change = Change {
        before: snapshot(&current),
        after: next,
        actor: actor.key.to_string(),
        action: action.verb().to_owned(),
        lines: vec![line],
        messages,
    };
    let saved = save_change(services, tx, effects, change, now).await?;
    Ok(Reply::private(text::done(&action, &saved)))
}
