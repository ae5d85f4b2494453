//! The escalation timers: the next paging step when a level's wait runs out unacknowledged,
//! and SLA checks when a clock turns at-risk or breached. Both re-check the escalation inside
//! their transaction: an acknowledged escalation pages nobody, a resolved one alerts nobody.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::paging::page_step;
use super::{Escalations, sla_view};
use crate::domain::escalation::{Escalation, EscalationState, SlaView};
use crate::domain::item::{ItemKind, LivingItem, SYSTEM_ACTOR};
use crate::domain::messages::escalation as text;
use crate::domain::sla::SlaStatus;
use crate::services::items::{self, Change, direct_message, team_zone};
use crate::services::jobs::{JobError, JobHandler, payload};
use crate::services::{Services, Setup};
use crate::storage::effects::Effects;
use crate::storage::jobs::{Job, NewJob};
use crate::storage::outbox::NewOutboxMessage;
use crate::storage::{self, Tx};

/// The paging step timer's name (job kind `escalation.step`).
pub const STEP: &str = "step";
/// The SLA check's name (job kind `escalation.sla`).
pub const SLA_CHECK: &str = "sla";

#[derive(Debug, Serialize, Deserialize)]
struct StepPayload {
    escalation: i64,
    /// The step that was paged when the timer was set.
    step: u32,
    /// Set when the step's pages could not be delivered (why): the next level is paged at
    /// once, and the card's thread says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    undeliverable: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SlaPayload {
    escalation: i64,
}

/// Sets the timer that pages the next level if the current one does not acknowledge.
pub(crate) fn schedule_step(effects: &mut Effects, e: &Escalation, now: DateTime<Utc>) {
    let Some((_, level)) = e.policy.level_at(e.step) else { return };
    effects.schedule(NewJob {
        kind: ItemKind::Escalation.job_kind(STEP),
        payload: serde_json::to_value(StepPayload {
            escalation: e.id,
            step: e.step,
            undeliverable: None,
        })
        .unwrap_or_default(),
        run_at: now + Duration::seconds(level.wait_seconds),
        dedupe_key: Some(e.key(format_args!("step:{}", e.step))),
        max_attempts: 10,
    });
}

/// Pages the next level now, because the pages of `step` could not be delivered.
pub(crate) fn page_next_now(
    escalation: i64,
    step: u32,
    reason: &str,
    now: DateTime<Utc>,
) -> NewJob {
    NewJob {
        kind: ItemKind::Escalation.job_kind(STEP),
        payload: serde_json::to_value(StepPayload {
            escalation,
            step,
            undeliverable: Some(reason.to_owned()),
        })
        .unwrap_or_default(),
        run_at: now,
        dedupe_key: Some(format!(
            "{}:{escalation}:undeliverable:{step}",
            ItemKind::Escalation.prefix()
        )),
        max_attempts: 10,
    }
}

/// Writes a timer's effects in its transaction.
async fn write(tx: &mut Tx, effects: &Effects, now: DateTime<Utc>) -> Result<(), JobError> {
    storage::effects::write_all(tx.conn().await?, effects, now).await.map_err(JobError::retry)
}

/// Pages the next level when the current one's wait ran out unacknowledged.
pub struct StepTimer;

#[async_trait]
impl JobHandler for StepTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let StepPayload { escalation, step, undeliverable } = payload(job)?;
        let Some(current) =
            storage::items::get_for_update::<Escalation>(tx.conn().await?, escalation)
                .await
                .map_err(JobError::retry)?
        else {
            return Ok(());
        };
        if current.state != EscalationState::Open || current.step != step {
            return Ok(()); // acknowledged, resolved, or already moved on
        }
        let now = services.clock().now();
        let mut next = current.clone();
        next.step += 1;
        let (mut lines, messages, action) = match page_step(setup, &next, now) {
            Some(pages) => {
                next.paging = pages.names.clone();
                (vec![text::paged_line(pages.level, &pages.names, true)], pages.messages, "page")
            }
            None => {
                next.step = next.policy.total_steps();
                next.paging.clear();
                (vec![text::paging_exhausted_line()], Vec::new(), "paging_exhausted")
            }
        };
        if let Some(reason) = &undeliverable {
            let level = current.policy.level_at(step).map_or(step as usize + 1, |(i, _)| i + 1);
            lines.insert(0, text::page_undeliverable_line(level, reason));
        }
        let mut change = Change::new(current, next, SYSTEM_ACTOR, action).messages(messages);
        change.lines = lines;
        let mut effects = services.effects();
        let saved = items::save::<Escalations>(setup, tx, &mut effects, change, now)
            .await
            .map_err(JobError::retry)?;
        schedule_step(&mut effects, &saved, now);
        write(tx, &effects, now).await
    }
}

