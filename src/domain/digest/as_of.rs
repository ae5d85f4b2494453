//! Escalations and requests as they stood at an earlier instant, for a digest replayed as of
//! its slot. An item untouched since the slot stands as its projection says; one changed
//! since is rebuilt here from two records of history: the state its first audit record
//! after the slot started from (the `before` snapshot: state and owner then), and its own
//! timestamps (acknowledgement, pauses), read up to the slot. `storage::digests` then reads
//! these rows in place of the changed items' projected columns. Onboardings are rebuilt
//! from their steps' timestamps alone.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::calendar::CalendarError;
use crate::domain::escalation::{Escalation, ItemClocks};
use crate::domain::item::{Cell, ItemKind, LivingItem};
use crate::domain::onboarding::{Onboarding, OnboardingState, StepState};
use crate::domain::request::Request;

/// A changed item as it stood at the slot, in the columns the digest queries read
/// (`storage::digests`, the `changed` rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemAt {
    /// `escalation` or `request`, as the queries name them.
    pub kind: &'static str,
    pub id: i64,
    pub team_key: String,
    /// Severity or priority.
    pub label: String,
    pub account_key: String,
    /// The owner (escalations) or assignee (requests) at the slot.
    pub person: Option<String>,
    /// Opened by the slot and not resolved at it.
    pub open: bool,
    /// Acknowledged / accepted by the slot: when.
    pub first_at: Option<DateTime<Utc>>,
    /// The deadline of the clocks running at the slot.
    pub due: Option<DateTime<Utc>>,
    pub risk: Option<DateTime<Utc>>,
}

/// The state an item was in, from the `before` snapshot of its first audit record after
/// the instant (`LivingItem::snapshot`: `state`, and the owner under `person_field`).
fn state_then(before: &serde_json::Value, person_field: &str) -> (bool, Option<String>) {
    let person = before.get(person_field).and_then(|p| p.as_str()).map(str::to_owned);
    (resolved_then(before), person)
}

fn resolved_then(before: &serde_json::Value) -> bool {
    before.get("state").and_then(|s| s.as_str()) == Some("resolved")
}

