//! Reminder and expiry timers. Both re-check the request inside their transaction: a
//! request decided, cancelled or edited since (a new round) is left alone.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Change, approver_dms, requester_dm, save_change, snapshot};
use crate::domain::credit::CreditState;
use crate::domain::messages::credit as text;
use crate::services::Services;
use crate::services::jobs::{JobError, JobHandler};
use crate::storage::effects::Effects;
use crate::storage::jobs::Job;
use crate::storage::{self, Tx};

pub const REMIND_JOB: &str = "credit.remind";
pub const EXPIRE_JOB: &str = "credit.expire";

/// Who acts when a timer changes a request.
const SYSTEM_ACTOR: &str = "steward";

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    credit: i64,
    /// The round (request or edit) the timer was set for.
    round: u32,
}

fn retry(err: impl std::fmt::Display) -> JobError {
    JobError::Retryable(err.to_string())
}

async fn load(
    tx: &mut Tx,
    job: &Job,
) -> Result<Option<crate::domain::credit::CreditRequest>, JobError> {
    let Payload { credit, round } = serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::Fatal(format!("bad payload: {e}")))?;
    let current = storage::credits::get_for_update(tx, credit).await.map_err(retry)?;
    Ok(current.filter(|c| c.state == CreditState::Pending && c.round == round))
}

async fn save(services: &Services, tx: &mut Tx, change: Change) -> Result<(), JobError> {
    let now = services.clock.now();
    let mut effects = Effects::default();
    save_change(services, tx, &mut effects, change, now).await.map_err(retry)?;
    storage::effects::write(tx, &effects, None, now).await.map(|_| ()).map_err(retry)
}

/// Reminds the approvers of the waiting level once per round.
pub struct RemindTimer;

#[async_trait]
impl JobHandler for RemindTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let Some(current) = load(tx, job).await? else { return Ok(()) };
        if current.reminded {
            return Ok(());
        }
        let now = services.clock.now();
        let mut next = current.clone();
        next.reminded = true;
        next.version += 1;
        let messages = approver_dms(services, &next, now, true);
        let change = Change {
            before: snapshot(&current),
            after: next,
            actor: SYSTEM_ACTOR.into(),
            action: "remind".into(),
            lines: vec![text::reminder_line()],
            messages,
        };
        save(services, tx, change).await
    }
}

/// Expires a request still pending in the round the timer was set for.
pub struct ExpireTimer;

#[async_trait]
impl JobHandler for ExpireTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let Some(current) = load(tx, job).await? else { return Ok(()) };
        let now = services.clock.now();
        let Some(mut next) = current.expire(now, SYSTEM_ACTOR) else { return Ok(()) };
        next.version += 1;
        let line = text::expired_line();
        let messages = requester_dm(services, &next, &line, now).into_iter().collect();
        let change = Change {
            before: snapshot(&current),
            after: next,
            actor: SYSTEM_ACTOR.into(),
            action: "expire".into(),
            lines: vec![line],
            messages,
        };
        save(services, tx, change).await
    }
}
