//! Access requests and the time-bound grants they become: the pure state machine.
//!
//! ```text
//!   pending ──approve (enough approvals)──▶ active ──expiry timer──▶ expired
//!      │ ──deny──▶ denied                    │ ──/access revoke──▶ revoked
//!      └─ask: stays pending                  └─/access extend: an extension waits for
//!                                              approval; approved, the expiry moves
//! ```
//!
//! One item is the request and, once approved, the grant: its card shows the whole life.
//! Four eyes: the holder (who requested it) never decides their own request or extension, and
//! nobody approves twice. Provisioning and revocation are [`Delivery`]s: a webhook call whose
//! outcome the outbox reports back, or a manual task an owner marks done.

pub mod command;
pub mod import;
pub mod review;
pub mod schedule;
pub mod system;
pub mod task;

use crate::domain::item::Living;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::CalendarError;
use super::identity::Person;
use super::ids::{PersonKey, Platform, TeamKey};
use super::item::{ItemKind, LivingItem, Projection};
pub use system::{AccessCatalog, AccessSystem, Owner, Provisioning};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessState {
    Pending,
    Active,
    Denied,
    Expired,
    Revoked,
}

impl AccessState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessState::Pending => "pending",
            AccessState::Active => "active",
            AccessState::Denied => "denied",
            AccessState::Expired => "expired",
            AccessState::Revoked => "revoked",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Deny,
}

/// One person's decision on the request or on an extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: PersonKey,
    pub at: DateTime<Utc>,
    pub verdict: Verdict,
    pub reason: Option<String>,
}

/// The granted window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub starts_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A request to keep the grant longer, waiting for approval like the request itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub seconds: i64,
    pub reason: String,
    pub requested_at: DateTime<Utc>,
    pub decisions: Vec<Decision>,
}

/// What a provisioning step (grant, extension or revocation) is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Provision,
    Extend,
    Revoke,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Provision => "provision",
            Change::Extend => "extend",
            Change::Revoke => "revoke",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum DeliveryStatus {
    /// The webhook call waits in the outbox (or is being retried).
    Sending,
    /// A manual task for an owner, due at `due`.
    Task { due: DateTime<Utc> },
    /// Carried out: the system answered 2xx, or an owner marked the task done.
    Done { at: DateTime<Utc>, by: String },
    /// The webhook call gave up; `reason` says why.
    Failed { at: DateTime<Utc>, reason: String },
}

/// One grant change being carried out on the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub change: Change,
    /// The number of this delivery on the item (1, 2, …): outbox dedupe keys and the
    /// outcome reports name it.
    pub seq: u32,
    pub status: DeliveryStatus,
}

/// Who closed the item (denied it, revoked it, or the expiry) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// An access request and, once approved, its grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessRequest {
    pub id: i64,
    pub version: i32,
    pub system: String,
    pub role: String,
    /// Who asked for the access and holds it once granted.
    pub holder: PersonKey,
    pub requested_at: DateTime<Utc>,
    pub seconds: i64,
    pub reason: String,
    pub provisioning: Provisioning,
    /// Snapshotted at request time, like the deciders: later configuration edits do not
    /// change a request in flight.
    pub approvals_needed: usize,
    pub deciders: Vec<PersonKey>,
    pub state: AccessState,
    pub decisions: Vec<Decision>,
    pub grant: Option<Grant>,
    pub extension: Option<Extension>,
    /// Past extensions that were decided, for the card.
    #[serde(default)]
    pub extensions_decided: Vec<Extension>,
    pub deliveries: Vec<Delivery>,
    /// Alerts raised on overdue manual tasks, each once (`access/task`).
    #[serde(default)]
    pub task_alerts: Vec<task::TaskAlert>,
    pub closed: Option<Closure>,
    pub team: TeamKey,
    /// The kernel's part: where its card lives, its workspace, its audit chain's head.
    #[serde(flatten)]
    pub living: Living,
}