fn item_at(
    kind: ItemKind,
    id: i64,
    (label, person_field): (&str, &str),
    clocks: ItemClocks<'_>,
    before: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<ItemAt, CalendarError> {
    let (resolved, person) = state_then(before, person_field);
    let open = clocks.opened_at <= at && !resolved;
    let deadline = clocks.running_at(at)?;
    Ok(ItemAt {
        kind: kind.noun(),
        id,
        team_key: clocks.team.to_string(),
        label: label.to_owned(),
        account_key: clocks.account.to_string(),
        person,
        open,
        first_at: clocks.first.map(|s| s.at).filter(|first| *first <= at),
        due: deadline.due,
        risk: deadline.at_risk,
    })
}

/// `escalation` as it stood at `at`; `before` is the snapshot its first audit record after
/// `at` started from.
pub fn escalation_at(
    escalation: &Escalation,
    before: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<ItemAt, CalendarError> {
    let label = (escalation.severity.as_str(), "owner");
    item_at(Escalation::KIND, escalation.id, label, escalation.clocks(), before, at)
}

/// `request` as it stood at `at` (see [`escalation_at`]).
pub fn request_at(
    request: &Request,
    before: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<ItemAt, CalendarError> {
    let label = (request.priority.as_str(), "assignee");
    item_at(Request::KIND, request.id, label, request.clocks(), before, at)
}

/// A resolution an item had at an instant and a reopen after it undid: a window ending at
/// the instant counts it as resolved, where the projection now says open (or resolved
/// later). `storage::digests::window_figures` adds it to the resolved items and takes it
/// off the open ones, with the columns it reads there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UndoneResolution {
    /// `escalation` or `request`.
    pub kind: &'static str,
    pub id: i64,
    pub team_key: String,
    /// The owner (escalations) or assignee (requests) then.
    pub person: Option<String>,
    pub opened_at: DateTime<Utc>,
    /// Acknowledged / accepted (set once, so as the projection has it).
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: DateTime<Utc>,
    pub within_sla: bool,
    /// Requests: first-contact resolution and reopened before, as they stood then.
    pub first_contact_resolution: Option<bool>,
    pub reopened: Option<bool>,
    /// The resolve deadline the projection has now, by which the queries would count the
    /// item as open past due.
    pub resolve_due_now: Option<DateTime<Utc>>,
}

fn undone(
    (kind, id, person_field): (ItemKind, i64, &str),
    clocks: ItemClocks<'_>,
    before: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<Option<UndoneResolution>, CalendarError> {
    let Some((resolved_at, within_sla)) =
        resolved_then(before).then(|| clocks.undone_resolution(at)).transpose()?.flatten()
    else {
        return Ok(None);
    };
    let resolve_due_now = match clocks.projection()?.get("resolve_due_at") {
        Some(Cell::Time(due)) => *due,
        _ => None,
    };
    Ok(Some(UndoneResolution {
        kind: kind.noun(),
        id,
        team_key: clocks.team.to_string(),
        person: state_then(before, person_field).1,
        opened_at: clocks.opened_at,
        acknowledged_at: clocks.first.map(|s| s.at),
        resolved_at,
        within_sla,
        first_contact_resolution: None,
        reopened: None,
        resolve_due_now,
    }))
}

/// The resolution `escalation` had at `at`, if a reopen since undid it; `before` is the
/// snapshot its first audit record after `at` started from.
pub fn escalation_undone(
    escalation: &Escalation,
    before: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<Option<UndoneResolution>, CalendarError> {
    undone((Escalation::KIND, escalation.id, "owner"), escalation.clocks(), before, at)
}

/// The resolution `request` had at `at`, if a reopen since undid it (see
/// [`escalation_undone`]); `reopened_before`: it had been reopened by `at` already. Its
/// first-contact resolution then is the snapshot's.
pub fn request_undone(
    request: &Request,
    before: &serde_json::Value,
    reopened_before: bool,
    at: DateTime<Utc>,
) -> Result<Option<UndoneResolution>, CalendarError> {
    let fcr = before.get("first_contact_resolution").and_then(|f| f.as_bool());
    let item = (Request::KIND, request.id, "assignee");
    Ok(undone(item, request.clocks(), before, at)?.map(|undone| UndoneResolution {
        first_contact_resolution: Some(fcr.unwrap_or(false)),
        reopened: Some(reopened_before),
        ..undone
    }))
}

/// An onboarding as it stood at an instant, in the columns the digest queries read of its
/// projection (`storage::digests::attention`, `storage::onboarding::kpi`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnboardingAt {
    pub id: i64,
    pub team_key: String,
    pub account_key: String,
    /// `onboarding` or `active`.
    pub state: String,
    pub current_step: Option<String>,
    pub current_owner: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub steps_missed: i32,
    pub due_at: Option<DateTime<Utc>>,
}

/// `onboarding` as it stood at `at`, from its own timestamps: a step closed after `at` was
/// open then (its clock running), a step started after `at` had not started, and an
/// activation after `at` had not happened; `None` if it started after `at`. The columns
/// are those of the rebuilt onboarding's projection, so they mean what the stored ones do.
pub fn onboarding_at(
    onboarding: &Onboarding,
    at: DateTime<Utc>,
) -> Result<Option<OnboardingAt>, CalendarError> {
    if onboarding.opened_at > at {
        return Ok(None);
    }
    let mut then = onboarding.clone();
    for step in &mut then.steps {
        if step.closed_at.is_some_and(|closed| closed > at) {
            step.state = StepState::Open;
            step.closed_at = None;
            step.closed_by = None;
        }
        if step.started_at.is_some_and(|started| started > at) {
            step.started_at = None;
        }
    }
    if then.activated_at.is_some_and(|activated| activated > at) {
        then.activated_at = None;
        then.state = OnboardingState::Onboarding;
    }
    let projection = then.projection()?;
    let text = |column: &str| match projection.get(column) {
        Some(Cell::Text(value)) => value.clone(),
        _ => None,
    };
    let time = |column: &str| match projection.get(column) {
        Some(Cell::Time(value)) => *value,
        _ => None,
    };
    let steps_missed = match projection.get("steps_missed") {
        Some(Cell::Int(missed)) => *missed,
        _ => 0,
    };
    Ok(Some(OnboardingAt {
        id: then.id,
        team_key: then.team.to_string(),
        account_key: then.account.to_string(),
        state: then.state.as_str().to_owned(),
        current_step: text("current_step"),
        current_owner: text("current_owner"),
        opened_at: then.opened_at,
        activated_at: then.activated_at,
        steps_missed,
        due_at: time("due_at"),
    }))
}

#[cfg(test)]
mod tests;
