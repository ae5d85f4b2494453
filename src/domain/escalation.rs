//! The escalation aggregate and its state machine.
//!
//! ```text
//!   open ──ack/claim──▶ acknowledged ──wait──▶ waiting on customer
//!     │                   │    ▲                  │
//!     │                   │    └─────resume───────┘
//!     └──────resolve──────┴──────resolve──────────┴──▶ resolved ──reopen──▶ acknowledged
//! ```
//!
//! Transitions are pure: [`apply`] takes the current escalation, the actor, the action and
//! `now`, and returns the next escalation or a [`Refusal`]. The service loads the row
//! `FOR UPDATE`, applies, and writes back with `version + 1`.

use crate::domain::item::Living;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use super::action::ActionRef;
use super::calendar::CalendarError;
use super::identity::{Person, Role};
use super::ids::{AccountKey, PersonKey, Platform, TeamKey};
use super::item::{Deadline, ItemKind, LivingItem, Projection, running_deadline};
use super::policy::EscalationPolicy;
use super::severity::Severity;
use super::sla::Pause;
use super::sla_policy::{ClockView, SlaPlan, both_clocks};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationState {
    /// Nobody has acknowledged it: the policy is paging.
    Open,
    Acknowledged,
    /// Waiting on the customer: the resolve clock is paused.
    WaitingOnCustomer,
    Resolved,
}

impl EscalationState {
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationState::Open => "open",
            EscalationState::Acknowledged => "acknowledged",
            EscalationState::WaitingOnCustomer => "waiting_on_customer",
            EscalationState::Resolved => "resolved",
        }
    }
}

/// Who did something, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub by: PersonKey,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub by: PersonKey,
    pub at: DateTime<Utc>,
    pub note: String,
}

/// A stored pause of the resolve clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseSpan {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

impl PauseSpan {
    /// Ends the pause still open among `pauses`, if any, at `now` (resuming or resolving).
    pub fn close_open(pauses: &mut [PauseSpan], now: DateTime<Utc>) {
        if let Some(pause) = pauses.iter_mut().find(|p| p.end.is_none()) {
            pause.end = Some(now);
        }
    }
}

/// What both SLA clocks of an item (escalation or request) are computed from: the first
/// clock stops at `first`, the resolve clock pauses over `pauses` and while `waiting`, both
/// stop at `resolved`.
pub struct ItemClocks<'a> {
    pub team: &'a TeamKey,
    pub account: &'a AccountKey,
    pub plan: &'a SlaPlan,
    pub opened_at: DateTime<Utc>,
    pub first: Option<&'a Stamp>,
    pub pauses: &'a [PauseSpan],
    pub resolved: Option<&'a Resolution>,
    pub waiting: bool,
}

impl ItemClocks<'_> {
    /// Both clocks' standing at `now`.
    pub fn at(&self, now: DateTime<Utc>) -> Result<(ClockView, ClockView), CalendarError> {
        let (first, resolved) = (self.first.map(|s| s.at), self.resolved.map(|r| r.at));
        both_clocks(self.plan, self.opened_at, first, &pauses_of(self.pauses), resolved, now)
    }

    /// The projection's team, account and SLA columns (see `Projection::two_clocks`).
    pub fn projection(&self) -> Result<Projection, CalendarError> {
        let resolved_at = self.resolved.map(|r| r.at);
        let (first, resolve) = self.at(resolved_at.unwrap_or(self.opened_at))?;
        let first = (first, self.first.map(|s| s.at));
        let owner = (self.team, self.account);
        Ok(Projection::two_clocks(owner, first, resolve, resolved_at, self.waiting)
            .clock_deadlines(first.0, resolve))
    }

    /// The deadline of the clocks that were running at `at` for an item open then: the
    /// first clock unless it had stopped by `at`, the resolve clock unless it was paused
    /// then. A replay (`domain::digest::as_of`) computes it for items changed since `at`,
    /// whose projection tells only how they stand now.
    pub fn running_at(&self, at: DateTime<Utc>) -> Result<Deadline, CalendarError> {
        let first = self.first.map(|s| s.at).filter(|stopped| *stopped <= at);
        let (first_view, resolve) = both_clocks(
            self.plan,
            self.opened_at,
            first,
            &pauses_until(self.pauses, at),
            None,
            at,
        )?;
        // A pause still open at `at` leaves the resolve clock without a deadline, as a
        // paused clock has none now.
        Ok(running_deadline(&[(first_view, first.is_none()), (resolve, true)]))
    }

    /// For an item resolved at `at` and reopened since: when that resolution was (the
    /// reopen paused the resolve clock from it, so it is the start of the pause open at
    /// `at`) and whether it met the resolve target, counting the pauses before it.
    pub fn undone_resolution(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, bool)>, CalendarError> {
        let Some(resolved) = self
            .pauses
            .iter()
            .find(|p| p.start <= at && p.end.is_none_or(|end| end > at))
            .map(|p| p.start)
        else {
            return Ok(None);
        };
        let first = self.first.map(|s| s.at).filter(|stopped| *stopped <= resolved);
        let pauses: Vec<Pause> = pauses_until(self.pauses, resolved)
            .into_iter()
            .filter(|p| p.start < resolved)
            .collect();
        let (_, resolve) =
            both_clocks(self.plan, self.opened_at, first, &pauses, Some(resolved), resolved)?;
        Ok(Some((resolved, resolve.status == super::sla::SlaStatus::Met)))
    }
}