/// The next moment one of the clocks crosses a threshold not yet alerted.
pub(crate) fn next_sla_check(e: &Escalation, view: &SlaView) -> Option<DateTime<Utc>> {
    let mut candidates = Vec::new();
    if e.acknowledged.is_none() {
        if !e.alerts.acknowledge_at_risk {
            candidates.push(view.acknowledge.at_risk_at);
        }
        if !e.alerts.acknowledge_breached {
            candidates.push(view.acknowledge.due);
        }
    }
    if e.resolved.is_none() && e.state != EscalationState::WaitingOnCustomer {
        if !e.alerts.resolve_at_risk {
            candidates.push(view.resolve.at_risk_at);
        }
        if !e.alerts.resolve_breached {
            candidates.push(view.resolve.due);
        }
    }
    candidates.into_iter().flatten().min()
}

/// Raises at-risk and breach alerts once each, on the card, in its thread and to the owner.
pub struct SlaCheck;

#[async_trait]
impl JobHandler for SlaCheck {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let SlaPayload { escalation } = payload(job)?;
        let Some(current) =
            storage::items::get_for_update::<Escalation>(tx.conn().await?, escalation)
                .await
                .map_err(JobError::retry)?
        else {
            return Ok(());
        };
        if current.state == EscalationState::Resolved {
            return Ok(());
        }
        let now = services.clock().now();
        let view = sla_view(&current, now).map_err(JobError::retry)?;
        let zone = team_zone(setup, &current);
        let mut next = current.clone();
        let mut lines = Vec::new();
        let mut raise = |status: SlaStatus, due, at_risk: &mut bool, breached: &mut bool, clock| {
            if status == SlaStatus::Breached && !*breached {
                *breached = true;
                *at_risk = true;
                lines.push(text::sla_line(clock, true, due, zone));
            } else if status == SlaStatus::AtRisk && !*at_risk {
                *at_risk = true;
                lines.push(text::sla_line(clock, false, due, zone));
            }
        };
        let alerts = &mut next.alerts;
        raise(
            view.acknowledge.status,
            view.acknowledge.due,
            &mut alerts.acknowledge_at_risk,
            &mut alerts.acknowledge_breached,
            "acknowledgement",
        );
        raise(
            view.resolve.status,
            view.resolve.due,
            &mut alerts.resolve_at_risk,
            &mut alerts.resolve_breached,
            "resolution",
        );
        let mut effects = services.effects();
        if lines.is_empty() {
            // Deadlines moved (a pause): look again at the new moment.
            super::schedule_sla_check(&mut effects, &current, &view, now);
            return write(tx, &effects, now).await;
        }
        let mut change = Change::new(current, next, SYSTEM_ACTOR, "sla_alert");
        change.messages = alert_recipients(setup, &change.after, &lines, now);
        change.lines = lines;
        items::save::<Escalations>(setup, tx, &mut effects, change, now)
            .await
            .map_err(JobError::retry)?;
        write(tx, &effects, now).await
    }
}

/// SLA alerts go to the owner, or to the team's supervisors while nobody owns it.
fn alert_recipients(
    setup: &Setup,
    e: &Escalation,
    lines: &[String],
    now: DateTime<Utc>,
) -> Vec<NewOutboxMessage> {
    let people: Vec<_> = match &e.owner {
        Some(owner) => setup.directory.person(owner).into_iter().collect(),
        None => setup.directory.supervisors(&e.team).collect(),
    };
    people
        .into_iter()
        .filter_map(|person| {
            let what = format!("alert:v{}:{}", e.version, person.key);
            direct_message(setup, e, &person.key, text::sla_alert_dm(e, lines), what, now)
        })
        .collect()
}
