//! Overdue manual tasks: at the task's due time its owner is told, and if it is still open
//! `task_escalate_after` later, the system's other owners and the owner's supervisors. Each
//! alert is raised once per task (a delivery's `seq`) and recorded on the item, so the card's
//! history and the audit chain show it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AccessRequest, Delivery, DeliveryStatus};

/// How far an overdue task's alerts went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskAlertStage {
    /// At the due time: the task's owner.
    Owner,
    /// Later: the other owners and the owner's supervisors.
    Escalated,
}

impl TaskAlertStage {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskAlertStage::Owner => "owner",
            TaskAlertStage::Escalated => "escalated",
        }
    }
}

/// One alert raised on the task of delivery `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskAlert {
    pub seq: u32,
    pub stage: TaskAlertStage,
    pub at: DateTime<Utc>,
}

impl AccessRequest {
    /// The task of delivery `seq` if it is still open and past due at `now`.
    pub fn overdue_task(&self, seq: u32, now: DateTime<Utc>) -> Option<&Delivery> {
        self.deliveries.iter().find(|d| {
            d.seq == seq && matches!(d.status, DeliveryStatus::Task { due } if due <= now)
        })
    }

    /// The item with the alert `stage` on task `seq` recorded, if that alert is due now
    /// (the task still open and past due) and was not raised before.
    pub fn raise_task_alert(
        &self,
        seq: u32,
        stage: TaskAlertStage,
        now: DateTime<Utc>,
    ) -> Option<AccessRequest> {
        self.overdue_task(seq, now)?;
        if self.task_alerts.iter().any(|a| a.seq == seq && a.stage == stage) {
            return None;
        }
        let mut next = self.clone();
        next.task_alerts.push(TaskAlert { seq, stage, at: now });
        Some(next)
    }
}
