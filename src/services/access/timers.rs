//! Timers of a grant and the webhook outcome report. Each re-checks the item inside its
//! transaction: a grant extended (a new expiry), revoked or already expired is left alone.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Access, holder_dm, system_of};
use crate::domain::access::{AccessRequest, AccessState};
use crate::domain::item::SYSTEM_ACTOR;
use crate::domain::messages::access as text;
use crate::services::Services;
use crate::services::items::{self, Change, direct_message, team_zone};
use crate::services::jobs::{JobError, JobHandler, payload};
use crate::storage::effects::Effects;
use crate::storage::jobs::Job;
use crate::storage::{self, Tx};

/// The reminder before expiry (job kind `access.remind`).
pub const REMIND: &str = "remind";
/// The expiry (job kind `access.expire`).
pub const EXPIRE: &str = "expire";

#[derive(Debug, Deserialize)]
struct GrantTimer {
    access: i64,
    /// The expiry the timer was set for: an extension moves it, and then this timer is old.
    expires_at: DateTime<Utc>,
}

/// The grant as it is now, if it is still active with the expiry the timer was set for.
async fn load_grant(tx: &mut Tx, job: &Job) -> Result<Option<AccessRequest>, JobError> {
    let GrantTimer { access, expires_at } = payload(job)?;
    let current = storage::items::get_for_update::<AccessRequest>(tx, access)
        .await
        .map_err(JobError::retry)?;
    Ok(current.filter(|a| {
        a.state == AccessState::Active && a.grant.is_some_and(|g| g.expires_at == expires_at)
    }))
}

async fn save(
    services: &Services,
    tx: &mut Tx,
    change: Change<AccessRequest>,
) -> Result<(), JobError> {
    let now = services.clock.now();
    let mut effects = services.effects();
    items::save::<Access>(services, tx, &mut effects, change, now)
        .await
        .map_err(JobError::retry)?;
    write(tx, &effects, now).await
}

async fn write(tx: &mut Tx, effects: &Effects, now: DateTime<Utc>) -> Result<(), JobError> {
    storage::effects::write(tx, effects, None, now).await.map(|_| ()).map_err(JobError::retry)
}

/// Reminds the holder before the grant expires (a DM; the item does not change).
pub struct RemindTimer;

#[async_trait]
impl JobHandler for RemindTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let Some(a) = load_grant(tx, job).await? else { return Ok(()) };
        let Some(grant) = a.grant else { return Ok(()) };
        let now = services.clock.now();
        let zone = services
            .directory
            .person(&a.holder)
            .map(|p| p.time_zone)
            .unwrap_or(team_zone(services, &a));
        let left = grant.expires_at - now;
        let body = text::expiry_reminder(&a, grant.expires_at, left, zone);
        let what = format!("reminded:{}:{}", grant.expires_at.timestamp(), job.id);
        let mut effects = services.effects();
        effects.outbox.extend(direct_message(services, &a, &a.holder, body, what, now));
        write(tx, &effects, now).await
    }
}

/// Ends the grant at its expiry: the revocation runs like a `/access revoke`.
pub struct ExpireTimer;

#[async_trait]
impl JobHandler for ExpireTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let Some(current) = load_grant(tx, job).await? else { return Ok(()) };
        let now = services.clock.now();
        let within = system_of(services, &current)
            .map(|s| s.task_within)
            .unwrap_or_else(|| chrono::Duration::days(1));
        let Ok(next) = current.end(AccessState::Expired, SYSTEM_ACTOR, None, within, now) else {
            return Ok(());
        };
        let line = text::expired_line();
        let mut change = Change::new(current, next, SYSTEM_ACTOR, "expire");
        change.messages.extend(holder_dm(services, &change.after, &line, now));
        save(services, tx, change.line(line)).await
    }
}

#[derive(Debug, Deserialize)]
struct Outcome {
    call: CallRef,
    ok: bool,
    detail: String,
}

#[derive(Debug, Deserialize)]
struct CallRef {
    access: i64,
    delivery: u32,
}

/// Shows a webhook call's outcome on the card (job kind `access.webhook`, enqueued by the
/// webhook dispatcher with the call's final outcome).
pub struct WebhookOutcome;

#[async_trait]
impl JobHandler for WebhookOutcome {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let Outcome { call, ok, detail } = payload(job)?;
        let current = storage::items::get_for_update::<AccessRequest>(tx, call.access)
            .await
            .map_err(JobError::retry)?;
        let Some(current) = current else { return Ok(()) };
        let now = services.clock.now();
        let outcome = if ok { Ok(()) } else { Err(detail) };
        let Some(next) = current.delivered(call.delivery, outcome, now) else { return Ok(()) };
        let zone = team_zone(services, &next);
        let line = next
            .deliveries
            .iter()
            .find(|d| d.seq == call.delivery)
            .map(|d| text::delivery_line(d, &services.directory, zone))
            .unwrap_or_default();
        let change = Change::new(current, next, SYSTEM_ACTOR, "webhook");
        save(services, tx, change.line(line)).await
    }
}
