//! Account requests: intake (chat and the signed HTTP endpoint), triage, assignment to
//! someone on shift, the living card, team views and the queue retry job.
//!
//! Every change goes through [`save_change`]: compare-and-set write of the aggregate with its
//! deadlines, an audit record (chained from the head in the row), the card update and a
//! thread line in the outbox — all in the caller's transaction, as for escalations.

mod actions;
mod assign;
mod commands;
mod jobs;
pub mod loads;
mod open;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use actions::handle_click;
pub use assign::choose;
pub use commands::command;
pub use jobs::{ASSIGN_RETRY_JOB, AssignRetry};
pub use open::{IntakeOutcome, NewRequest, Opened, intake, open_request};

use super::Services;
use super::error::AppError;
use super::jobs::JobRegistry;
use crate::domain::audit::AuditEntry;
use crate::domain::messages::request as text;
use crate::domain::reply::Message;
use crate::domain::request::{Request, RequestSla};
use crate::storage::effects::Effects;
use crate::storage::outbox::{NewOutboxMessage, OutboxKind};
use crate::storage::requests::Deadlines;
use crate::storage::{self, Tx};

/// Registers the request jobs with the job workers.
pub fn register_jobs(registry: &mut JobRegistry) {
    registry.register(ASSIGN_RETRY_JOB, Arc::new(AssignRetry));
}

/// A change to persist: the request after a transition (version already bumped).
pub(crate) struct Change {
    pub after: Request,
    /// Person key, or `steward`.
    pub actor: String,
    pub action: String,
    pub before: serde_json::Value,
    pub lines: Vec<String>,
    pub messages: Vec<NewOutboxMessage>,
}

/// The audit view of a request: what transitions change, with the assignment reason.
pub(crate) fn snapshot(r: &Request) -> serde_json::Value {
    serde_json::json!({
        "version": r.version,
        "state": r.state.as_str(),
        "priority": r.priority.as_str(),
        "assignee": r.assignee.as_ref().map(|a| a.as_str()),
        "assignment_reason": r.assignment.as_ref().map(|a| &a.reason),
        "first_contact_resolution": r.first_contact_resolution,
        "resolution": r.resolved.as_ref().map(|res| &res.note),
    })
}

/// The team's zone: cards are read by the whole channel.
pub(crate) fn team_zone(services: &Services, r: &Request) -> Tz {
    services.directory.team(&r.team).map(|t| t.time_zone).unwrap_or(Tz::UTC)
}

pub(crate) fn sla_view(r: &Request, now: DateTime<Utc>) -> Result<RequestSla, AppError> {
    r.sla_view(now).map_err(|err| AppError::Unexpected(anyhow::anyhow!("request {}: {err}", r.id)))
}

/// Deadlines of running clocks only: a stopped or paused clock has none to query on.
pub(crate) fn deadlines(r: &Request, view: &RequestSla) -> Deadlines {
    let first_running = r.accepted.is_none() && r.resolved.is_none();
    let resolve_running = r.resolved.is_none();
    Deadlines {
        first_response_due: view.first_response.due.filter(|_| first_running),
        first_response_risk_at: view.first_response.at_risk_at.filter(|_| first_running),
        resolve_due: view.resolve.due.filter(|_| resolve_running),
        resolve_risk_at: view.resolve.at_risk_at.filter(|_| resolve_running),
    }
}

/// The card and its thread lines, as outbox rows.
pub(crate) fn card_messages(
    services: &Services,
    r: &Request,
    view: &RequestSla,
    lines: &[String],
    now: DateTime<Utc>,
) -> Vec<NewOutboxMessage> {
    let card = text::card(r, Some(view), &services.directory, team_zone(services, r));
    let post = |message: Message, dedupe_key: String| NewOutboxMessage {
        platform: r.platform.as_str().to_owned(),
        kind: OutboxKind::Post,
        target: r.channel.clone(),
        message,
        dedupe_key,
        not_before: now,
    };
    let mut messages = vec![post(Message::card(card), format!("req:{}:card:v{}", r.id, r.version))];
    for (index, line) in lines.iter().enumerate() {
        let message = Message { thread_of: Some(r.card_key()), ..Message::text(line.clone()) };
        messages.push(post(message, format!("req:{}:line:v{}:{index}", r.id, r.version)));
    }
    messages
}

/// A direct message to a person on the request's platform (nothing if they have no
/// identity there).
pub(crate) fn direct_message(
    services: &Services,
    r: &Request,
    to: &crate::domain::ids::PersonKey,
    text: String,
    dedupe_key: String,
    now: DateTime<Utc>,
) -> Option<NewOutboxMessage> {
    let user = services.directory.person(to)?.identities.get(&r.platform)?;
    Some(NewOutboxMessage {
        platform: r.platform.as_str().to_owned(),
        kind: OutboxKind::Dm,
        target: user.clone(),
        message: Message::text(text),
        dedupe_key,
        not_before: now,
    })
}

/// Persists a change: the row now (compare-and-set), the rest into `effects`.
pub(crate) async fn save_change(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    change: Change,
    now: DateTime<Utc>,
) -> Result<Request, AppError> {
    let mut r = change.after;
    // Accepts, reassignments and resolutions move loads in ways the cache does not follow.
    services.loads.invalidate(&r.team);
    let entry = AuditEntry {
        at: now,
        actor: change.actor,
        subject: r.subject(),
        action: change.action,
        before: change.before,
        after: snapshot(&r),
    };
    effects.audit.push(r.chain_audit(entry));
    let view = sla_view(&r, now)?;
    if !storage::requests::update(tx, &r, &deadlines(&r, &view), now).await? {
        return Err(AppError::Conflict(text::stale_card(r.id)));
    }
    effects.outbox.extend(card_messages(services, &r, &view, &change.lines, now));
    effects.outbox.extend(change.messages);
    Ok(r)
}