/// The two-clock SLA adapters of an aggregate, expanded inside its inherent `impl`: `clocks()`,
/// its [`ItemClocks`] from the fields every such item names alike (`team`, `account`, `sla`,
/// `opened_at`, `pauses`, `resolved`, `state`) plus the stamp that stops its first clock
/// (`first:`) and the state that pauses its resolve clock (`waiting_in:`); and `sla_view(now)`,
/// both clocks' standing in the item's own view struct with its own field names (`view:`).
/// Escalations and requests share it, so that their clocks cannot drift apart.
#[macro_export]
macro_rules! two_clock_sla {
    (
        first: $first:ident,
        waiting_in: $waiting:path,
        view: $view:ident { $first_view:ident, $resolve_view:ident }
    ) => {
        /// The standing of both clocks at `now`.
        pub fn sla_view(
            &self,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<$view, $crate::domain::calendar::CalendarError> {
            let ($first_view, $resolve_view) = self.clocks().at(now)?;
            Ok($view { $first_view, $resolve_view })
        }

        /// What both SLA clocks are computed from (a replay reads them as of an earlier
        /// instant).
        pub fn clocks(&self) -> $crate::domain::escalation::ItemClocks<'_> {
            $crate::domain::escalation::ItemClocks {
                team: &self.team,
                account: &self.account,
                plan: &self.sla,
                opened_at: self.opened_at,
                first: self.$first.as_ref(),
                pauses: &self.pauses,
                resolved: self.resolved.as_ref(),
                waiting: self.state == $waiting,
            }
        }
    };
}

/// Stored pauses as the SLA clock counts them.
pub fn pauses_of(spans: &[PauseSpan]) -> Vec<Pause> {
    spans.iter().map(|p| Pause { start: p.start, end: p.end }).collect()
}

/// Stored pauses as they stood at `at`: those begun by then, one that ended after `at`
/// still open (a pause begun after `at` was unknown then, and the clock ran).
pub fn pauses_until(spans: &[PauseSpan], at: DateTime<Utc>) -> Vec<Pause> {
    spans
        .iter()
        .filter(|p| p.start <= at)
        .map(|p| Pause { start: p.start, end: p.end.filter(|end| *end <= at) })
        .collect()
}

/// SLA notifications already sent, so each is sent once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SlaAlerts {
    pub acknowledge_at_risk: bool,
    pub acknowledge_breached: bool,
    pub resolve_at_risk: bool,
    pub resolve_breached: bool,
}

/// An escalation, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    pub id: i64,
    /// Bumped by every transition; buttons carry it (compare-and-set).
    pub version: i32,
    pub team: TeamKey,
    pub account: AccountKey,
    pub tier: String,
    pub severity: Severity,
    pub summary: String,
    pub opened_by: PersonKey,
    pub opened_at: DateTime<Utc>,
    pub state: EscalationState,
    pub owner: Option<PersonKey>,
    /// The first acknowledgement (stops the acknowledge clock).
    pub acknowledged: Option<Stamp>,
    pub resolved: Option<Resolution>,
    /// Paging step, 0-based across the policy's levels and passes.
    pub step: u32,
    /// Display names of those paged at the current step.
    pub paging: Vec<String>,
    pub policy: EscalationPolicy,
    pub sla: SlaPlan,
    pub pauses: Vec<PauseSpan>,
    pub alerts: SlaAlerts,
    /// The incident its card's "Open war room" declared, if any.
    #[serde(default)]
    pub incident: Option<i64>,
    /// The kernel's part: where its card lives, its workspace, its audit chain's head.
    #[serde(flatten)]
    pub living: Living,
}

/// What a new escalation is opened with; everything that happens later starts empty.
#[derive(Debug, Clone)]
pub struct EscalationOpening {
    pub team: TeamKey,
    pub account: AccountKey,
    pub tier: String,
    pub severity: Severity,
    pub summary: String,
    pub opened_by: PersonKey,
    pub opened_at: DateTime<Utc>,
    pub policy: EscalationPolicy,
    pub sla: SlaPlan,
    pub platform: Platform,
    pub channel: String,
}

