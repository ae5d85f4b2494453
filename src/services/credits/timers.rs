//! Reminder and expiry timers. Both re-check the request inside their transaction: a
//! request decided, cancelled or edited since (a new round) is left alone.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Credits, approver_dms, requester_dm};
use crate::domain::credit::{Credit, CreditState};
use crate::domain::item::SYSTEM_ACTOR;
use crate::domain::messages::credit as text;
use crate::services::Services;
use crate::services::items::{self, Change};
use crate::services::jobs::{JobError, JobHandler, payload};
use crate::storage::jobs::Job;
use crate::storage::{self, Tx};

/// The reminder's name (job kind `credit.remind`).
pub const REMIND: &str = "remind";
/// The expiry's name (job kind `credit.expire`).
pub const EXPIRE: &str = "expire";

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    credit: i64,
    /// The round (request or edit) the timer was set for.
    round: u32,
}

async fn load(tx: &mut Tx, job: &Job) -> Result<Option<Credit>, JobError> {
    let Payload { credit, round } = payload(job)?;
    let current = storage::items::get_for_update::<Credit>(tx.conn().await?, credit)
        .await
        .map_err(JobError::retry)?;
    Ok(current.filter(|c| c.state == CreditState::Pending && c.round == round))
}

async fn save(services: &Services, tx: &mut Tx, change: Change<Credit>) -> Result<(), JobError> {
    items::save_in_job::<Credits>(services, tx, services.effects(), change).await
}

/// Reminds the approvers of the waiting level once per round.
pub struct RemindTimer;

#[async_trait]
impl JobHandler for RemindTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let Some(current) = load(tx, job).await? else { return Ok(()) };
        if current.reminded {
            return Ok(());
        }
        let now = services.clock().now();
        let mut next = current.clone();
        next.reminded = true;
        let mut change = Change::new(current, next, SYSTEM_ACTOR, "remind");
        change.messages = approver_dms(setup, &change.after, now, true);
        save(services, tx, change.line(text::reminder_line())).await
    }
}

/// Expires a request still pending in the round the timer was set for.
pub struct ExpireTimer;

#[async_trait]
impl JobHandler for ExpireTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let Some(current) = load(tx, job).await? else { return Ok(()) };
        let now = services.clock().now();
        let Some(next) = current.expire(now, SYSTEM_ACTOR) else { return Ok(()) };
        let line = text::expired_line();
        let mut change = Change::new(current, next, SYSTEM_ACTOR, "expire");
        change.messages.extend(requester_dm(setup, &change.after, &line, now));
        save(services, tx, change.line(line)).await
    }
}