/// What is asked for when a request is opened.
pub struct AccessOpening<'a> {
    pub system: &'a AccessSystem,
    pub role: String,
    pub holder: &'a Person,
    pub deciders: Vec<PersonKey>,
    pub duration: Duration,
    pub reason: String,
    pub platform: Platform,
    pub channel: String,
    pub now: DateTime<Utc>,
}

/// A click on the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessAction {
    Approve,
    Deny {
        reason: String,
    },
    Ask {
        question: String,
    },
    /// An owner marks the manual provisioning or revocation task done.
    TaskDone,
}

impl AccessAction {
    pub fn verb(&self) -> &'static str {
        match self {
            AccessAction::Approve => "approve",
            AccessAction::Deny { .. } => "deny",
            AccessAction::Ask { .. } => "ask",
            AccessAction::TaskDone => "done",
        }
    }
}

/// Why something was refused; nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The holder decides nothing about their own access.
    OwnAccess,
    /// Neither an owner of the system nor the holder's supervisor.
    NotDecider,
    AlreadyDecided,
    /// Nothing waits for a decision: the state it is in.
    NothingPending(AccessState),
    NeedsReason,
    NoTask,
    /// Only owners mark tasks done.
    NotOwner,
    /// Only the holder asks to extend.
    NotHolder,
    /// Revoke or extend on something that is not an active grant.
    NotActive(AccessState),
    ExtensionPending,
    /// The grant would last longer than the system allows from now.
    TooLong {
        max: Duration,
    },
}

impl AccessRequest {
    pub fn opened(opening: AccessOpening<'_>) -> AccessRequest {
        AccessRequest {
            id: 0,
            version: 1,
            system: opening.system.key.clone(),
            role: opening.role,
            holder: opening.holder.key.clone(),
            requested_at: opening.now,
            seconds: opening.duration.num_seconds(),
            reason: opening.reason,
            provisioning: opening.system.provisioning,
            approvals_needed: opening.system.approvals_needed(),
            deciders: opening.deciders,
            state: AccessState::Pending,
            decisions: Vec::new(),
            grant: None,
            extension: None,
            extensions_decided: Vec::new(),
            deliveries: Vec::new(),
            task_alerts: Vec::new(),
            closed: None,
            team: opening.holder.team.clone(),
            living: Living::new(opening.platform, opening.channel, None),
        }
    }

    pub fn duration(&self) -> Duration {
        Duration::seconds(self.seconds)
    }

    /// The decisions of whatever waits: the extension if one does, else the request.
    pub fn open_decisions(&self) -> &[Decision] {
        match &self.extension {
            Some(extension) => &extension.decisions,
            None => &self.decisions,
        }
    }

    /// Whether a decision is awaited (the request, or an extension of the grant).
    pub fn awaits_decision(&self) -> bool {
        self.state == AccessState::Pending
            || (self.state == AccessState::Active && self.extension.is_some())
    }

    /// Who may still decide what waits: the snapshotted deciders who have not yet.
    pub fn waiting_on(&self) -> Vec<&PersonKey> {
        let decided = self.open_decisions();
        self.deciders.iter().filter(|k| !decided.iter().any(|d| &d.by == *k)).collect()
    }

    /// The delivery a manual task waits on, if any.
    pub fn open_task(&self) -> Option<&Delivery> {
        self.deliveries.iter().rev().find(|d| matches!(d.status, DeliveryStatus::Task { .. }))
    }

    /// Refuses `actor` deciding what waits.
    pub fn check_decider(&self, actor: &Person) -> Result<(), Refusal> {
        if !self.awaits_decision() {
            return Err(Refusal::NothingPending(self.state));
        }
        if actor.key == self.holder {
            return Err(Refusal::OwnAccess);
        }
        if !self.deciders.contains(&actor.key) {
            return Err(Refusal::NotDecider);
        }
        if self.open_decisions().iter().any(|d| d.by == actor.key) {
            return Err(Refusal::AlreadyDecided);
        }
        Ok(())
    }

