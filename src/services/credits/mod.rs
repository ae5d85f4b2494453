//! Credit and adjustment approvals: requests, the approval card, decisions within delegated
//! authority, reminders and expiry.
//!
//! Every change goes through [`save_change`]: an audit record chained from the head kept in
//! the row, a compare-and-set write of the row, the card update and thread lines in the
//! outbox — all in the caller's transaction, written with the inbox row by `inbound`.

mod actions;
mod requests;
mod timers;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

pub use actions::handle_click;
pub use requests::{cancel, edit, list, request, show};
pub use timers::{EXPIRE_JOB, ExpireTimer, REMIND_JOB, RemindTimer};

use super::Services;
use super::error::AppError;
use super::jobs::JobRegistry;
use crate::domain::audit::AuditEntry;
use crate::domain::credit::CreditRequest;
use crate::domain::identity::Person;
use crate::domain::messages::credit as text;
use crate::domain::reply::{Card, Message};
use crate::storage::effects::Effects;
use crate::storage::jobs::NewJob;
use crate::storage::outbox::{NewOutboxMessage, OutboxKind};
use crate::storage::{self, Tx};

/// Registers the credit timers with the job workers.
pub fn register_jobs(registry: &mut JobRegistry) {
    registry.register(REMIND_JOB, Arc::new(RemindTimer));
    registry.register(EXPIRE_JOB, Arc::new(ExpireTimer));
}

/// Most other requests the card lists for the account.
const RECENT_LIMIT: i64 = 5;

/// A change to persist: the request after a transition (version already bumped).
pub(crate) struct Change {
    pub after: CreditRequest,
    /// Person key, or `steward` for timers.
    pub actor: String,
    /// The audit action, e.g. `approve`.
    pub action: String,
    pub before: serde_json::Value,
    pub lines: Vec<String>,
    pub messages: Vec<NewOutboxMessage>,
}

/// The audit view of a request: the payload it is bound to and every decision.
pub(crate) fn snapshot(c: &CreditRequest) -> serde_json::Value {
    serde_json::json!({
        "version": c.version,
        "state": c.state.as_str(),
        "kind": c.kind.as_str(),
        "account": c.account.as_str(),
        "amount": c.payload.amount.to_string(),
        "currency": c.payload.currency.code(),
        "reason": c.payload.reason,
        "note": c.payload.note,
        "payload_hash": c.payload_hash,
        "round": c.round,
        "chain": c.chain,
        "decisions": c.decisions,
        "voided": c.voided.len(),
    })
}

/// The team's zone: the card is read by the whole channel.
pub(crate) fn team_zone(services: &Services, c: &CreditRequest) -> Tz {
    services.directory.team(&c.team).map(|t| t.time_zone).unwrap_or(Tz::UTC)
}

