//! The queue retry: a queued request looks for someone on shift again every
//! `requests.retry_every` until it is assigned (it is never dropped).

use async_trait::async_trait;

use super::Requests;
use crate::domain::item::SYSTEM_ACTOR;
use crate::domain::messages::request as text;
use crate::domain::request::{Request, RequestAction, RequestState, apply};
use crate::services::Services;
use crate::services::items::{self, Change, direct_message};
use crate::services::jobs::{JobError, JobHandler, payload};
use crate::storage::jobs::Job;
use crate::storage::{self, Tx};

/// The retry's name (job kind `request.assign_retry`).
pub const ASSIGN_RETRY: &str = "assign_retry";

pub struct AssignRetry;

#[derive(serde::Deserialize)]
struct RetryPayload {
    request: i64,
}

#[async_trait]
impl JobHandler for AssignRetry {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let RetryPayload { request: id } = payload(job)?;
        let Some(current) = storage::items::get_for_update::<Request>(tx.conn().await?, id)
            .await
            .map_err(JobError::retry)?
        else {
            return Ok(());
        };
        // Someone took it meanwhile (accept, /assign): nothing to do.
        if current.state != RequestState::Queued || current.assignee.is_some() {
            return Ok(());
        }
        let now = services.clock().now();
        let Some(kind) = setup.policies.requests.request_type(&current.kind).cloned() else {
            return Err(JobError::Fatal(format!("request type {} is gone", current.kind)));
        };
        let mut effects = services.effects();
        let weight = i64::from(current.priority.weight());
        match super::choose(setup, tx, &current.team, &kind, weight, now)
            .await
            .map_err(JobError::retry)?
        {
            Ok(decision) => {
                let reason = text::assignment_reason(&decision, &setup.directory);
                let action =
                    RequestAction::Assign { to: decision.person.clone(), reason: reason.clone() };
                let next = apply(&current, None, &action, now)
                    .map_err(|r| JobError::retry(format!("{r:?}")))?;
                let line = text::thread_line(&action, SYSTEM_ACTOR, &reason, &setup.directory);
                let mut change = Change::new(current, next, SYSTEM_ACTOR, "assign").line(line);
                let dm = text::assigned_to_you(&change.after, &reason);
                let what = format!("assigned:v{}", change.after.version);
                let message = direct_message(setup, &change.after, &decision.person, dm, what, now);
                change.messages.extend(message);
                items::save::<Requests>(setup, tx, &mut effects, change, now)
                    .await
                    .map_err(JobError::retry)?;
            }
            Err(_) => super::open::schedule_retry(setup, &mut effects, &current, now),
        }
        storage::effects::write_all(tx.conn().await?, &effects, now)
            .await
            .map_err(JobError::retry)?;
        Ok(())
    }
}
