//! The account-request aggregate and its pure state machine.
//!
//! ```text
//!   queued ──assign──▶ assigned ──accept──▶ in progress ◀──resume── waiting on customer
//!     │                  │  ▲                  │  └──need info──────────▲
//!     │                  │  └──reassign/handoff┘                        │
//!     └──accept──────────┴──────resolve──────────┴──────resolve─────────┴─▶ resolved
//!                                                            resolved ──reopen──▶ in progress
//! ```
//!
//! The first-response clock stops at the first accept (or resolve); the resolution clock
//! pauses while waiting on the customer. A request resolved by its first assignee with no
//! reassignment, hand-off or reopen counts as first-contact resolution.

use crate::domain::item::Living;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use super::action::ActionRef;
use super::calendar::CalendarError;
use super::escalation::{PauseSpan, Resolution, Stamp};
use super::identity::{Person, Role};
use super::ids::{AccountKey, PersonKey, Platform, TeamKey};
use super::item::{ItemKind, LivingItem, Projection, SYSTEM_ACTOR};

use super::sla_policy::{ClockView, SlaPlan};
use super::triage::{Priority, PrioritySource};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Nobody suitable was on shift: it waits in the team queue.
    Queued,
    /// Someone has it but has not accepted it yet.
    Assigned,
    InProgress,
    /// Needs information from the customer: the resolution clock is paused.
    WaitingOnCustomer,
    Resolved,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Queued => "queued",
            RequestState::Assigned => "assigned",
            RequestState::InProgress => "in_progress",
            RequestState::WaitingOnCustomer => "waiting_on_customer",
            RequestState::Resolved => "resolved",
        }
    }
}

/// The latest assignment and why it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub to: PersonKey,
    /// Person key, or `steward` for automatic assignment.
    pub by: String,
    pub at: DateTime<Utc>,
    /// In words, e.g. "least loaded of 3 on shift with skill billing: Bob, 2 open".
    pub reason: String,
}

/// An account request, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: i64,
    /// Bumped by every transition; buttons carry it (compare-and-set).
    pub version: i32,
    pub team: TeamKey,
    pub account: AccountKey,
    pub tier: String,
    /// The request type's key (`billing`, …).
    pub kind: String,
    pub priority: Priority,
    pub priority_source: PrioritySource,
    pub summary: String,
    pub fields: BTreeMap<String, String>,
    /// Who sent it: `chat` or the intake source (`helpdesk`, `crm`, …).
    pub source: String,
    /// The sender's own id of the request, for deduplication of retries.
    pub external_id: Option<String>,
    /// Person key, or the intake source.
    pub requested_by: String,
    pub opened_at: DateTime<Utc>,
    pub state: RequestState,
    pub assignee: Option<PersonKey>,
    pub assignment: Option<Assignment>,
    pub first_assignee: Option<PersonKey>,
    /// Moved to another person after the first assignment (reassign, hand-off).
    pub reassigned: bool,
    pub reopened: bool,
    /// The first accept: stops the first-response clock.
    pub accepted: Option<Stamp>,
    pub resolved: Option<Resolution>,
    /// Resolved by its first assignee with no reassignment, hand-off or reopen.
    pub first_contact_resolution: bool,
    pub sla: SlaPlan,
    pub pauses: Vec<PauseSpan>,
    /// The kernel's part: where its card lives, its workspace, its audit chain's head.
    #[serde(flatten)]
    pub living: Living,
}

/// What a new request is opened with; assignment, acceptance and resolution start empty.
#[derive(Debug, Clone)]
pub struct RequestOpening {
    pub team: TeamKey,
    pub account: AccountKey,
    pub tier: String,
    pub kind: String,
    pub priority: Priority,
    pub priority_source: PrioritySource,
    pub summary: String,
    pub fields: BTreeMap<String, String>,
    pub source: String,
    pub external_id: Option<String>,
    pub requested_by: String,
    pub opened_at: DateTime<Utc>,
    pub sla: SlaPlan,
    pub platform: Platform,
    pub channel: String,
}

impl Request {
    /// A new request at version 1, queued until assigned (id 0 until the row's is known).
    pub fn opened(o: RequestOpening) -> Request {
        Request {
            id: 0,
            version: 1,
            team: o.team,
            account: o.account,
            tier: o.tier,
            kind: o.kind,
            priority: o.priority,
            priority_source: o.priority_source,
            summary: o.summary,
            fields: o.fields,
            source: o.source,
            external_id: o.external_id,
            requested_by: o.requested_by,
            opened_at: o.opened_at,
            state: RequestState::Queued,
            assignee: None,
            assignment: None,
            first_assignee: None,
            reassigned: false,
            reopened: false,
            accepted: None,
            resolved: None,
            first_contact_resolution: false,
            sla: o.sla,
            pauses: Vec::new(),
            living: Living::new(o.platform, o.channel, None),
        }
    }
}

