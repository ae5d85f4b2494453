//! `/credit`, `/adjust`, `/credit edit|cancel|show` and `/credits`.

use super::{Credits, approver_dms, expiry, requester_dm, schedule_timers};
use crate::domain::command::UsageError;
use crate::domain::credit::{
    Credit, CreditKind, CreditState, Payload, compute_chain, payload_hash,
};
use crate::domain::credit_command::{CreditList, Details};
use crate::domain::ids::AccountKey;
use crate::domain::item::Living;
use crate::domain::item::{ItemKind, LivingItem};
use crate::domain::messages::CommandHelp;
use crate::domain::messages::credit as text;
use crate::domain::messages::item as item_text;
use crate::domain::money::MoneyError;
use crate::domain::page::Page;
use crate::domain::reply::{Card, Reply};
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::inbound::{Event, EventTx};
use crate::services::items::{self, Change, audit, direct_message};
use crate::storage::credits::Filter;
use crate::storage::{self, Tx};

/// Checks what the parser could not: the reason code against the configuration, and the
/// sign against the kind (an edit does not know the kind when parsed).
fn check_details(
    setup: &Setup,
    help: &CommandHelp,
    kind: CreditKind,
    details: &Details,
) -> Result<(), AppError> {
    let usage = |problem| AppError::Usage(UsageError { usage: help.usage, problem });
    let codes = &setup.settings.credits.reason_codes;
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

/// `/credit` and `/adjust`: opens a credit or adjustment for approval, its card and the
/// messages to its first approvers.
pub async fn open(
    work: EventTx<'_, '_>,
    kind: CreditKind,
    account: &AccountKey,
    details: Details,
) -> Result<Reply, AppError> {
    let EventTx { setup, tx, effects, event } = work;
    let (actor, now) = (event.actor, event.now);
    let help = if kind == CreditKind::Credit { &text::HELP_CREDIT } else { &text::HELP_ADJUST };
    check_details(setup, help, kind, &details)?;
    let account = items::account_of(setup, account)?;
    let chain = compute_chain(&setup.policies.credit.chain, details.amount, &details.currency);
    if chain.is_empty() {
        return Err(AppError::Refused(text::no_chain()));
    }
    // A chain nobody can finish would wait for ever: refuse it now, saying what can be approved.
    if let Some(level) = chain.iter().find(|level| level.authority) {
        let matrix = &setup.policies.credit.authority;
        let approvable = matrix.approvable_currencies(setup.directory.people(), &actor.key, level);
        if !approvable.contains(&details.currency) {
            return Err(AppError::Refused(text::no_authority_in(&details.currency, &approvable)));
        }
    }
    let team = items::team_of(setup, &actor.team)?;
    let (platform, channel) = items::home_of(team, event);
    let payload = payload(details);
    let mut credit = Credit {
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
        expires_at: expiry(setup, now),
        reminded: false,
        closed: None,
        living: Living::new(platform, channel, event.inbound.workspace.clone()),
    };
    credit.id = storage::items::next_id(tx.read().await?, ItemKind::Credit).await?;
    let after = credit.snapshot();
    let actor_key = actor.key.to_string();
    audit(effects, &mut credit, actor_key, "request", serde_json::Value::Null, after, now);
    let dms = approver_dms(setup, &credit, now, false);
    items::create::<Credits>(setup, tx, effects, &credit, &[], dms, now).await?;
    schedule_timers(setup, effects, &credit, now);
    Ok(Reply::private(text::requested(&credit)))
}

async fn load_for_update(tx: &mut Tx, id: i64) -> Result<Credit, AppError> {
    storage::items::get_for_update(tx.conn().await?, id)
        .await?
        .ok_or_else(|| AppError::NotFound(text::unknown_credit(id)))
}

pub async fn edit(work: EventTx<'_, '_>, id: i64, details: Details) -> Result<Reply, AppError> {
    let EventTx { setup, tx, effects, event } = work;
    let (actor, now) = (event.actor, event.now);
    let current = load_for_update(tx, id).await?;
    check_details(setup, &text::HELP_CREDIT_EDIT, current.kind, &details)?;
    let refused = |r| AppError::Refused(text::refusal(&r, &setup.directory, actor.time_zone));
    let payload = payload(details);
    let chain = compute_chain(&setup.policies.credit.chain, payload.amount, &payload.currency);
    if chain.is_empty() {
        return Err(AppError::Refused(text::no_chain()));
    }
    let expires_at = expiry(setup, now);
    let next = current
        .edit(actor, current.account.clone(), payload, chain, expires_at)
        .map_err(refused)?;
    let already_voided = current.voided.len();
    let mut change = Change::new(current, next, actor.key.to_string(), "edit");
    let next = &change.after;
    let line = text::edited_line(&actor.display_name, next, next.voided.len() - already_voided);
    let mut messages = approver_dms(setup, next, now, false);
    // Those who decided on the old payload learn that their decision is void.
    messages.extend(next.voided[already_voided..].iter().filter_map(|decision| {
        let what = format!("voided:v{}:{}", next.version, decision.by);
        let dm = text::requester_update(next, &line);
        direct_message(setup, next, &decision.by, dm, what, now)
    }));
    change = change.messages(messages).line(line);
    let saved = items::save::<Credits>(setup, tx, effects, change, now).await?;
    schedule_timers(setup, effects, &saved, now);
    Ok(Reply::private(text::edited(&saved)))
}

pub async fn cancel(work: EventTx<'_, '_>, id: i64) -> Result<Reply, AppError> {
    let EventTx { setup, tx, effects, event } = work;
    let (actor, now) = (event.actor, event.now);
    let current = load_for_update(tx, id).await?;
    let refused = |r| AppError::Refused(text::refusal(&r, &setup.directory, actor.time_zone));
    let next = current.cancel(actor, now).map_err(refused)?;
    let line = text::cancelled_line(&actor.display_name);
    let mut change = Change::new(current, next, actor.key.to_string(), "cancel");
    if actor.key != change.after.requested_by {
        change.messages.extend(requester_dm(setup, &change.after, &line, now));
    }
    let saved = items::save::<Credits>(setup, tx, effects, change.line(line), now).await?;
    Ok(Reply::private(text::cancelled(&saved)))
}

pub async fn list(
    setup: &Setup,
    tx: &mut Tx,
    event: &Event<'_>,
    filter: &CreditList,
    page: Page,
) -> Result<Reply, AppError> {
    let (filter, word) = match filter {
        CreditList::Pending => (Filter::Pending, "pending".to_owned()),
        CreditList::Mine => (Filter::RequestedBy(event.actor.key.to_string()), "mine".to_owned()),
        CreditList::Account(key) => (Filter::Account(key.to_string()), format!("account {key}")),
    };
    let listing = storage::credits::list(tx.conn().await?, &filter, page).await?;
    let command = text::list_command(&word);
    if listing.items.is_empty() && page > Page::FIRST {
        return Err(AppError::Refused(item_text::page_past_end(page, &command)));
    }
    let mut lines: Vec<String> =
        listing.items.iter().map(|c| text::list_line(c, &setup.directory)).collect();
    lines.extend(item_text::page_footer(&listing, &command));
    let body = if listing.items.is_empty() { text::empty_list() } else { lines.join("\n") };
    Ok(Reply::private_card(Card {
        title: text::list_title(&word, &item_text::listed(&listing)),
        body: Some(body),
        ..Card::default()
    }))
}