/// The card as of `c`, with the account's recent requests.
pub(crate) async fn build_card(
    services: &Services,
    tx: &mut Tx,
    c: &CreditRequest,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Card, AppError> {
    let days = services.settings.credits.recent_days;
    let since = now - Duration::days(i64::from(days));
    let recent = storage::credits::recent_for_account(
        &mut **tx,
        c.account.as_str(),
        since,
        c.id,
        RECENT_LIMIT,
    )
    .await?;
    Ok(text::card(c, &recent, days, &services.directory, zone))
}

/// The card and its thread lines, as outbox rows.
async fn card_messages(
    services: &Services,
    tx: &mut Tx,
    c: &CreditRequest,
    lines: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<NewOutboxMessage>, AppError> {
    let card = build_card(services, tx, c, team_zone(services, c), now).await?;
    let post = |message: Message, dedupe_key: String| NewOutboxMessage {
        platform: c.platform.as_str().to_owned(),
        kind: OutboxKind::Post,
        target: c.channel.clone(),
        message,
        dedupe_key,
        not_before: now,
    };
    let mut messages = vec![post(Message::card(card), format!("cr:{}:card:v{}", c.id, c.version))];
    for (index, line) in lines.iter().enumerate() {
        let message = Message { thread_of: Some(c.card_key()), ..Message::text(line.clone()) };
        messages.push(post(message, format!("cr:{}:line:v{}:{index}", c.id, c.version)));
    }
    Ok(messages)
}

/// Persists a change (see the module docs). Fails with a conflict if the row moved on.
pub(crate) async fn save_change(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    change: Change,
    now: DateTime<Utc>,
) -> Result<CreditRequest, AppError> {
    let mut c = change.after;
    let entry = AuditEntry {
        at: now,
        actor: change.actor,
        subject: c.subject(),
        action: change.action,
        before: change.before,
        after: snapshot(&c),
    };
    effects.audit.push(c.chain_audit(entry));
    if !storage::credits::update(tx, &c, now).await? {
        let zone = team_zone(services, &c);
        return Err(AppError::Conflict(text::stale_card(&c, &services.directory, zone)));
    }
    effects.outbox.extend(card_messages(services, tx, &c, &change.lines, now).await?);
    effects.outbox.extend(change.messages);
    Ok(c)
}

/// Who may decide the waiting level: holders of its roles other than the requester and
/// those who decided already; at the authority level only those with a limit in the currency.
pub(crate) fn approvers<'a>(services: &'a Services, c: &'a CreditRequest) -> Vec<&'a Person> {
    let Some(level) = c.level() else { return Vec::new() };
    services
        .directory
        .people()
        .filter(|p| level.roles.iter().any(|r| p.has_role(*r)))
        .filter(|p| p.key != c.requested_by && !c.decisions.iter().any(|d| d.by == p.key))
        .filter(|p| {
            !level.authority
                || services
                    .policies
                    .credit
                    .authority
                    .limit_for(p, &level.roles, &c.payload.currency)
                    .is_some()
        })
        .collect()
}

/// DMs to the approvers of the waiting level.
pub(crate) fn approver_dms(
    services: &Services,
    c: &CreditRequest,
    now: DateTime<Utc>,
    reminder: bool,
) -> Vec<NewOutboxMessage> {
    let requester = name_of(services, &c.requested_by);
    let message = Message::text(text::approval_needed(c, &requester, reminder));
    let tag = if reminder { format!("remind:r{}", c.round) } else { format!("ask:v{}", c.version) };
    approvers(services, c)
        .into_iter()
        .filter_map(|person| {
            let user = person.identities.get(&c.platform)?;
            Some(NewOutboxMessage {
                platform: c.platform.as_str().to_owned(),
                kind: OutboxKind::Dm,
                target: user.clone(),
                message: message.clone(),
                dedupe_key: format!("cr:{}:{tag}:{}", c.id, person.key),
                not_before: now,
            })
        })
        .collect()
}

/// The DM telling the requester what happened.
pub(crate) fn requester_dm(
    services: &Services,
    c: &CreditRequest,
    line: &str,
    now: DateTime<Utc>,
) -> Option<NewOutboxMessage> {
    let person = services.directory.person(&c.requested_by)?;
    let user = person.identities.get(&c.platform)?;
    Some(NewOutboxMessage {
        platform: c.platform.as_str().to_owned(),
        kind: OutboxKind::Dm,
        target: user.clone(),
        message: Message::text(text::requester_update(c, line)),
        dedupe_key: format!("cr:{}:requester:v{}", c.id, c.version),
        not_before: now,
    })
}

pub(crate) fn name_of(services: &Services, key: &crate::domain::ids::PersonKey) -> String {
    services
        .directory
        .person(key)
        .map(|p| p.display_name.clone())
        .unwrap_or_else(|| key.to_string())
}

/// Sets the reminder and expiry timers of the request's current round.
pub(crate) fn schedule_timers(
    services: &Services,
    effects: &mut Effects,
    c: &CreditRequest,
    now: DateTime<Utc>,
) {
    let remind_at = now + Duration::hours(i64::from(services.settings.credits.remind_after_hours));
    let payload = serde_json::json!({ "credit": c.id, "round": c.round });
    effects.schedule(NewJob {
        kind: REMIND_JOB.into(),
        payload: payload.clone(),
        run_at: remind_at,
        dedupe_key: Some(format!("cr:{}:remind:r{}", c.id, c.round)),
        max_attempts: 10,
    });
    effects.schedule(NewJob {
        kind: EXPIRE_JOB.into(),
        payload,
        run_at: c.expires_at,
        dedupe_key: Some(format!("cr:{}:expire:r{}", c.id, c.round)),
        max_attempts: 10,
    });
}

/// When a request made or edited at `now` expires.
pub(crate) fn expiry(services: &Services, now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::hours(i64::from(services.settings.credits.expire_after_hours))
}
