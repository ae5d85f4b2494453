//! Account onboarding from contract to active: a checklist of steps from a configured plan,
//! each with an owner role, a target in business time on the team's calendar and whether it
//! is required, and the pure state machine.
//!
//! ```text
//!   onboarding ──every required step done──▶ active
//!   step: open ──done──▶ done      open ──n/a (reason, optional steps only)──▶ n/a
//!         open ──blocked (reason)──▶ blocked ──done / n/a──▶ …
//! ```
//!
//! A step's clock starts when the step can be worked on: at the start for a plan without
//! order, else when the steps before it are closed (done or n/a). It stops when the step is
//! closed; a blocked step's clock keeps running (being blocked is what the clock is for). The
//! plan and the team calendar are snapshotted at the start: later edits change nothing in
//! flight.

pub mod command;

use crate::domain::item::Living;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::CalendarError;
use super::identity::{Person, Role};
use super::ids::{AccountKey, PersonKey, Platform, TeamKey};
use super::item::{Deadline, ItemKind, LivingItem, Projection, running_deadline};
use super::sla::{SlaStatus, SlaTarget};
use super::sla_policy::{CalendarSpec, ClockView, clock_view};

/// A configured step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStep {
    pub key: String,
    pub name: String,
    /// Who works the step (supervisors and admins may too).
    pub owner_role: Role,
    /// The person named to work it, if the plan names one.
    #[serde(default)]
    pub owner: Option<PersonKey>,
    /// Business time on the team calendar from when the step can start.
    pub target_seconds: i64,
    pub required: bool,
}

/// A configured plan: the steps in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnboardingPlan {
    pub key: String,
    pub name: String,
    /// Each step waits for the steps before it.
    pub in_order: bool,
    pub steps: Vec<PlanStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum StepState {
    Open,
    Blocked { reason: String },
    Done,
    NotApplicable { reason: String },
}

impl StepState {
    pub fn is_closed(&self) -> bool {
        matches!(self, StepState::Done | StepState::NotApplicable { .. })
    }
}

/// A step of one onboarding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub plan: PlanStep,
    pub state: StepState,
    /// When its clock started (none while earlier steps are open in an ordered plan).
    pub started_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<PersonKey>,
    /// Who is to work it by name (the standup lists it under them): the plan's named owner,
    /// else the account's owner when they hold the step's role; none: the team's.
    #[serde(default)]
    pub owner: Option<PersonKey>,
    /// Alerts already raised on its clock (each once).
    #[serde(default)]
    pub alerted_at_risk: bool,
    #[serde(default)]
    pub alerted_breach: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnboardingState {
    Onboarding,
    Active,
}

impl OnboardingState {
    pub fn as_str(self) -> &'static str {
        match self {
            OnboardingState::Onboarding => "onboarding",
            OnboardingState::Active => "active",
        }
    }
}

/// An account's onboarding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Onboarding {
    pub id: i64,
    pub version: i32,
    pub account: AccountKey,
    pub plan_key: String,
    pub plan_name: String,
    pub in_order: bool,
    pub steps: Vec<Step>,
    pub calendar: CalendarSpec,
    pub at_risk_fraction: f64,
    pub opened_by: PersonKey,
    pub opened_at: DateTime<Utc>,
    pub state: OnboardingState,
    pub activated_at: Option<DateTime<Utc>>,
    pub team: TeamKey,
    /// The kernel's part: where its card lives, its workspace, its audit chain's head.
    #[serde(flatten)]
    pub living: Living,
}

/// What an onboarding starts with.
pub struct OnboardingOpening<'a> {
    pub account: AccountKey,
    pub plan: &'a OnboardingPlan,
    pub calendar: CalendarSpec,
    pub at_risk_fraction: f64,
    pub opened_by: &'a Person,
    /// The account's owner, who works the steps of their role no plan names an owner for.
    pub account_owner: Option<&'a Person>,
    pub team: TeamKey,
    pub platform: Platform,
    pub channel: String,
    pub now: DateTime<Utc>,
}

/// A click on a step's button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepAction {
    Done { step: String },
    Blocked { step: String, reason: String },
    NotApplicable { step: String, reason: String },
}