    /// The pure transition of a click. `owner` says whether the actor owns the system (only
    /// owners mark tasks done); `task_within` is how long a manual task may take.
    pub fn apply(
        &self,
        actor: &Person,
        action: &AccessAction,
        owner: bool,
        task_within: Duration,
        now: DateTime<Utc>,
    ) -> Result<AccessRequest, Refusal> {
        let mut next = self.clone();
        match action {
            AccessAction::TaskDone => {
                if !owner {
                    return Err(Refusal::NotOwner);
                }
                let task = next
                    .deliveries
                    .iter_mut()
                    .rev()
                    .find(|d| matches!(d.status, DeliveryStatus::Task { .. }))
                    .ok_or(Refusal::NoTask)?;
                task.status = DeliveryStatus::Done { at: now, by: actor.key.to_string() };
                return Ok(next);
            }
            AccessAction::Ask { question } if question.trim().is_empty() => {
                return Err(Refusal::NeedsReason);
            }
            AccessAction::Deny { reason } if reason.trim().is_empty() => {
                return Err(Refusal::NeedsReason);
            }
            _ => {}
        }
        self.check_decider(actor)?;
        let decision = |verdict, reason: Option<&String>| Decision {
            by: actor.key.clone(),
            at: now,
            verdict,
            reason: reason.cloned(),
        };
        match action {
            AccessAction::Ask { .. } | AccessAction::TaskDone => {}
            AccessAction::Deny { reason } => {
                let denied = decision(Verdict::Deny, Some(reason));
                match next.extension.take() {
                    Some(mut extension) => {
                        extension.decisions.push(denied);
                        next.extensions_decided.push(extension);
                    }
                    None => {
                        next.decisions.push(denied);
                        next.state = AccessState::Denied;
                        let by = actor.key.to_string();
                        next.closed = Some(Closure { by, at: now, reason: Some(reason.clone()) });
                    }
                }
            }
            AccessAction::Approve => {
                let approved = decision(Verdict::Approve, None);
                let needed = self.approvals_needed;
                match next.extension.take() {
                    Some(mut extension) => {
                        extension.decisions.push(approved);
                        if extension.decisions.len() >= needed {
                            if let Some(grant) = next.grant.as_mut() {
                                grant.expires_at += Duration::seconds(extension.seconds);
                            }
                            next.extensions_decided.push(extension);
                            next.deliver(Change::Extend, task_within, now);
                        } else {
                            next.extension = Some(extension);
                        }
                    }
                    None => {
                        next.decisions.push(approved);
                        if next.decisions.len() >= needed {
                            next.state = AccessState::Active;
                            let expires_at = now + self.duration();
                            next.grant = Some(Grant { starts_at: now, expires_at });
                            next.deliver(Change::Provision, task_within, now);
                        }
                    }
                }
            }
        }
        Ok(next)
    }

    /// Starts carrying out `change` on the system.
    fn deliver(&mut self, change: Change, task_within: Duration, now: DateTime<Utc>) {
        let status = match self.provisioning {
            Provisioning::Webhook => DeliveryStatus::Sending,
            Provisioning::Manual => DeliveryStatus::Task { due: now + task_within },
        };
        let seq = self.deliveries.len() as u32 + 1;
        self.deliveries.push(Delivery { change, seq, status });
    }

    /// `/access extend`: asks for `by` more, through approval again. Only the holder asks,
    /// only for an active grant, at most up to the system's maximum from now.
    pub fn request_extension(
        &self,
        actor: &Person,
        by: Duration,
        reason: &str,
        max: Duration,
        now: DateTime<Utc>,
    ) -> Result<AccessRequest, Refusal> {
        let grant = match (self.state, self.grant) {
            (AccessState::Active, Some(grant)) => grant,
            (state, _) => return Err(Refusal::NotActive(state)),
        };
        if actor.key != self.holder {
            return Err(Refusal::NotHolder);
        }
        if self.extension.is_some() {
            return Err(Refusal::ExtensionPending);
        }
        if grant.expires_at + by - now > max {
            return Err(Refusal::TooLong { max });
        }
        let mut next = self.clone();
        next.extension = Some(Extension {
            seconds: by.num_seconds(),
            reason: reason.to_owned(),
            requested_at: now,
            decisions: Vec::new(),
        });
        Ok(next)
    }

