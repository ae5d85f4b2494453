//! Timers of a grant and the webhook outcome report. Each re-checks the item inside its
//! transaction: a grant extended (a new expiry), revoked or already expired is left alone.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Access, holder_dm, system_of};
use crate::domain::access::task::TaskAlertStage;
use crate::domain::access::{AccessRequest, AccessState};
use crate::domain::identity::{Person, Role};
use crate::domain::item::SYSTEM_ACTOR;
use crate::domain::messages::access as text;
use crate::services::items::{self, Change, direct_message, team_zone};
use crate::services::jobs::{JobError, JobHandler, payload};
use crate::services::{Services, Setup};
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
    let current = storage::items::get_for_update::<AccessRequest>(tx.conn().await?, access)
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
    let setup = services.setup();
    let now = services.clock().now();
    let mut effects = services.effects();
    items::save::<Access>(setup, tx, &mut effects, change, now).await.map_err(JobError::retry)?;
    write(tx, &effects, now).await
}

async fn write(tx: &mut Tx, effects: &Effects, now: DateTime<Utc>) -> Result<(), JobError> {
    storage::effects::write_all(tx.conn().await?, effects, now).await.map_err(JobError::retry)
}

/// Reminds the holder before the grant expires (a DM; the item does not change).
pub struct RemindTimer;

#[async_trait]
impl JobHandler for RemindTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let Some(a) = load_grant(tx, job).await? else { return Ok(()) };
        let Some(grant) = a.grant else { return Ok(()) };
        let now = services.clock().now();
        let zone =
            setup.directory.person(&a.holder).map(|p| p.time_zone).unwrap_or(team_zone(setup, &a));
        let left = grant.expires_at - now;
        let body = text::expiry_reminder(&a, grant.expires_at, left, zone);
        let what = format!("reminded:{}:{}", grant.expires_at.timestamp(), job.id);
        let mut effects = services.effects();
        effects.outbox.extend(direct_message(setup, &a, &a.holder, body, what, now));
        write(tx, &effects, now).await
    }
}

/// Ends the grant at its expiry: the revocation runs like a `/access revoke`.
pub struct ExpireTimer;

#[async_trait]
impl JobHandler for ExpireTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let Some(current) = load_grant(tx, job).await? else { return Ok(()) };
        let now = services.clock().now();
        let within = system_of(setup, &current)
            .map(|s| s.task_within)
            .unwrap_or_else(|| chrono::Duration::days(1));
        let Ok(next) = current.end(AccessState::Expired, SYSTEM_ACTOR, None, within, now) else {
            return Ok(());
        };
        let line = text::expired_line();
        let mut change = Change::new(current, next, SYSTEM_ACTOR, "expire");
        change.messages.extend(holder_dm(setup, &change.after, &line, now));
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
        let setup = services.setup();
        let Outcome { call, ok, detail } = payload(job)?;
        let current =
            storage::items::get_for_update::<AccessRequest>(tx.conn().await?, call.access)
                .await
                .map_err(JobError::retry)?;
        let Some(current) = current else { return Ok(()) };
        let now = services.clock().now();
        let outcome = if ok { Ok(()) } else { Err(detail) };
        let Some(next) = current.delivered(call.delivery, outcome, now) else { return Ok(()) };
        let zone = team_zone(setup, &next);
        let line = next
            .deliveries
            .iter()
            .find(|d| d.seq == call.delivery)
            .map(|d| text::delivery_line(d, &setup.directory, zone))
            .unwrap_or_default();
        let change = Change::new(current, next, SYSTEM_ACTOR, "webhook");
        save(services, tx, change.line(line)).await
    }
}

/// An overdue manual task's alerts (job kind `access.task`): at the due time its owner (the
/// system's first owner other than the holder) is told; `task_escalate_after` later, if it
/// is still open, the other owners and the owner's supervisors. Each once, recorded on the
/// item.
pub const TASK_ALERT: &str = "task";

#[derive(Debug, Deserialize)]
struct TaskTimer {
    access: i64,
    seq: u32,
    stage: TaskAlertStage,
}

/// Who does the manual tasks of `a`: the system's first owner other than the holder.
pub(crate) fn task_owner<'a>(setup: &'a Setup, a: &AccessRequest) -> Option<&'a Person> {
    system_of(setup, a)?.owners(&setup.directory).find(|p| p.key != a.holder)
}

/// Who hears of a task still overdue: the other owners and the owner's supervisors (admins
/// if there is nobody else), never the holder or the owner themselves.
fn escalation_targets<'a>(
    setup: &'a Setup,
    a: &AccessRequest,
    owner: Option<&'a Person>,
) -> Vec<&'a Person> {
    let directory = &setup.directory;
    let not_them = |p: &&Person| p.key != a.holder && owner.is_none_or(|o| o.key != p.key);
    let owners = system_of(setup, a).into_iter().flat_map(|s| s.owners(directory));
    let supervisors = owner.into_iter().flat_map(|o| directory.supervisors(&o.team));
    let mut targets: Vec<&Person> = Vec::new();
    for p in owners.chain(supervisors).filter(not_them) {
        if !targets.iter().any(|t| t.key == p.key) {
            targets.push(p);
        }
    }
    if targets.is_empty() {
        targets = directory.people().filter(|p| p.has_role(Role::Admin)).filter(not_them).collect();
    }
    targets
}

pub struct TaskAlertTimer;

#[async_trait]
impl JobHandler for TaskAlertTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let TaskTimer { access, seq, stage } = payload(job)?;
        let current = storage::items::get_for_update::<AccessRequest>(tx.conn().await?, access)
            .await
            .map_err(JobError::retry)?;
        let Some(current) = current else { return Ok(()) };
        let now = services.clock().now();
        // Done in time, or alerted already: nothing to say.
        let Some(next) = current.raise_task_alert(seq, stage, now) else { return Ok(()) };
        let Some(task) = next.overdue_task(seq, now).cloned() else { return Ok(()) };
        let zone = team_zone(setup, &next);
        let owner = task_owner(setup, &next);
        let (to, body): (Vec<&Person>, String) = match stage {
            TaskAlertStage::Owner => {
                (owner.into_iter().collect(), text::task_overdue(&next, &task, zone))
            }
            TaskAlertStage::Escalated => {
                let owner_name = owner.map_or_else(String::new, |o| o.display_name.clone());
                let body = text::task_escalated(&next, &task, &owner_name, zone);
                (escalation_targets(setup, &next, owner), body)
            }
        };
        let names: Vec<&str> = to.iter().map(|p| p.display_name.as_str()).collect();
        let line = text::task_overdue_line(&names.join(", "));
        let dms: Vec<_> = to
            .iter()
            .filter_map(|p| {
                let what = format!("task-overdue:{seq}:{}:{}", stage.as_str(), p.key);
                direct_message(setup, &next, &p.key, body.clone(), what, now)
            })
            .collect();
        let mut change = Change::new(current, next, SYSTEM_ACTOR, "task-overdue");
        change.messages.extend(dms);
        save(services, tx, change.line(line)).await
    }
}
