//! Access requests and time-bound grants: `/access …`, the decision card (four eyes
//! server-side), reminders before expiry, the revoke on expiry, and provisioning by signed
//! webhook through the outbox or by a manual task.
//!
//! An access request is a living item: clicks, commands and timers go through the kernel
//! (`services::items`). Its `after_save` is where every grant change turns into exactly one
//! webhook call (the outbox dedupe key names the delivery) and where the expiry timers of the
//! current grant are set (their dedupe keys name the expiry, so an extension sets new ones
//! and the old ones find nothing to do).

mod actions;
mod commands;
pub mod import;
pub mod review;
pub mod review_schedule;
mod timers;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use actions::Access;
pub use commands::command;
pub use timers::{
    EXPIRE, ExpireTimer, REMIND, RemindTimer, TASK_ALERT, TaskAlertTimer, WebhookOutcome,
};

use super::Setup;
use super::jobs::JobRegistry;
use crate::domain::access::task::TaskAlertStage;
use crate::domain::access::{AccessRequest, AccessState, AccessSystem, DeliveryStatus};
use crate::domain::item::{ItemKind, LivingItem};
use crate::domain::messages::access as text;
use crate::domain::reply::Message;
use crate::scheduler::webhooks::WEBHOOK_OUTCOME;
use crate::services::items::{direct_message, name_of};
use crate::storage::effects::Effects;
use crate::storage::jobs::NewJob;
use crate::storage::outbox::{NewOutboxMessage, OutboxKind, WEBHOOK_PLATFORM};

/// Registers the access timers and the webhook outcome report with the job workers.
pub fn register_jobs(registry: &mut JobRegistry) {
    let kind = ItemKind::AccessRequest;
    registry.register(&kind.job_kind(REMIND), Arc::new(RemindTimer));
    registry.register(&kind.job_kind(EXPIRE), Arc::new(ExpireTimer));
    registry.register(&kind.job_kind(WEBHOOK_OUTCOME), Arc::new(WebhookOutcome));
    registry.register(&kind.job_kind(TASK_ALERT), Arc::new(TaskAlertTimer));
    let review = ItemKind::AccessReview;
    registry.register(&review.job_kind(review::REMIND), Arc::new(review::RemindTimer));
    registry.register(&review.job_kind(review::OVERDUE), Arc::new(review::OverdueTimer));
    registry.register(&review.job_kind(review::CLOSE), Arc::new(review::CloseTimer));
    review_schedule::register(registry);
}

/// The configured system of an item (a system removed from the configuration since: none).
pub(crate) fn system_of<'a>(setup: &'a Setup, a: &AccessRequest) -> Option<&'a AccessSystem> {
    setup.policies.access.system(&a.system)
}

/// DMs asking whoever may still decide what waits.
pub(crate) fn decider_dms(
    setup: &Setup,
    a: &AccessRequest,
    now: DateTime<Utc>,
) -> Vec<NewOutboxMessage> {
    let holder = name_of(setup, &a.holder);
    let body = text::decision_needed(a, &holder);
    a.waiting_on()
        .into_iter()
        .filter_map(|key| {
            let what = format!("ask:v{}:{key}", a.version);
            direct_message(setup, a, key, body.clone(), what, now)
        })
        .collect()
}

/// The DM telling the holder what happened.
pub(crate) fn holder_dm(
    setup: &Setup,
    a: &AccessRequest,
    line: &str,
    now: DateTime<Utc>,
) -> Option<NewOutboxMessage> {
    let what = format!("holder:v{}", a.version);
    direct_message(setup, a, &a.holder, text::holder_update(a, line), what, now)
}

/// What every save adds: the webhook call of a new grant change, and the reminder and
/// expiry timers of the current grant.
pub(crate) fn follow_ups(
    setup: &Setup,
    effects: &mut Effects,
    a: &AccessRequest,
    now: DateTime<Utc>,
) {
    if let Some(delivery) = a.delivery_to_send() {
        let body = serde_json::json!({
            "event": delivery.change.as_str(),
            "access": a.id,
            "delivery": delivery.seq,
            "system": a.system,
            "role": a.role,
            "person": a.holder,
            "expires_at": a.grant.map(|g| g.expires_at),
        });
        effects.send(NewOutboxMessage {
            platform: WEBHOOK_PLATFORM.to_owned(),
            kind: OutboxKind::Webhook,
            target: a.system.clone(),
            message: Message { thread_of: Some(a.card_key()), ..Message::text(body.to_string()) },
            dedupe_key: a.key(format_args!("webhook:{}", delivery.seq)),
            not_before: now,
            workspace: None,
        });
    }
    if let Some(task) = a.open_task().filter(|t| a.deliveries.last() == Some(*t)) {
        let body = text::task_assigned(
            a,
            task,
            &setup.directory,
            crate::services::items::team_zone(setup, a),
        );
        for owner in system_of(setup, a).into_iter().flat_map(|s| s.owners(&setup.directory)) {
            let what = format!("task:{}:{}", task.seq, owner.key);
            effects.outbox.extend(direct_message(setup, a, &owner.key, body.clone(), what, now));
        }
        // The overdue alerts: the owner at the due time, the others later; each job re-checks
        // that the task is still open.
        if let DeliveryStatus::Task { due } = task.status {
            let escalate_after = setup
                .settings
                .access_task_escalation()
                .unwrap_or_else(|_| chrono::Duration::hours(4));
            for (stage, run_at) in
                [(TaskAlertStage::Owner, due), (TaskAlertStage::Escalated, due + escalate_after)]
            {
                effects.schedule(NewJob {
                    kind: ItemKind::AccessRequest.job_kind(TASK_ALERT),
                    payload: serde_json::json!({ "access": a.id, "seq": task.seq, "stage": stage }),
                    run_at,
                    dedupe_key: Some(a.key(format_args!("task:{}:{}", task.seq, stage.as_str()))),
                    max_attempts: 10,
                });
            }
        }
    }
    let Some(grant) = a.grant.filter(|_| a.state == AccessState::Active) else { return };
    let expiry = grant.expires_at.timestamp();
    let payload = serde_json::json!({ "access": a.id, "expires_at": grant.expires_at });
    for before in &setup.policies.access_reminders {
        let run_at = grant.expires_at - *before;
        if run_at <= now {
            continue;
        }
        effects.schedule(NewJob {
            kind: ItemKind::AccessRequest.job_kind(REMIND),
            payload: payload.clone(),
            run_at,
            dedupe_key: Some(a.key(format_args!("remind:{expiry}:{}", before.num_seconds()))),
            max_attempts: 10,
        });
    }
    effects.schedule(NewJob {
        kind: ItemKind::AccessRequest.job_kind(EXPIRE),
        payload,
        run_at: grant.expires_at,
        dedupe_key: Some(a.key(format_args!("expire:{expiry}"))),
        max_attempts: 10,
    });
}
