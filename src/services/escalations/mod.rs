//! Escalations: open, act on the card, page along the policy, watch the SLA clocks.
//!
//! Every change goes through [`save_change`]: compare-and-set write of the aggregate with its
//! deadlines, an audit record, the card update and a thread line in the outbox, and the next
//! SLA check in the job queue — all in the caller's transaction.

mod actions;
mod open;
mod paging;
mod timers;
mod views;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use actions::handle_click;
pub use open::open;
pub use timers::{SLA_CHECK_JOB, STEP_JOB, SlaCheck, StepTimer};
pub use views::{PlanExplanation, explain, explain_plan, list};

use super::Services;
use super::error::AppError;
use super::jobs::JobRegistry;
use crate::domain::audit::AuditEntry;
use crate::domain::escalation::{Escalation, SlaView};
use crate::domain::messages::escalation as text;
use crate::domain::reply::Message;
use crate::storage::effects::Effects;
use crate::storage::escalations::Deadlines;
use crate::storage::jobs::NewJob;
use crate::storage::outbox::{NewOutboxMessage, OutboxKind};
use crate::storage::{self, Tx};

/// Registers the escalation timers with the job workers.
pub fn register_jobs(registry: &mut JobRegistry) {
    registry.register(STEP_JOB, Arc::new(StepTimer));
    registry.register(SLA_CHECK_JOB, Arc::new(SlaCheck));
}

/// A change to persist: the escalation after a transition (version already bumped).
pub(crate) struct Change {
    pub after: Escalation,
    /// Person key, or `steward` for timers.
    pub actor: String,
    /// The audit action, e.g. `acknowledge`.
    pub action: String,
    pub before: serde_json::Value,
    /// Lines for the card's thread.
    pub lines: Vec<String>,
    /// Further messages (pages, DMs).
    pub messages: Vec<NewOutboxMessage>,
}

/// The audit view of an escalation: what transitions change.
pub(crate) fn snapshot(e: &Escalation) -> serde_json::Value {
    serde_json::json!({
        "version": e.version,
        "state": e.state.as_str(),
        "owner": e.owner.as_ref().map(|o| o.as_str()),
        "step": e.step,
        "paging": e.paging,
        "alerts": e.alerts,
        "resolution": e.resolved.as_ref().map(|r| &r.note),
    })
}

/// The team's zone: cards are read by the whole channel.
pub(crate) fn team_zone(services: &Services, e: &Escalation) -> Tz {
    services.directory.team(&e.team).map(|t| t.time_zone).unwrap_or(Tz::UTC)
}

pub(crate) fn sla_view(e: &Escalation, now: DateTime<Utc>) -> Result<SlaView, AppError> {
    e.sla_view(now)
        .map_err(|err| AppError::Unexpected(anyhow::anyhow!("escalation {}: {err}", e.id)))
}

pub(crate) fn deadlines(view: &SlaView) -> Deadlines {
    Deadlines {
        acknowledge_due: view.acknowledge.due,
        acknowledge_risk_at: view.acknowledge.at_risk_at,
        resolve_due: view.resolve.due,
        resolve_risk_at: view.resolve.at_risk_at,
    }
}

/// The card, its thread lines and any other messages, as outbox rows.
pub(crate) fn card_messages(
    services: &Services,
    e: &Escalation,
    view: &SlaView,
    lines: &[String],
    now: DateTime<Utc>,
) -> Vec<NewOutboxMessage> {
    let zone = team_zone(services, e);
    let card = text::card(e, Some(view), &services.directory, zone);
    let post = |message: Message, dedupe_key: String| NewOutboxMessage {
        platform: e.platform.as_str().to_owned(),
        kind: OutboxKind::Post,
        target: e.channel.clone(),
        message,
        dedupe_key,
        not_before: now,
    };
    let mut messages = vec![post(Message::card(card), format!("esc:{}:card:v{}", e.id, e.version))];
    for (index, line) in lines.iter().enumerate() {
        let message = Message { thread_of: Some(e.card_key()), ..Message::text(line.clone()) };
        messages.push(post(message, format!("esc:{}:line:v{}:{index}", e.id, e.version)));
    }
    messages
}

/// Persists a change (see the module docs): the row now, the rest into `effects`. Fails with
/// a conflict if the row moved on.
pub(crate) async fn save_change(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    change: Change,
    now: DateTime<Utc>,
) -> Result<Escalation, AppError> {
    let mut e = change.after;
    let entry = AuditEntry {
        at: now,
        actor: change.actor,
        subject: e.subject(),
        action: change.action,
        before: change.before,
        after: snapshot(&e),
    };
    effects.audit.push(e.chain_audit(entry));
    let view = sla_view(&e, now)?;
    if !storage::escalations::update(tx, &e, &deadlines(&view), now).await? {
        return Err(AppError::Conflict(text::stale_card(e.id)));
    }
    effects.outbox.extend(card_messages(services, &e, &view, &change.lines, now));
    effects.outbox.extend(change.messages);
    schedule_sla_check(effects, &e, &view, now);
    Ok(e)
}

/// Schedules the SLA check for the next moment a clock turns at-risk or breached.
pub(crate) fn schedule_sla_check(
    effects: &mut Effects,
    e: &Escalation,
    view: &SlaView,
    now: DateTime<Utc>,
) {
    let Some(at) = timers::next_sla_check(e, view) else { return };
    // Never "now" itself: a check that finds nothing new must not reschedule onto its own key.
    let at = at.max(now + chrono::Duration::seconds(1));
    effects.schedule(NewJob {
        kind: SLA_CHECK_JOB.into(),
        payload: serde_json::json!({ "escalation": e.id }),
        run_at: at,
        dedupe_key: Some(format!("esc:{}:sla:{}", e.id, at.timestamp())),
        max_attempts: 5,
    });
}
