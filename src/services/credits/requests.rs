//! `/credit`, `/adjust`, `/credit edit|cancel|show` and `/credits`.

use super::{
    Change, approver_dms, build_card, card_messages, expiry, requester_dm, save_change,
    schedule_timers, snapshot,
};
use crate::domain::audit::AuditEntry;
use crate::domain::command::UsageError;
use crate::domain::credit::{
    CreditKind, CreditRequest, CreditState, Payload, compute_chain, payload_hash,
};
use crate::domain::credit_command::{CreditList, Details};
use crate::domain::ids::AccountKey;
use crate::domain::messages::CommandHelp;
use crate::domain::messages::credit as text;
use crate::domain::money::MoneyError;
use crate::domain::reply::{Card, Message, Reply};
use crate::services::Services;
use crate::services::error::AppError;
use crate::services::inbound::Request;
use crate::storage::credits::Filter;
use crate::storage::effects::Effects;
use crate::storage::outbox::{NewOutboxMessage, OutboxKind};
use crate::storage::{self, Tx};

/// Most requests a list shows.
const LIST_LIMIT: i64 = 25;

/// Checks what the parser could not: the reason code against the configuration, and the
/// sign against the kind (an edit does not know the kind when parsed).
fn check_details(
    services: &Services,
    help: &CommandHelp,
    kind: CreditKind,
    details: &Details,
) -> Result<(), AppError> {
    let usage = |problem| AppError::Usage(UsageError { usage: help.usage, problem });
    let codes = &services.settings.credits.reason_codes;
    if !codes.contains(&details.reason) {
        return Err(usage(text::unknown_reason(&details.reason, codes)));
    }
    if kind == CreditKind::Credit && details.amount.is_sign_negative() {
        return Err(usage(text::money_error(&MoneyError::Negative)));
    }
    Ok(())
}

fn payload(details: Details) -> Payload {
    Payload {
        amount: details.amount,
        currency: details.currency,
        reason: details.reason,
        note: details.note,
    }
}

pub async fn request(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    request: &Request<'_>,
    kind: CreditKind,
    account: &AccountKey,
    details: Details,
) -> Result<Reply, AppError> {
    let (actor, now) = (request.actor, request.now);
    let help = if kind == CreditKind::Credit { &text::HELP_CREDIT } else { &text::HELP_ADJUST };
    check_details(services, help, kind, &details)?;
    let account = services
        .directory
        .account(account)
        .ok_or_else(|| AppError::Refused(text::unknown_account(account.as_str())))?;
    let chain = compute_chain(&services.policies.credit.chain, details.amount, &details.currency);
    if chain.is_empty() {
        return Err(AppError::Refused(text::no_chain()));
    }
    let team = services
        .directory
        .team(&actor.team)
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("team {} missing", actor.team)))?;
    let platform = request.inbound.platform;
    let channel =
        team.channels.get(&platform).cloned().unwrap_or_else(|| request.inbound.channel.clone());
    let payload = payload(details);
    let mut credit = CreditRequest {
        id: 0,
        version: 1,
        kind,
        account: account.key.clone(),
        payload_hash: payload_hash(
            &account.key,
            payload.amount,
            &payload.currency,
            &payload.reason,
        ),
        payload,
        requested_by: actor.key.clone(),
        requested_at: now,
        team: team.key.clone(),
        state: CreditState::Pending,
        chain,
        decisions: Vec::new(),
        voided: Vec::new(),
        round: 1,
        expires_at: expiry(services, now),
        reminded: false,
        closed: None,
        platform,
        channel,
        audit_head: None,
    };
    credit.id = storage::credits::next_id(&mut **tx).await?;
    let entry = AuditEntry {
        at: now,
        actor: actor.key.to_string(),
        subject: credit.subject(),
        action: "request".into(),
        before: serde_json::Value::Null,
        after: snapshot(&credit),
    };
    effects.audit.push(credit.chain_audit(entry));
    storage::credits::insert(tx, &credit, now).await?;
    effects.outbox.extend(card_messages(services, tx, &credit, &[], now).await?);
    effects.outbox.extend(approver_dms(services, &credit, now, false));
    schedule_timers(services, effects, &credit, now);
    Ok(Reply::private(text::requested(&credit)))
}

async fn load_for_update(tx: &mut Tx, id: i64) -> Result<CreditRequest, AppError> {
    storage::credits::get_for_update(tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(text::unknown_credit(id)))
}

