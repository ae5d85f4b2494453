//! What the drivers hold. Its own module, so the fields stay private even to the use cases
//! under `services::`: they receive a [`Setup`], never the pool or the clock.

use std::sync::Arc;

use sqlx::PgPool;

use super::ports::Clock;
use super::{Policies, Roster, Setup};
use crate::config::Settings;
use crate::domain::audit_key::AuditKeys;
use crate::domain::identity::Directory;
use crate::storage::item_cache::ItemCache;

/// What the drivers (inbound routing, job workers, the dispatcher, digests, start-up, the
/// benchmarks) hold: the database and the clock besides the [`Setup`]. Use cases get the
/// setup, the transaction and the instant from them, never this.
#[derive(Clone)]
pub struct Services {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    /// The audit chain's HMAC keys (`STEWARD_AUDIT_KEY`), shared by every write set: the
    /// driver opens the write set, so the keys are the driver's.
    audit_keys: Arc<AuditKeys>,
    setup: Arc<Setup>,
    /// What this process committed of its items, so a click on a card it just published
    /// skips reading the row back (see [`ItemCache`]).
    items: ItemCache,
}

impl Services {
    /// The read-only part every use case receives.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The database, for drivers that open transactions or read outside one.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The time, read by drivers once per event or job.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The items this process committed: inbound events read from it and keep it current.
    pub fn item_cache(&self) -> &ItemCache {
        &self.items
    }

    /// An empty write set for one transaction, chaining audit records under the configured
    /// keys.
    pub fn effects(&self) -> crate::storage::effects::Effects {
        crate::storage::effects::Effects::new(self.audit_keys.clone())
    }

    /// The same services chaining new write sets under `keys` (a key rotation).
    pub fn with_audit_keys(self, keys: AuditKeys) -> Services {
        Services { audit_keys: Arc::new(keys), ..self }
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
        let audit_keys = Arc::new(settings.audit.keys.clone());
        let setup = Setup {
            directory: Arc::new(directory),
            settings: Arc::new(settings),
            policies,
            loads: Default::default(),
        };
        let items = ItemCache::new();
        Ok(Services { pool, clock, audit_keys, setup: Arc::new(setup), items })
    }
}
