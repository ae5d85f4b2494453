//! Use cases. Each inbound event is handled in one transaction that covers dedupe (inbox),
//! the state change, audit records, outgoing messages (outbox) and timers (jobs).

pub mod access;
pub mod audit;
pub mod audit_checkpoint;
pub mod credits;
pub mod digests;
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

pub use ports::ChatPort;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use sqlx::PgPool;

use crate::config::{CreditPolicy, Settings};
use crate::domain::access::AccessCatalog;
use crate::domain::assignment::on_shift;
use crate::domain::calendar::Calendar;
use crate::domain::identity::Directory;
use crate::domain::ids::PersonKey;
use crate::domain::policy::PolicyBook;
use crate::domain::sla_policy::SlaRules;
use crate::domain::triage::RequestRules;
use ports::Clock;

/// What every use case needs: the database, the time, who is who, the settings and the
/// policies derived from them.
#[derive(Clone)]
pub struct Services {
    pub pool: PgPool,
    pub clock: Arc<dyn Clock>,
    pub directory: Arc<Directory>,
    pub settings: Arc<Settings>,
    pub policies: Arc<Policies>,
    /// Recent assignment inputs per team (see `requests::loads`).
    pub loads: Arc<requests::loads::LoadCache>,
    /// The audit chain's HMAC keys (`STEWARD_AUDIT_KEY`), shared by every write set.
    pub audit_keys: Arc<crate::domain::audit_key::AuditKeys>,
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

impl Services {
    /// An empty write set for one transaction, chaining audit records under the configured
    /// keys.
    pub fn effects(&self) -> crate::storage::effects::Effects {
        crate::storage::effects::Effects::new(self.audit_keys.clone())
    }

    /// Fails only for settings that did not pass `config::load`'s validation.
    pub fn new(
        pool: PgPool,
        clock: Arc<dyn Clock>,
        directory: Directory,
        settings: Settings,
    ) -> anyhow::Result<Services> {
        let problem = |(key, problem): (String, String)| anyhow::anyhow!("{key}: {problem}");
        let policies = Policies {
            sla: settings.sla_rules().map_err(problem)?,
            escalation: settings.policy_book().map_err(problem)?,
            credit: settings.credit_policy().map_err(problem)?,
            requests: settings.request_rules().map_err(problem)?,
            access: settings.access_catalog().map_err(problem)?,
            access_reminders: settings.access_reminders().map_err(problem)?,
            onboarding: settings.onboarding_plans().map_err(problem)?,
            rosters: directory
                .people()
                .filter_map(|person| {
                    let roster = Roster {
                        shift: settings.shift_calendar(person)?,
                        out_of_office: settings.out_of_office(&person.key).to_vec(),
                    };
                    Some((person.key.clone(), roster))
                })
                .collect(),
        };
        Ok(Services {
            audit_keys: Arc::new(settings.audit.keys.clone()),
            pool,
            clock,
            directory: Arc::new(directory),
            settings: Arc::new(settings),
            policies: Arc::new(policies),
            loads: Arc::default(),
        })
    }
}