impl Escalation {
    /// A new escalation at version 1, open at paging step 0 (id 0 until the row's is known).
    pub fn opened(o: EscalationOpening) -> Escalation {
        Escalation {
            id: 0,
            version: 1,
            team: o.team,
            account: o.account,
            tier: o.tier,
            severity: o.severity,
            summary: o.summary,
            opened_by: o.opened_by,
            opened_at: o.opened_at,
            state: EscalationState::Open,
            owner: None,
            acknowledged: None,
            resolved: None,
            step: 0,
            paging: Vec::new(),
            policy: o.policy,
            sla: o.sla,
            pauses: Vec::new(),
            alerts: SlaAlerts::default(),
            incident: None,
            living: Living::new(o.platform, o.channel, None),
        }
    }
}

/// What someone asks to do to an escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscalationAction {
    Acknowledge,
    Claim,
    Reassign {
        to: PersonKey,
    },
    EscalateNow,
    WaitOnCustomer,
    Resume,
    Resolve {
        note: String,
    },
    Reopen,
    /// Declare an incident war room for it (the service declares; the escalation records
    /// its id).
    OpenWarRoom,
}

impl EscalationAction {
    /// The verb in action ids and the audit log.
    pub fn verb(&self) -> &'static str {
        match self {
            EscalationAction::Acknowledge => "acknowledge",
            EscalationAction::Claim => "claim",
            EscalationAction::Reassign { .. } => "reassign",
            EscalationAction::EscalateNow => "escalate",
            EscalationAction::WaitOnCustomer => "wait",
            EscalationAction::Resume => "resume",
            EscalationAction::Resolve { .. } => "resolve",
            EscalationAction::Reopen => "reopen",
            EscalationAction::OpenWarRoom => "war_room",
        }
    }
}

/// Why an action was refused. Nothing is written for a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    AlreadyAcknowledged(Stamp),
    AlreadyResolved(Resolution),
    /// The action does not apply in the current state.
    NotInState {
        action: &'static str,
        state: EscalationState,
    },
    /// The actor lacks a role the action needs.
    Role {
        action: &'static str,
        needs: &'static [Role],
    },
    NoteRequired,
    AlreadyOwner(PersonKey),
    /// Every level of every pass has been paged.
    NoFurtherLevels,
    /// Its war room is incident #id already.
    WarRoomOpen(i64),
}

fn require(actor: &Person, action: &'static str, needs: &'static [Role]) -> Result<(), Refusal> {
    actor.has_any_role(needs).then_some(()).ok_or(Refusal::Role { action, needs })
}

/// Who may own `escalation` (the Reassign prompt's choices, and what a reassignment is
/// checked against): its team's agents and supervisors, except its current owner.
pub fn may_own(escalation: &Escalation, person: &Person) -> bool {
    person.team == escalation.team
        && (person.has_role(Role::Agent) || person.has_role(Role::Supervisor))
        && escalation.owner.as_ref() != Some(&person.key)
}

/// Checks a prompted verb (`resolve`, `reassign`) before its text is asked for: the state
/// and the roles, which do not depend on the text. Other verbs pass.
pub fn check_before_text(
    current: &Escalation,
    actor: &Person,
    verb: &str,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    // Stand-ins for the text: a note that is not empty, and the person it already belongs
    // to, whose refusal (`AlreadyOwner`) comes only after the role check has passed.
    let action = match verb {
        "resolve" => EscalationAction::Resolve { note: "(to be typed)".to_owned() },
        "reassign" => EscalationAction::Reassign {
            to: current.owner.clone().unwrap_or_else(|| actor.key.clone()),
        },
        _ => return Ok(()),
    };
    match apply(current, actor, &action, now) {
        Ok(_) | Err(Refusal::AlreadyOwner(_)) => Ok(()),
        Err(refusal) => Err(refusal),
    }
}

