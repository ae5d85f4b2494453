//! Escalations: open, act on the card, page along the policy, watch the SLA clocks.
//!
//! An escalation is a living item: clicks and timers go through the kernel
//! (`services::items`), which saves every change — audit record, compare-and-set write with
//! the projection, card update and thread line — and then calls [`Escalations`]'
//! `after_save`, which schedules the next SLA check.

mod actions;
mod open;
mod paging;
mod timers;
mod views;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use actions::Escalations;
pub use open::open;
pub use paging::page_key_pattern;
pub(crate) use paging::recipients;
pub use timers::{SLA_CHECK, STEP, SlaCheck, StepTimer};
pub use views::{PlanExplanation, explain, explain_plan, list};

use super::error::AppError;
use super::jobs::JobRegistry;
use crate::domain::escalation::{Escalation, SlaView};
use crate::domain::item::{ItemKind, LivingItem};
use crate::storage::effects::Effects;
use crate::storage::jobs::NewJob;

/// Called by the outbox when it gives up on a message: if it was a page and no page of its
/// step reached anybody, the next level is paged at once (in `tx`, with the failure), instead
/// of after the level's whole wait.
pub async fn page_undeliverable(
    services: &crate::services::Services,
    tx: &mut crate::storage::Tx,
    dedupe_key: &str,
    reason: &str,
) -> sqlx::Result<()> {
    let Some((escalation, step)) = paging::paged_step(dedupe_key) else { return Ok(()) };
    if paging::step_reached_someone(tx, escalation, step).await? {
        return Ok(());
    }
    let now = services.clock().now();
    let job = timers::page_next_now(escalation, step, reason, now);
    crate::storage::jobs::enqueue(tx.conn().await?, &job, now).await.map(|_| ())
}

/// Registers the escalation timers with the job workers.
pub fn register_jobs(registry: &mut JobRegistry) {
    registry.register(&ItemKind::Escalation.job_kind(STEP), Arc::new(StepTimer));
    registry.register(&ItemKind::Escalation.job_kind(SLA_CHECK), Arc::new(SlaCheck));
}

pub(crate) fn sla_view(e: &Escalation, now: DateTime<Utc>) -> Result<SlaView, AppError> {
    e.sla_view(now)
        .map_err(|err| AppError::Unexpected(anyhow::anyhow!("escalation {}: {err}", e.id)))
}

/// Schedules the SLA check for the next moment a clock turns at-risk or breached.
pub(crate) fn schedule_sla_check(
    effects: &mut Effects,
    e: &Escalation,
    view: &SlaView,
    now: DateTime<Utc>,
) {
    let Some(at) = timers::next_sla_check(e, view) else { return };
    // Never "now" itself: a check that finds nothing new must not reschedule onto its own key.
    let at = at.max(now + chrono::Duration::seconds(1));
    effects.schedule(NewJob {
        kind: ItemKind::Escalation.job_kind(SLA_CHECK),
        payload: serde_json::json!({ "escalation": e.id }),
        run_at: at,
        dedupe_key: Some(e.key(format_args!("sla:{}", at.timestamp()))),
        max_attempts: 5,
    });
}