    /// Ends an active grant: `/access revoke` by `by` with a reason, or the expiry (no
    /// reason). A pending extension goes with it.
    pub fn end(
        &self,
        state: AccessState,
        by: &str,
        reason: Option<&str>,
        task_within: Duration,
        now: DateTime<Utc>,
    ) -> Result<AccessRequest, Refusal> {
        if self.state != AccessState::Active {
            return Err(Refusal::NotActive(self.state));
        }
        let mut next = self.clone();
        next.state = state;
        next.extension = None;
        if let Some(grant) = next.grant.as_mut()
            && state == AccessState::Revoked
        {
            grant.expires_at = grant.expires_at.min(now);
        }
        let reason = reason.map(str::to_owned);
        next.closed = Some(Closure { by: by.to_owned(), at: now, reason });
        next.deliver(Change::Revoke, task_within, now);
        Ok(next)
    }

    /// Records the webhook outcome of delivery `seq`; `None` if it was already recorded.
    pub fn delivered(
        &self,
        seq: u32,
        outcome: Result<(), String>,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let mut next = self.clone();
        let delivery = next.deliveries.iter_mut().find(|d| d.seq == seq)?;
        if delivery.status != DeliveryStatus::Sending {
            return None;
        }
        delivery.status = match outcome {
            Ok(()) => DeliveryStatus::Done { at: now, by: super::item::SYSTEM_ACTOR.to_owned() },
            Err(reason) => DeliveryStatus::Failed { at: now, reason },
        };
        Some(next)
    }

    /// A grant that exists outside Steward, imported so that reviews cover it: active from
    /// `granted_at`, without decisions; its expiry (if any) revokes it like any other.
    pub fn imported(
        system: &AccessSystem,
        holder: &Person,
        role: String,
        granted_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        (platform, channel): (Platform, String),
    ) -> AccessRequest {
        // A grant without end is kept open for a century: reviews, not the clock, end it.
        let expires_at = expires_at.unwrap_or(granted_at + Duration::days(36_500));
        AccessRequest {
            state: AccessState::Active,
            grant: Some(Grant { starts_at: granted_at, expires_at }),
            seconds: (expires_at - granted_at).num_seconds(),
            reason: super::messages::access::imported_reason(),
            ..AccessRequest::opened(AccessOpening {
                system,
                role,
                holder,
                deciders: Vec::new(),
                duration: expires_at - granted_at,
                reason: String::new(),
                platform,
                channel,
                now: granted_at,
            })
        }
    }

    /// The newest delivery, if it waits for the webhook (a save then enqueues its call).
    pub fn delivery_to_send(&self) -> Option<&Delivery> {
        self.deliveries.last().filter(|d| d.status == DeliveryStatus::Sending)
    }
}

impl LivingItem for AccessRequest {
    const KIND: ItemKind = ItemKind::AccessRequest;

    crate::living_item_fields!();

    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "state": self.state,
            "system": self.system,
            "role": self.role,
            "holder": self.holder,
            "decisions": self.decisions,
            "grant": self.grant,
            "extension": self.extension,
            "deliveries": self.deliveries,
            "closed": self.closed,
        })
    }

    fn projection(&self) -> Result<Projection, CalendarError> {
        let task_due = self.open_task().and_then(|d| match d.status {
            DeliveryStatus::Task { due } => Some(due),
            _ => None,
        });
        Ok(Projection::default()
            .text("team_key", self.team.to_string())
            .text("state", self.state.as_str().to_owned())
            .text("system_key", self.system.clone())
            .text("role_key", self.role.clone())
            .text("holder_key", self.holder.to_string())
            .time("requested_at", Some(self.requested_at))
            .time("expires_at", self.grant.map(|g| g.expires_at))
            .time("closed_at", self.closed.as_ref().map(|c| c.at))
            .time("due_at", task_due))
    }
}

#[cfg(test)]
mod tests;