pub async fn edit(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    request: &Request<'_>,
    id: i64,
    details: Details,
) -> Result<Reply, AppError> {
    let (actor, now) = (request.actor, request.now);
    let current = load_for_update(tx, id).await?;
    check_details(services, &text::HELP_CREDIT_EDIT, current.kind, &details)?;
    let refused = |r| AppError::Refused(text::refusal(&r, &services.directory, actor.time_zone));
    let payload = payload(details);
    let chain = compute_chain(&services.policies.credit.chain, payload.amount, &payload.currency);
    if chain.is_empty() {
        return Err(AppError::Refused(text::no_chain()));
    }
    let expires_at = expiry(services, now);
    let mut next = current
        .edit(actor, current.account.clone(), payload, chain, expires_at)
        .map_err(refused)?;
    next.version += 1;
    let voided = next.voided.len() - current.voided.len();
    let line = text::edited_line(&actor.display_name, &next, voided);
    let mut messages = approver_dms(services, &next, now, false);
    // Those who decided on the old payload learn that their decision is void.
    messages.extend(next.voided[current.voided.len()..].iter().filter_map(|decision| {
        let user = services.directory.person(&decision.by)?.identities.get(&next.platform)?;
        Some(NewOutboxMessage {
            platform: next.platform.as_str().to_owned(),
            kind: OutboxKind::Dm,
            target: user.clone(),
            message: Message::text(text::requester_update(&next, &line)),
            dedupe_key: format!("cr:{}:voided:v{}:{}", next.id, next.version, decision.by),
            not_before: now,
        })
    }));
    let change = Change {
        before: snapshot(&current),
        after: next,
        actor: actor.key.to_string(),
        action: "edit".into(),
        lines: vec![line],
        messages,
    };
    let saved = save_change(services, tx, effects, change, now).await?;
    schedule_timers(services, effects, &saved, now);
    Ok(Reply::private(text::edited(&saved)))
}

pub async fn cancel(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    request: &Request<'_>,
    id: i64,
) -> Result<Reply, AppError> {
    let (actor, now) = (request.actor, request.now);
    let current = load_for_update(tx, id).await?;
    let refused = |r| AppError::Refused(text::refusal(&r, &services.directory, actor.time_zone));
    let mut next = current.cancel(actor, now).map_err(refused)?;
    next.version += 1;
    let line = text::cancelled_line(&actor.display_name);
    let messages = if actor.key == next.requested_by {
        Vec::new()
    } else {
        requester_dm(services, &next, &line, now).into_iter().collect()
    };
    let change = Change {
        before: snapshot(&current),
        after: next,
        actor: actor.key.to_string(),
        action: "cancel".into(),
        lines: vec![line],
        messages,
    };
    let saved = save_change(services, tx, effects, change, now).await?;
    Ok(Reply::private(text::cancelled(&saved)))
}

/// `/credit show <id>`: the card, privately, times in the reader's zone.
pub async fn show(
    services: &Services,
    tx: &mut Tx,
    request: &Request<'_>,
    id: i64,
) -> Result<Reply, AppError> {
    let credit = storage::credits::get(&mut **tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(text::unknown_credit(id)))?;
    let mut card = build_card(services, tx, &credit, request.actor.time_zone, request.now).await?;
    card.living_key = None;
    Ok(Reply { ephemeral: true, message: Message::card(card) })
}

pub async fn list(
    services: &Services,
    tx: &mut Tx,
    request: &Request<'_>,
    filter: &CreditList,
) -> Result<Reply, AppError> {
    let (filter, word) = match filter {
        CreditList::Pending => (Filter::Pending, "pending".to_owned()),
        CreditList::Mine => (Filter::RequestedBy(request.actor.key.to_string()), "mine".to_owned()),
        CreditList::Account(key) => (Filter::Account(key.to_string()), format!("account {key}")),
    };
    let rows = storage::credits::list(&mut **tx, &filter, LIST_LIMIT).await?;
    let lines: Vec<String> = rows.iter().map(|c| text::list_line(c, &services.directory)).collect();
    let body = if lines.is_empty() { text::empty_list() } else { lines.join("\n") };
    Ok(Reply::private_card(Card {
        title: text::list_title(&word, rows.len()),
        body: Some(body),
        ..Card::default()
    }))
}
