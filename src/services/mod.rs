//! Use cases. Each inbound event is handled in one transaction that covers dedupe (inbox),
//! the state change, audit records, outgoing messages (outbox) and timers (jobs).

pub mod access;
pub mod audit;
pub mod audit_checkpoint;
pub mod credits;
pub mod digests;
mod drivers;
pub mod error;
pub mod escalations;
pub mod home;
pub mod inbound;
pub mod incidents;
pub mod items;
pub mod jobs;
pub mod lookup;
pub mod mine;
pub mod onboarding;
mod policy_explain;
pub mod ports;
pub mod requests;
pub mod retention;
mod steward_commands;
pub mod uploads;

pub use drivers::Services;
pub use ports::ChatPort;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::{CreditPolicy, Settings};
use crate::domain::access::AccessCatalog;
use crate::domain::assignment::on_shift;
use crate::domain::calendar::Calendar;
use crate::domain::identity::Directory;
use crate::domain::ids::PersonKey;
use crate::domain::policy::PolicyBook;
use crate::domain::sla_policy::SlaRules;
use crate::domain::triage::RequestRules;

/// What a use case reads and never writes: who is who, the settings, the policies derived
/// from them and the assignment-load cache. Use cases take `&Setup` plus the
/// transaction, write set and instant their driver gives them, so none of them can reach the
/// pool (and write outside the event's transaction) or read the clock on its own.
pub struct Setup {
    pub directory: Arc<Directory>,
    pub settings: Arc<Settings>,
    pub policies: Policies,
    /// Recent assignment inputs per team (see `requests::loads`).
    pub loads: requests::loads::LoadCache,
}

/// Rules parsed once from the settings.
#[derive(Debug, Clone)]
pub struct Policies {
    pub sla: SlaRules,
    pub escalation: PolicyBook,
    /// Authority matrix and approval chain rules.
    pub credit: CreditPolicy,
    pub requests: RequestRules,
    /// The systems access is requested to.
    pub access: AccessCatalog,
    /// How long before expiry grant holders are reminded, longest first.
    pub access_reminders: Vec<chrono::Duration>,
    /// The onboarding plans.
    pub onboarding: Vec<crate::domain::onboarding::OnboardingPlan>,
    /// When each person works (shift and out-of-office dates), parsed once: every paging step
    /// and assignment decision asks it for everyone in a team.
    pub rosters: BTreeMap<PersonKey, Roster>,
}

/// A person's working time.
#[derive(Debug, Clone)]
pub struct Roster {
    pub shift: Calendar,
    pub out_of_office: Vec<NaiveDate>,
}

impl Policies {
    /// Whether `person` is on shift at `now` (unknown people are not).
    pub fn on_shift(&self, person: &PersonKey, now: DateTime<Utc>) -> bool {
        self.rosters
            .get(person)
            .is_some_and(|roster| on_shift(&roster.shift, &roster.out_of_office, now))
    }
}