/// What someone (or Steward) asks to do to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestAction {
    /// Automatic assignment or `/assign`.
    Assign {
        to: PersonKey,
        reason: String,
    },
    Accept,
    Reassign {
        to: PersonKey,
    },
    /// `/handoff`: the assignee passes it on at shift end.
    Handoff {
        to: PersonKey,
    },
    NeedInfo,
    Resume,
    Resolve {
        note: String,
    },
    Reopen,
}

impl RequestAction {
    /// The verb in action ids and the audit log.
    pub fn verb(&self) -> &'static str {
        match self {
            RequestAction::Assign { .. } => "assign",
            RequestAction::Accept => "accept",
            RequestAction::Reassign { .. } => "reassign",
            RequestAction::Handoff { .. } => "handoff",
            RequestAction::NeedInfo => "needinfo",
            RequestAction::Resume => "resume",
            RequestAction::Resolve { .. } => "resolve",
            RequestAction::Reopen => "reopen",
        }
    }
}

/// Why an action was refused. Nothing is written for a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    AlreadyResolved(Resolution),
    AlreadyAccepted(Stamp),
    NotInState {
        action: &'static str,
        state: RequestState,
    },
    Role {
        action: &'static str,
        needs: &'static [Role],
    },
    /// Only the assignee (or a lead) may do this.
    NotAssignee(Option<PersonKey>),
    AlreadyAssignee(PersonKey),
    NoteRequired,
}

fn require(actor: &Person, action: &'static str, needs: &'static [Role]) -> Result<(), Refusal> {
    actor.has_any_role(needs).then_some(()).ok_or(Refusal::Role { action, needs })
}

fn is_lead(actor: &Person) -> bool {
    actor.has_any_role(Role::LEADS)
}

/// Checks a prompted verb (`resolve`, `reassign`) before its text is asked for: the state
/// and the roles, which do not depend on the text. Other verbs pass.
pub fn check_before_text(
    current: &Request,
    actor: &Person,
    verb: &str,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    // Stand-ins for the text: a note that is not empty, and the person it is already with,
    // whose refusal (`AlreadyAssignee`) comes only after the role check has passed.
    let action = match verb {
        "resolve" => RequestAction::Resolve { note: "(to be typed)".to_owned() },
        "reassign" => RequestAction::Reassign {
            to: current.assignee.clone().unwrap_or_else(|| actor.key.clone()),
        },
        _ => return Ok(()),
    };
    match apply(current, Some(actor), &action, now) {
        Ok(_) | Err(Refusal::AlreadyAssignee(_)) => Ok(()),
        Err(refusal) => Err(refusal),
    }
}

/// Applies `action` at `now`; `actor` is `None` for Steward itself (automatic assignment).
/// Returns the next state (version not yet bumped).
pub fn apply(
    current: &Request,
    actor: Option<&Person>,
    action: &RequestAction,
    now: DateTime<Utc>,
) -> Result<Request, Refusal> {
    use RequestAction as A;
    use RequestState as S;
    let verb = action.verb();
    if current.state == S::Resolved && !matches!(action, A::Reopen) {
        return match &current.resolved {
            Some(resolution) => Err(Refusal::AlreadyResolved(resolution.clone())),
            None => Err(Refusal::NotInState { action: verb, state: current.state }),
        };
    }
    let is_assignee = |p: &Person| current.assignee.as_ref() == Some(&p.key);
    // The assignee, or a lead, may work on it; Steward may always.
    let assignee_or_lead = || match actor {
        Some(p) if !is_assignee(p) && !is_lead(p) => {
            Err(Refusal::NotAssignee(current.assignee.clone()))
        }
        _ => Ok(()),
    };
    let mut next = current.clone();
    match action {
        A::Assign { to, .. } | A::Reassign { to } | A::Handoff { to } => {
            match (action, actor) {
                (A::Handoff { .. }, Some(p)) if !is_assignee(p) => {
                    return Err(Refusal::NotAssignee(current.assignee.clone()));
                }
                (A::Reassign { .. }, Some(p)) if !is_assignee(p) => require(p, verb, Role::LEADS)?,
                (A::Assign { .. }, Some(p)) => require(p, verb, Role::LEADS)?,
                _ => {}
            }
            if current.assignee.as_ref() == Some(to) {
                return Err(Refusal::AlreadyAssignee(to.clone()));
            }
            let reason = match action {
                A::Assign { reason, .. } => reason.clone(),
                _ => String::new(),
            };
            assign(&mut next, to, actor, reason, now);
        }
        A::Accept => {
            let Some(p) = actor else {
                return Err(Refusal::NotInState { action: verb, state: current.state });
            };
            require(p, verb, Role::WORKERS)?;
            if !matches!(current.state, S::Queued | S::Assigned) {
                return match &current.accepted {
                    Some(stamp) => Err(Refusal::AlreadyAccepted(stamp.clone())),
                    None => Err(Refusal::NotInState { action: verb, state: current.state }),
                };
            }
            if current.assignee.is_some() && !is_assignee(p) && !is_lead(p) {
                return Err(Refusal::NotAssignee(current.assignee.clone()));
            }
            if !is_assignee(p) {
                // Taking it from the queue (or a lead taking it over) assigns it first.
                assign(&mut next, &p.key, actor, String::new(), now);
            }
            next.state = S::InProgress;
            next.accepted.get_or_insert(Stamp { by: p.key.clone(), at: now });
        }
        A::NeedInfo => {
            assignee_or_lead()?;
            if !matches!(current.state, S::Assigned | S::InProgress) {
                return Err(Refusal::NotInState { action: verb, state: current.state });
            }
            next.state = S::WaitingOnCustomer;
            next.pauses.push(PauseSpan { start: now, end: None });
        }
        A::Resume => {
            assignee_or_lead()?;
            if current.state != S::WaitingOnCustomer {
                return Err(Refusal::NotInState { action: verb, state: current.state });
            }
            next.state = if current.accepted.is_some() { S::InProgress } else { S::Assigned };
            PauseSpan::close_open(&mut next.pauses, now);
        }
        A::Resolve { note } => {
            let Some(p) = actor else {
                return Err(Refusal::NotInState { action: verb, state: current.state });
            };
            require(p, verb, Role::WORKERS)?;
            assignee_or_lead()?;
            let note = note.trim();
            if note.is_empty() {
                return Err(Refusal::NoteRequired);
            }
            PauseSpan::close_open(&mut next.pauses, now);
            next.state = S::Resolved;
            next.resolved = Some(Resolution { by: p.key.clone(), at: now, note: note.to_owned() });
            // Resolving answers the customer: it is a first response too.
            next.accepted.get_or_insert(Stamp { by: p.key.clone(), at: now });
            next.first_contact_resolution = !current.reassigned
                && !current.reopened
                && current.first_assignee.as_ref() == Some(&p.key);
        }
        A::Reopen => {
            let Some(p) = actor else {
                return Err(Refusal::NotInState { action: verb, state: current.state });
            };
            require(p, verb, Role::WORKERS)?;
            let Some(resolution) = &current.resolved else {
                return Err(Refusal::NotInState { action: verb, state: current.state });
            };
            // The time it spent resolved does not count against the resolution clock.
            next.pauses.push(PauseSpan { start: resolution.at, end: Some(now) });
            next.resolved = None;
            next.reopened = true;
            next.first_contact_resolution = false;
            next.state = if current.assignee.is_some() { S::InProgress } else { S::Queued };
        }
    }
    Ok(next)
}

