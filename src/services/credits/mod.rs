//! Credit and adjustment approvals: requests, the approval card, decisions within delegated
//! authority, reminders and expiry.
//!
//! A credit request is a living item: clicks, edits, cancellations and timers go through the
//! kernel (`services::items`), which saves every change — audit record chained from the head
//! in the row, compare-and-set write with the projection, card update and thread lines.

mod actions;
mod commands;
mod timers;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

pub use actions::Credits;
pub use commands::{cancel, edit, list, open};
pub use timers::{EXPIRE, ExpireTimer, REMIND, RemindTimer};

use super::Setup;
use super::jobs::JobRegistry;
use crate::domain::credit::Credit;
use crate::domain::identity::Person;
use crate::domain::item::{ItemKind, LivingItem};
use crate::domain::messages::credit as text;
use crate::domain::reply::Message;
use crate::services::items::{direct_message, name_of};
use crate::storage::effects::Effects;
use crate::storage::jobs::NewJob;
use crate::storage::outbox::{NewOutboxMessage, OutboxKind};

/// Registers the credit timers with the job workers.
pub fn register_jobs(registry: &mut JobRegistry) {
    registry.register(&ItemKind::Credit.job_kind(REMIND), Arc::new(RemindTimer));
    registry.register(&ItemKind::Credit.job_kind(EXPIRE), Arc::new(ExpireTimer));
}

/// Who may decide the waiting level: holders of its roles other than the requester and
/// those who decided already; at the authority level only those whose per-request limit in
/// the currency covers the amount (nobody is asked for what they could only refuse).
pub(crate) fn approvers<'a>(setup: &'a Setup, c: &'a Credit) -> Vec<&'a Person> {
    let Some(level) = c.level() else { return Vec::new() };
    setup
        .directory
        .people()
        .filter(|p| level.roles.iter().any(|r| p.has_role(*r)))
        .filter(|p| p.key != c.requested_by && !c.decisions.iter().any(|d| d.by == p.key))
        .filter(|p| {
            !level.authority
                || setup
                    .policies
                    .credit
                    .authority
                    .limit_for(p, &level.roles, &c.payload.currency)
                    .is_some_and(|limit| c.payload.amount.abs() <= limit.per_request)
        })
        .collect()
}

/// DMs to the approvers of the waiting level.
pub(crate) fn approver_dms(
    setup: &Setup,
    c: &Credit,
    now: DateTime<Utc>,
    reminder: bool,
) -> Vec<NewOutboxMessage> {
    let requester = name_of(setup, &c.requested_by);
    let message = Message::text(text::approval_needed(c, &requester, reminder));
    let tag = if reminder { format!("remind:r{}", c.round) } else { format!("ask:v{}", c.version) };
    approvers(setup, c)
        .into_iter()
        .filter_map(|person| {
            let user = person.user_on(c.living.platform)?;
            Some(NewOutboxMessage {
                platform: c.living.platform.as_str().to_owned(),
                kind: OutboxKind::Dm,
                target: user.to_owned(),
                message: message.clone(),
                dedupe_key: c.key(format_args!("{tag}:{}", person.key)),
                not_before: now,
                workspace: c.living.workspace.clone(),
            })
        })
        .collect()
}

/// The DM telling the requester what happened.
pub(crate) fn requester_dm(
    setup: &Setup,
    c: &Credit,
    line: &str,
    now: DateTime<Utc>,
) -> Option<NewOutboxMessage> {
    let what = format!("requester:v{}", c.version);
    direct_message(setup, c, &c.requested_by, text::requester_update(c, line), what, now)
}

/// Sets the reminder and expiry timers of the request's current round.
pub(crate) fn schedule_timers(
    setup: &Setup,
    effects: &mut Effects,
    c: &Credit,
    now: DateTime<Utc>,
) {
    let remind_at = now + Duration::hours(i64::from(setup.settings.credits.remind_after_hours));
    let payload = serde_json::json!({ "credit": c.id, "round": c.round });
    effects.schedule(NewJob {
        kind: ItemKind::Credit.job_kind(REMIND),
        payload: payload.clone(),
        run_at: remind_at,
        dedupe_key: Some(c.key(format_args!("remind:r{}", c.round))),
        max_attempts: 10,
    });
    effects.schedule(NewJob {
        kind: ItemKind::Credit.job_kind(EXPIRE),
        payload,
        run_at: c.expires_at,
        dedupe_key: Some(c.key(format_args!("expire:r{}", c.round))),
        max_attempts: 10,
    });
}

/// When a request made or edited at `now` expires.
pub(crate) fn expiry(setup: &Setup, now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::hours(i64::from(setup.settings.credits.expire_after_hours))
}