/// Applies `action` by `actor` at `now`; returns the next state (version not yet bumped).
pub fn apply(
    current: &Escalation,
    actor: &Person,
    action: &EscalationAction,
    now: DateTime<Utc>,
) -> Result<Escalation, Refusal> {
    use EscalationAction as A;
    use EscalationState as S;
    let verb = action.verb();
    let mut next = current.clone();
    if let (S::Resolved, false) = (current.state, matches!(action, A::Reopen)) {
        let resolution = current
            .resolved
            .clone()
            .ok_or(Refusal::NotInState { action: verb, state: current.state })?;
        return Err(Refusal::AlreadyResolved(resolution));
    }
    let me = || actor.key.clone();
    let stamp = || Stamp { by: actor.key.clone(), at: now };
    match action {
        A::Acknowledge => {
            require(actor, verb, Role::WORKERS)?;
            if current.state != S::Open {
                let first = current
                    .acknowledged
                    .clone()
                    .ok_or(Refusal::NotInState { action: verb, state: current.state })?;
                return Err(Refusal::AlreadyAcknowledged(first));
            }
            next.state = S::Acknowledged;
            next.acknowledged.get_or_insert_with(stamp);
            next.owner.get_or_insert_with(me);
        }
        A::Claim => {
            require(actor, verb, Role::WORKERS)?;
            if current.owner.as_ref() == Some(&actor.key) {
                return Err(Refusal::AlreadyOwner(actor.key.clone()));
            }
            next.owner = Some(me());
            if current.state == S::Open {
                next.state = S::Acknowledged;
                next.acknowledged.get_or_insert_with(stamp);
            }
        }
        A::Reassign { to } => {
            let is_owner = current.owner.as_ref() == Some(&actor.key);
            if !is_owner {
                require(actor, verb, Role::LEADS)?;
            }
            if current.owner.as_ref() == Some(to) {
                return Err(Refusal::AlreadyOwner(to.clone()));
            }
            next.owner = Some(to.clone());
        }
        A::EscalateNow => {
            require(actor, verb, Role::WORKERS)?;
            if current.step + 1 >= current.policy.total_steps() {
                return Err(Refusal::NoFurtherLevels);
            }
            next.step += 1;
        }
        A::WaitOnCustomer => {
            require(actor, verb, Role::WORKERS)?;
            if current.state != S::Acknowledged {
                return Err(Refusal::NotInState { action: verb, state: current.state });
            }
            next.state = S::WaitingOnCustomer;
            next.pauses.push(PauseSpan { start: now, end: None });
        }
        A::Resume => {
            require(actor, verb, Role::WORKERS)?;
            if current.state != S::WaitingOnCustomer {
                return Err(Refusal::NotInState { action: verb, state: current.state });
            }
            next.state = S::Acknowledged;
            PauseSpan::close_open(&mut next.pauses, now);
        }
        A::Resolve { note } => {
            require(actor, verb, Role::WORKERS)?;
            let note = note.trim();
            if note.is_empty() {
                return Err(Refusal::NoteRequired);
            }
            PauseSpan::close_open(&mut next.pauses, now);
            next.state = S::Resolved;
            next.resolved = Some(Resolution { by: me(), at: now, note: note.to_owned() });
            next.acknowledged.get_or_insert_with(stamp);
            next.owner.get_or_insert_with(me);
        }
        A::Reopen => {
            if current.opened_by != actor.key {
                require(actor, verb, Role::LEADS)?;
            }
            let Some(resolution) = &current.resolved else {
                return Err(Refusal::NotInState { action: verb, state: current.state });
            };
            // The time it spent resolved does not count against the resolve clock.
            next.pauses.push(PauseSpan { start: resolution.at, end: Some(now) });
            next.state = S::Acknowledged;
            next.resolved = None;
        }
        A::OpenWarRoom => {
            require(actor, verb, Role::WORKERS)?;
            // One war room per escalation: a second click shows the first.
            if let Some(incident) = current.incident {
                return Err(Refusal::WarRoomOpen(incident));
            }
        }
    }
    Ok(next)
}

/// Both clocks of an escalation at a moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaView {
    pub acknowledge: ClockView,
    pub resolve: ClockView,
}

impl Escalation {
    crate::two_clock_sla!(first: acknowledged, waiting_in: EscalationState::WaitingOnCustomer, view: SlaView { acknowledge, resolve });
}

impl LivingItem for Escalation {
    const KIND: ItemKind = ItemKind::Escalation;

    crate::living_item_fields!();

    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "version": self.version,
            "state": self.state.as_str(),
            "owner": self.owner.as_ref().map(|o| o.as_str()),
            "step": self.step,
            "paging": self.paging,
            "alerts": self.alerts,
            "resolution": self.resolved.as_ref().map(|r| &r.note),
        })
    }

    /// The acknowledge clock runs until the first acknowledgement, the resolve clock until
    /// resolution and not while waiting on the customer.
    fn projection(&self) -> Result<Projection, CalendarError> {
        Ok(self
            .clocks()
            .projection()?
            .text("severity", self.severity.as_str().to_owned())
            .text("state", self.state.as_str().to_owned())
            .text("owner_key", self.owner.as_ref().map(|o| o.to_string()))
            .text("opened_by", self.opened_by.to_string())
            .time("opened_at", Some(self.opened_at))
            .time("acknowledged_at", self.acknowledged.as_ref().map(|a| a.at)))
    }
}

#[cfg(test)]
pub(crate) mod tests;
