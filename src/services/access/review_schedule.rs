//! Review campaigns on a schedule (`[[access.review.schedules]]`). Each slot is one durable
//! job whose dedupe key names the schedule and the slot, so however many replicas start (each
//! queues the next slot at start-up) and however often they restart, a slot starts one
//! campaign. The job starts the campaign and queues the next slot in the same transaction,
//! so the chain never breaks and never forks; a slot missed during downtime runs late, once.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::review::{CampaignPlan, Opened, open_campaign};
use crate::domain::access::schedule::ReviewSchedule;
use crate::domain::ids::PersonKey;
use crate::domain::item::{ItemKind, SYSTEM_ACTOR};
use crate::services::Services;
use crate::services::jobs::{JobError, JobHandler, JobRegistry, payload};
use crate::storage::jobs::{self, Job, NewJob};
use crate::storage::{self, Tx};

/// The job of one slot (job kind `review.scheduled`).
pub const SCHEDULED: &str = "scheduled";

pub(super) fn register(registry: &mut JobRegistry) {
    registry.register(&ItemKind::AccessReview.job_kind(SCHEDULED), Arc::new(ScheduledStart));
}

/// The job that starts `schedule`'s campaign of `slot`; its dedupe key is the slot's claim.
pub fn slot_job(schedule: &ReviewSchedule, slot: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: ItemKind::AccessReview.job_kind(SCHEDULED),
        payload: serde_json::json!({ "schedule": schedule.name, "slot": slot }),
        run_at: slot,
        dedupe_key: Some(format!(
            "{}:schedule:{}:{}",
            ItemKind::AccessReview.prefix(),
            schedule.name,
            slot.to_rfc3339()
        )),
        max_attempts: 10,
    }
}

/// Queues the next slot of every schedule (a slot already queued is left as it is). Called
/// at start-up by every replica.
pub async fn schedule_all(services: &Services) -> anyhow::Result<usize> {
    let setup = services.setup();
    let schedules =
        setup.settings.review_schedules().map_err(|(k, p)| anyhow::anyhow!("{k}: {p}"))?;
    let now = services.clock().now();
    let mut queued = 0;
    for schedule in &schedules {
        if let Some(slot) = schedule.next_slot(now) {
            let job = slot_job(schedule, slot);
            queued += usize::from(jobs::enqueue(services.pool(), &job, now).await?.is_some());
        }
    }
    Ok(queued)
}

#[derive(Debug, Deserialize)]
struct SlotPayload {
    schedule: String,
    slot: DateTime<Utc>,
}

/// Starts the campaign of a slot and queues the next slot.
struct ScheduledStart;

#[async_trait]
impl JobHandler for ScheduledStart {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let setup = services.setup();
        let SlotPayload { schedule, slot } = payload(job)?;
        let schedules =
            setup.settings.review_schedules().map_err(|(k, p)| JobError::Fatal(k + ": " + &p))?;
        // A schedule removed from the configuration since: its chain ends here.
        let Some(schedule) = schedules.into_iter().find(|s| s.name == schedule) else {
            return Ok(());
        };
        let now = services.clock().now();
        let started_by = PersonKey::parse(SYSTEM_ACTOR).map_err(JobError::retry)?;
        let plan = CampaignPlan {
            scope: &schedule.scope,
            system: (schedule.scope != "all").then_some(schedule.scope.as_str()),
            due_at: schedule.due_at(slot),
            started_by: &started_by,
            platform: schedule.platform,
            fallback_channel: &schedule.channel,
        };
        let mut effects = services.effects();
        match open_campaign(setup, tx, &mut effects, &plan, now).await.map_err(JobError::retry)? {
            Some(Opened { campaign, lists, grants }) => {
                tracing::info!(schedule = %schedule.name, %slot, campaign, lists, grants,
                    "scheduled access review started");
            }
            None => tracing::info!(schedule = %schedule.name, %slot, "no grant to review"),
        }
        // After a long downtime the next slot counts from now: missed slots are not run in a
        // burst, only the one whose job was waiting.
        if let Some(next) = schedule.next_slot(now.max(slot)) {
            effects.schedule(slot_job(&schedule, next));
        }
        storage::effects::write_all(tx.conn().await?, &effects, now)
            .await
            .map(|_| ())
            .map_err(JobError::retry)
    }
}