impl StepAction {
    pub fn verb(&self) -> &'static str {
        match self {
            StepAction::Done { .. } => "done",
            StepAction::Blocked { .. } => "blocked",
            StepAction::NotApplicable { .. } => "na",
        }
    }

    pub fn step(&self) -> &str {
        match self {
            StepAction::Done { step }
            | StepAction::Blocked { step, .. }
            | StepAction::NotApplicable { step, .. } => step,
        }
    }

    /// The action id verb of `verb` on `step`: `done.kyc`.
    pub fn encode(verb: &str, step: &str) -> String {
        format!("{verb}.{step}")
    }
}

/// Why a click was refused; nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Active,
    UnknownStep(String),
    AlreadyClosed {
        step: String,
    },
    /// An ordered plan: these steps come first.
    OutOfOrder {
        step: String,
        waiting_for: Vec<String>,
    },
    Role {
        step: String,
        role: Role,
    },
    NeedsReason,
    /// Required steps are done, never skipped.
    RequiredStep {
        step: String,
    },
}

/// A step's clock standing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepClock {
    pub view: ClockView,
    pub running: bool,
}

impl Onboarding {
    pub fn opened(o: OnboardingOpening<'_>) -> Onboarding {
        let steps = o
            .plan
            .steps
            .iter()
            .enumerate()
            .map(|(index, plan)| Step {
                plan: plan.clone(),
                state: StepState::Open,
                started_at: (!o.plan.in_order || index == 0).then_some(o.now),
                closed_at: None,
                closed_by: None,
                owner: plan.owner.clone().or_else(|| {
                    let owner = o.account_owner.filter(|p| p.has_role(plan.owner_role))?;
                    Some(owner.key.clone())
                }),
                alerted_at_risk: false,
                alerted_breach: false,
            })
            .collect();
        Onboarding {
            id: 0,
            version: 1,
            account: o.account,
            plan_key: o.plan.key.clone(),
            plan_name: o.plan.name.clone(),
            in_order: o.plan.in_order,
            steps,
            calendar: o.calendar,
            at_risk_fraction: o.at_risk_fraction,
            opened_by: o.opened_by.key.clone(),
            opened_at: o.now,
            state: OnboardingState::Onboarding,
            activated_at: None,
            team: o.team,
            living: Living::new(o.platform, o.channel, None),
        }
    }