fn assign(
    next: &mut Request,
    to: &PersonKey,
    actor: Option<&Person>,
    reason: String,
    now: DateTime<Utc>,
) {
    match &next.first_assignee {
        None => next.first_assignee = Some(to.clone()),
        Some(first) if first != to => next.reassigned = true,
        Some(_) => {}
    }
    if next.assignee.is_some() {
        next.reassigned = true;
    }
    next.assignee = Some(to.clone());
    next.assignment = Some(Assignment {
        to: to.clone(),
        by: actor.map(|p| p.key.to_string()).unwrap_or_else(|| SYSTEM_ACTOR.to_owned()),
        at: now,
        reason,
    });
    // A new person has to accept it; a request waiting on the customer keeps waiting.
    if next.state != RequestState::WaitingOnCustomer {
        next.state = RequestState::Assigned;
    }
}

/// Both clocks of a request at a moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestSla {
    pub first_response: ClockView,
    pub resolve: ClockView,
}

impl Request {
    pub fn is_open(&self) -> bool {
        self.state != RequestState::Resolved
    }

    crate::two_clock_sla!(first: accepted, waiting_in: RequestState::WaitingOnCustomer, view: RequestSla { first_response, resolve });
}

impl LivingItem for Request {
    const KIND: ItemKind = ItemKind::Request;

    crate::living_item_fields!();

    /// What transitions change, with the assignment reason.
    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "version": self.version,
            "state": self.state.as_str(),
            "priority": self.priority.as_str(),
            "assignee": self.assignee.as_ref().map(|a| a.as_str()),
            "assignment_reason": self.assignment.as_ref().map(|a| &a.reason),
            "first_contact_resolution": self.first_contact_resolution,
            "resolution": self.resolved.as_ref().map(|res| &res.note),
        })
    }

    /// The first-response clock runs until the first accept, the resolution clock until
    /// resolution and not while waiting on the customer.
    fn projection(&self) -> Result<Projection, CalendarError> {
        Ok(self
            .clocks()
            .projection()?
            .text("request_type", self.kind.clone())
            .text("priority", self.priority.as_str().to_owned())
            .int("weight", self.priority.weight())
            .text("state", self.state.as_str().to_owned())
            .text("assignee_key", self.assignee.as_ref().map(|a| a.to_string()))
            .text("source", self.source.clone())
            .text("external_id", self.external_id.clone())
            .time("opened_at", Some(self.opened_at))
            .time("accepted_at", self.accepted.as_ref().map(|a| a.at))
            .flag("reopened", Some(self.reopened))
            .flag("first_contact_resolution", Some(self.first_contact_resolution)))
    }
}

#[cfg(test)]
mod tests;
