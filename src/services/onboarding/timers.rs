//! The step clock timer: at a step's at-risk instant and at its due instant it re-reads the
//! onboarding under the row lock and, if the step still runs and the alert was not raised,
//! raises it once (a thread line, the card's standing, a DM to the opener).

use async_trait::async_trait;
use serde::Deserialize;

use super::Onboardings;
use crate::domain::item::SYSTEM_ACTOR;
use crate::domain::messages::onboarding as text;
use crate::domain::onboarding::{Onboarding, OnboardingState};
use crate::domain::sla::SlaStatus;
use crate::services::Services;
use crate::services::items::{self, Change, direct_message, team_zone};
use crate::services::jobs::{JobError, JobHandler, payload};
use crate::storage;
use crate::storage::Tx;
use crate::storage::jobs::Job;

/// The clock check's name (job kind `onboarding.clock`).
pub const CLOCK: &str = "clock";

#[derive(Debug, Deserialize)]
struct Payload {
    onboarding: i64,
    step: String,
}

pub struct ClockTimer;

#[async_trait]
impl JobHandler for ClockTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let Payload { onboarding, step } = payload(job)?;
        let current = storage::items::get_for_update::<Onboarding>(tx.conn().await?, onboarding)
            .await
            .map_err(JobError::retry)?;
        let Some(current) = current.filter(|o| o.state == OnboardingState::Onboarding) else {
            return Ok(());
        };
        let now = services.clock().now();
        let Some(index) = current.steps.iter().position(|s| s.plan.key == step) else {
            return Ok(());
        };
        let clock = current.clock(&current.steps[index], now).map_err(JobError::retry)?;
        let Some(clock) = clock.filter(|c| c.running) else { return Ok(()) };
        let mut next = current.clone();
        let s = &mut next.steps[index];
        let status = clock.view.status;
        match status {
            SlaStatus::Breached if !s.alerted_breach => {
                (s.alerted_breach, s.alerted_at_risk) = (true, true);
            }
            SlaStatus::AtRisk if !s.alerted_at_risk => s.alerted_at_risk = true,
            _ => return Ok(()),
        }
        let zone = team_zone(setup, &current);
        let line = text::clock_alert(&next, &next.steps[index], status, zone, now);
        let what = format!("alert:{step}:{}", status.as_str());
        let dm = direct_message(setup, &next, &next.opened_by, line.clone(), what, now);
        let action = format!("{}:{step}", status.as_str());
        let mut change = Change::new(current, next, SYSTEM_ACTOR, &action).line(line);
        change.messages.extend(dm);
        items::save_in_job::<Onboardings>(services, tx, services.effects(), change).await
    }
}
