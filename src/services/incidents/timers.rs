//! The incident's nags, as durable jobs that re-check the incident inside their
//! transaction: nobody took command `commander_within` after declare → the team's
//! supervisors are told once; a status update overdue → the comms holder is reminded once,
//! then, `escalate_overdue_after` later, the commander.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Incidents;
use crate::domain::identity::Role;
use crate::domain::incident::{Incident, IncidentState};
use crate::domain::item::{ItemKind, LivingItem, SYSTEM_ACTOR};
use crate::domain::messages::incident as text;
use crate::services::items::{self, Change, direct_message, team_zone};
use crate::services::jobs::{JobError, JobHandler, payload};
use crate::services::{Services, Setup};
use crate::storage::effects::Effects;
use crate::storage::jobs::{Job, NewJob};
use crate::storage::{self, Tx};

/// Job kind `incident.no_commander`.
pub const NO_COMMANDER: &str = "no_commander";
/// Job kind `incident.update_due`.
pub const UPDATE_DUE: &str = "update_due";

#[derive(Debug, Serialize, Deserialize)]
struct NoCommanderPayload {
    incident: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct UpdateDuePayload {
    incident: i64,
    /// The "next update due" instant this run is about; a later update makes it moot.
    due: DateTime<Utc>,
}

pub(super) fn schedule_no_commander(setup: &Setup, effects: &mut Effects, i: &Incident) {
    let at = i.declared_at + setup.settings.incident.commander_within;
    effects.schedule(NewJob {
        kind: ItemKind::Incident.job_kind(NO_COMMANDER),
        payload: serde_json::json!({ "incident": i.id }),
        run_at: at,
        dedupe_key: Some(i.key("nag:no_commander")),
        max_attempts: 5,
    });
}

/// After every save: a check at the next update's due time (once per due time).
pub(super) fn schedule_update_due(effects: &mut Effects, i: &Incident) {
    let Some(due) = i.next_update_due else { return };
    if i.state == IncidentState::Resolved {
        return;
    }
    effects.schedule(NewJob {
        kind: ItemKind::Incident.job_kind(UPDATE_DUE),
        payload: serde_json::json!({ "incident": i.id, "due": due }),
        run_at: due,
        dedupe_key: Some(i.key(format_args!("nag:update:{}", due.timestamp()))),
        max_attempts: 5,
    });
}

async fn save(
    services: &Services,
    tx: &mut Tx,
    change: Change<Incident>,
    extra: Vec<NewJob>,
) -> Result<(), JobError> {
    let effects = Effects { jobs: extra, ..services.effects() };
    items::save_in_job::<Incidents>(services, tx, effects, change).await
}

/// Tells the team's supervisors once that nobody took command.
pub struct NoCommander;

#[async_trait]
impl JobHandler for NoCommander {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let NoCommanderPayload { incident } = payload(job)?;
        let current = storage::items::get_for_update::<Incident>(tx.conn().await?, incident)
            .await
            .map_err(JobError::retry)?;
        let Some(current) = current else { return Ok(()) };
        if current.roles.commander.is_some()
            || current.nags.no_commander
            || current.state == IncidentState::Resolved
        {
            return Ok(());
        }
        let now = services.clock().now();
        let words = text::no_commander_nag(&current, now - current.declared_at);
        let messages: Vec<_> = setup
            .directory
            .people()
            .filter(|p| p.team == current.team && p.has_role(Role::Supervisor))
            .filter_map(|p| {
                direct_message(
                    setup,
                    &current,
                    &p.key,
                    words.clone(),
                    format_args!("nag:no_commander:{}", p.key),
                    now,
                )
            })
            .collect();
        let mut next = current.clone();
        next.nags.no_commander = true;
        let change =
            Change::new(current, next, SYSTEM_ACTOR, "nag_no_commander").messages(messages);
        save(services, tx, change, Vec::new()).await
    }
}

/// Reminds the comms holder once that an update is overdue, then the commander.
pub struct UpdateDue;

#[async_trait]
impl JobHandler for UpdateDue {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let UpdateDuePayload { incident, due } = payload(job)?;
        let current = storage::items::get_for_update::<Incident>(tx.conn().await?, incident)
            .await
            .map_err(JobError::retry)?;
        let Some(current) = current else { return Ok(()) };
        if current.state == IncidentState::Resolved || current.next_update_due != Some(due) {
            return Ok(());
        }
        let now = services.clock().now();
        let words = text::update_overdue_nag(&current, due, team_zone(setup, &current));
        let mut next = current.clone();
        let mut extra = Vec::new();
        // The comms holder first (or, with none, straight to the commander).
        let (to, stage) = match (&current.roles.comms, current.nags.update_comms) {
            (Some(comms), None) => {
                next.nags.update_comms = Some(due);
                let later = now + setup.settings.incident.escalate_overdue_after;
                extra.push(NewJob {
                    kind: ItemKind::Incident.job_kind(UPDATE_DUE),
                    payload: serde_json::json!({ "incident": incident, "due": due }),
                    run_at: later,
                    dedupe_key: Some(
                        current.key(format_args!("nag:update:{}:commander", due.timestamp())),
                    ),
                    max_attempts: 5,
                });
                (Some(comms.clone()), "comms")
            }
            _ if current.nags.update_commander == Some(due) => return Ok(()),
            _ => {
                next.nags.update_commander = Some(due);
                (current.roles.commander.clone(), "commander")
            }
        };
        let what = format!("nag:update:{}:{stage}", due.timestamp());
        let messages = to.and_then(|to| direct_message(setup, &current, &to, words, what, now));
        let change = Change::new(current, next, SYSTEM_ACTOR, "nag_update").messages(messages);
        save(services, tx, change, extra).await
    }
}
