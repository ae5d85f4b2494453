//! Account onboarding: `/onboard <account> <plan>` starts a living checklist card; each step
//! is worked with Done / Blocked / N/A by its owner role, its business-time clock raises an
//! at-risk and a breached alert once each, and the account is active when every required
//! step is done. `/onboarding [team]` lists the accounts in onboarding.

mod actions;
mod open;
mod timers;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use actions::Onboardings;
pub use open::{list, open};
pub use timers::{CLOCK, ClockTimer};

use super::jobs::JobRegistry;
use crate::domain::item::{ItemKind, LivingItem};
use crate::domain::onboarding::{Onboarding, OnboardingState};
use crate::storage::effects::Effects;
use crate::storage::jobs::NewJob;

/// Registers the step clock timer with the job workers.
pub fn register_jobs(registry: &mut JobRegistry) {
    registry.register(&ItemKind::Onboarding.job_kind(CLOCK), Arc::new(ClockTimer));
}

/// Schedules the at-risk and breach checks of every running step clock. Dedupe keys name the
/// step and the start of its clock, so saves repeat nothing and a restarted clock gets new ones.
pub(crate) fn schedule_clocks(effects: &mut Effects, o: &Onboarding, now: DateTime<Utc>) {
    if o.state != OnboardingState::Onboarding {
        return;
    }
    for step in o.workable() {
        let (Ok(Some(clock)), Some(started)) = (o.clock(step, now), step.started_at) else {
            continue;
        };
        let checks = [
            ("risk", clock.view.at_risk_at, step.alerted_at_risk),
            ("breach", clock.view.due, step.alerted_breach),
        ];
        for (what, at, alerted) in checks {
            let Some(run_at) = at.filter(|_| !alerted) else { continue };
            let key = step.plan.key.as_str();
            effects.schedule(NewJob {
                kind: ItemKind::Onboarding.job_kind(CLOCK),
                payload: serde_json::json!({ "onboarding": o.id, "step": key }),
                run_at,
                dedupe_key: Some(o.key(format_args!("clock:{key}:{}:{what}", started.timestamp()))),
                max_attempts: 10,
            });
        }
    }
}
