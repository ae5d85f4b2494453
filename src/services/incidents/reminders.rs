//! Reminders that change nothing in the incident: an action item's owner before and when it
//! is due, and the comms holder when an affected account's "next customer update by" passes.
//! Each is a durable job with a dedupe key naming what it is about, scheduled by every save
//! (scheduling it again is a no-op) and re-checked when it runs.

use async_trait::async_trait;
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::ids::AccountKey;
use crate::domain::incident::{Incident, IncidentState};
use crate::domain::item::{ItemKind, LivingItem};
use crate::domain::messages::incident as text;
use crate::services::items::{direct_message, team_zone};
use crate::services::jobs::{JobError, JobHandler, payload};
use crate::services::{Services, Setup};
use crate::storage::effects::Effects;
use crate::storage::jobs::{Job, NewJob};
use crate::storage::{self, Tx};

/// Job kind `incident.action_due`.
pub const ACTION_DUE: &str = "action_due";
/// Job kind `incident.customer_update`.
pub const CUSTOMER_UPDATE: &str = "customer_update";

/// An action item is "due" at this local time of its due date, in the team's zone.
const DUE_AT: NaiveTime = NaiveTime::from_hms_opt(9, 0, 0).expect("a valid time");

#[derive(Debug, Serialize, Deserialize)]
struct ActionPayload {
    incident: i64,
    number: u32,
    /// `before` or `due`.
    stage: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct CustomerPayload {
    incident: i64,
    account: AccountKey,
    due: DateTime<Utc>,
}

/// The reminders of every action item and every customer owed an update.
pub(super) fn schedule(setup: &Setup, effects: &mut Effects, i: &Incident) {
    let zone = team_zone(setup, i);
    for action in &i.actions {
        let Some(due) = zone.from_local_datetime(&action.due.and_time(DUE_AT)).earliest() else {
            continue;
        };
        let due = due.with_timezone(&Utc);
        let before = due - setup.settings.incident.action_remind_before;
        for (stage, at) in [("before", before), ("due", due)] {
            effects.schedule(NewJob {
                kind: ItemKind::Incident.job_kind(ACTION_DUE),
                payload: serde_json::json!({ "incident": i.id, "number": action.number, "stage": stage }),
                run_at: at,
                dedupe_key: Some(i.key(format_args!("action:{}:{stage}", action.number))),
                max_attempts: 5,
            });
        }
    }
    if i.state == IncidentState::Resolved {
        return;
    }
    for account in &i.accounts {
        let Some(due) = account.next_customer_update_by else { continue };
        effects.schedule(NewJob {
            kind: ItemKind::Incident.job_kind(CUSTOMER_UPDATE),
            payload: serde_json::json!({ "incident": i.id, "account": account.key, "due": due }),
            run_at: due,
            dedupe_key: Some(i.key(format_args!("customer:{}:{}", account.key, due.timestamp()))),
            max_attempts: 5,
        });
    }
}

async fn load(tx: &mut Tx, id: i64) -> Result<Option<Incident>, JobError> {
    storage::items::get::<Incident>(tx.conn().await?, id).await.map_err(JobError::retry)
}

async fn send(services: &Services, tx: &mut Tx, effects: Effects) -> Result<(), JobError> {
    let now = services.clock().now();
    storage::effects::write_all(tx.conn().await?, &effects, now).await.map_err(JobError::retry)
}

/// Reminds an action item's owner before it is due and when it is due.
pub struct ActionDue;

#[async_trait]
impl JobHandler for ActionDue {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let ActionPayload { incident, number, stage } = payload(job)?;
        let Some(current) = load(tx, incident).await? else { return Ok(()) };
        let Some(action) = current.actions.iter().find(|a| a.number == number) else {
            return Ok(());
        };
        let now = services.clock().now();
        let words = text::action_reminder(&current, action, stage == "due");
        let what = format!("action:{number}:{stage}:dm");
        let mut effects = services.effects();
        effects.outbox.extend(direct_message(setup, &current, &action.owner, words, what, now));
        send(services, tx, effects).await
    }
}

/// Chases the comms holder (or the commander) when a customer is owed an update.
pub struct CustomerUpdate;

#[async_trait]
impl JobHandler for CustomerUpdate {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let CustomerPayload { incident, account, due } = payload(job)?;
        let Some(current) = load(tx, incident).await? else { return Ok(()) };
        let owed = current.affected(&account).and_then(|a| a.next_customer_update_by);
        if current.state == IncidentState::Resolved || owed != Some(due) {
            return Ok(());
        }
        let Some(to) = current.roles.comms.clone().or_else(|| current.roles.commander.clone())
        else {
            return Ok(());
        };
        let now = services.clock().now();
        let words = text::customer_update_owed(&current, &account, due, team_zone(setup, &current));
        let what = format!("customer:{account}:{}:dm", due.timestamp());
        let mut effects = services.effects();
        effects.outbox.extend(direct_message(setup, &current, &to, words, what, now));
        send(services, tx, effects).await
    }
}