    fn index_of(&self, key: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.plan.key == key)
    }

    /// The steps that can be worked on now: open or blocked, and started.
    pub fn workable(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| !s.state.is_closed() && s.started_at.is_some())
    }

    /// The first step not closed yet (the "current step" of lists).
    pub fn current_step(&self) -> Option<&Step> {
        self.steps.iter().find(|s| !s.state.is_closed())
    }

    /// The step's clock at `now`, if it started.
    pub fn clock(
        &self,
        step: &Step,
        now: DateTime<Utc>,
    ) -> Result<Option<StepClock>, CalendarError> {
        let Some(started) = step.started_at else { return Ok(None) };
        let calendar = self.calendar.calendar()?;
        let target = SlaTarget {
            target: Duration::seconds(step.plan.target_seconds),
            at_risk_fraction: self.at_risk_fraction,
        };
        let view = clock_view(&calendar, &target, started, &[], step.closed_at, now);
        Ok(Some(StepClock { view, running: step.closed_at.is_none() }))
    }

    /// How many steps missed or are past their target at `now`.
    pub fn breaches(&self, now: DateTime<Utc>) -> Result<usize, CalendarError> {
        let mut count = 0;
        for step in &self.steps {
            if let Some(clock) = self.clock(step, now)?
                && matches!(clock.view.status, SlaStatus::Breached | SlaStatus::Missed)
            {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Refuses `action` by `actor` if it makes no sense now.
    pub fn check(&self, actor: &Person, action: &StepAction) -> Result<usize, Refusal> {
        if self.state == OnboardingState::Active {
            return Err(Refusal::Active);
        }
        let key = action.step();
        let index = self.index_of(key).ok_or_else(|| Refusal::UnknownStep(key.to_owned()))?;
        let step = &self.steps[index];
        if step.state.is_closed() {
            return Err(Refusal::AlreadyClosed { step: step.plan.name.clone() });
        }
        if self.in_order {
            let waiting_for: Vec<String> = self.steps[..index]
                .iter()
                .filter(|s| !s.state.is_closed())
                .map(|s| s.plan.name.clone())
                .collect();
            if !waiting_for.is_empty() {
                return Err(Refusal::OutOfOrder { step: step.plan.name.clone(), waiting_for });
            }
        }
        let role = step.plan.owner_role;
        let allowed =
            actor.has_role(role) || actor.has_role(Role::Supervisor) || actor.has_role(Role::Admin);
        if !allowed {
            return Err(Refusal::Role { step: step.plan.name.clone(), role });
        }
        if let StepAction::NotApplicable { .. } = action
            && step.plan.required
        {
            return Err(Refusal::RequiredStep { step: step.plan.name.clone() });
        }
        Ok(index)
    }

    /// The pure transition of a click.
    pub fn apply(
        &self,
        actor: &Person,
        action: &StepAction,
        now: DateTime<Utc>,
    ) -> Result<Onboarding, Refusal> {
        let index = self.check(actor, action)?;
        let mut next = self.clone();
        let step = &mut next.steps[index];
        match action {
            StepAction::Blocked { reason, .. } | StepAction::NotApplicable { reason, .. }
                if reason.trim().is_empty() =>
            {
                return Err(Refusal::NeedsReason);
            }
            StepAction::Blocked { reason, .. } => {
                step.state = StepState::Blocked { reason: reason.clone() };
                return Ok(next);
            }
            StepAction::Done { .. } => step.state = StepState::Done,
            StepAction::NotApplicable { reason, .. } => {
                step.state = StepState::NotApplicable { reason: reason.clone() }
            }
        }
        step.closed_at = Some(now);
        step.closed_by = Some(actor.key.clone());
        // In an ordered plan the next open step starts now.
        if next.in_order
            && let Some(following) = next.steps.iter_mut().find(|s| !s.state.is_closed())
            && following.started_at.is_none()
        {
            following.started_at = Some(now);
        }
        let required_done =
            next.steps.iter().filter(|s| s.plan.required).all(|s| s.state == StepState::Done);
        if required_done {
            next.state = OnboardingState::Active;
            next.activated_at = Some(now);
        }
        Ok(next)
    }

    /// The deadline of the running step clocks.
    pub fn deadline(&self, now: DateTime<Utc>) -> Result<Deadline, CalendarError> {
        let mut clocks = Vec::new();
        for step in &self.steps {
            if let Some(clock) = self.clock(step, now)? {
                clocks
                    .push((clock.view, clock.running && self.state == OnboardingState::Onboarding));
            }
        }
        Ok(running_deadline(&clocks))
    }
}

impl LivingItem for Onboarding {
    const KIND: ItemKind = ItemKind::Onboarding;

    crate::living_item_fields!();

    fn snapshot(&self) -> serde_json::Value {
        let steps: Vec<serde_json::Value> = self
            .steps
            .iter()
            .map(|s| serde_json::json!({ "step": s.plan.key, "state": s.state, "closed_by": s.closed_by }))
            .collect();
        serde_json::json!({ "state": self.state, "account": self.account, "plan": self.plan_key, "steps": steps })
    }

    fn projection(&self) -> Result<Projection, CalendarError> {
        // Deadlines do not depend on `now` (only statuses do); the opening instant will do.
        let deadline = self.deadline(self.opened_at)?;
        let missed = self
            .steps
            .iter()
            .map(|s| self.clock(s, s.closed_at.unwrap_or(self.opened_at)))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .filter(|c| c.view.status == SlaStatus::Missed)
            .count();
        Ok(Projection::default()
            .text("team_key", self.team.to_string())
            .text("account_key", self.account.to_string())
            .text("state", self.state.as_str().to_owned())
            .text("plan_key", self.plan_key.clone())
            .text("current_step", self.current_step().map(|s| s.plan.key.clone()))
            .text(
                "current_owner",
                self.current_step().and_then(|s| s.owner.as_ref()).map(|k| k.to_string()),
            )
            .time("opened_at", Some(self.opened_at))
            .time("activated_at", self.activated_at)
            .int("steps_missed", missed as i32)
            .deadline(deadline))
    }
}

#[cfg(test)]
pub(crate) mod tests;
