//! The digest scheduler: every poll, for each configured digest, the slots since the last
//! recorded one are planned (`domain::digest::plan_slots`) and handled: due and late slots
//! are posted (claimed by a unique `digest_slots` row together with their outbox messages),
//! slots older than the grace period are recorded as skipped. Any number of replicas may run
//! it: a slot's row is inserted once.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::digest::{DigestDefinition, Slot, SlotPlan, plan_slots};
use crate::services::Services;
use crate::services::digests::{Posted, post_slot};
use crate::storage::digests as store;

/// A slot handled within this long after its instant is on time; later ones are marked late.
pub const ON_TIME: chrono::Duration = chrono::Duration::minutes(5);

/// What one pass did, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    pub posted: usize,
    pub late: usize,
    pub skipped: usize,
    /// Slots another replica (or an earlier pass) had already claimed.
    pub lost: usize,
}

#[derive(Clone)]
pub struct DigestScheduler {
    services: Services,
    definitions: Arc<Vec<DigestDefinition>>,
    grace: chrono::Duration,
    id: String,
}

impl DigestScheduler {
    /// Fails only for settings that did not pass `config::load`'s validation.
    pub fn new(services: Services, id: impl Into<String>) -> anyhow::Result<DigestScheduler> {
        let problem = |(key, problem): (String, String)| anyhow::anyhow!("{key}: {problem}");
        let definitions = services.setup().settings.digest_definitions().map_err(problem)?;
        let grace = services.setup().settings.digest_grace().map_err(problem)?;
        Ok(DigestScheduler { services, definitions: Arc::new(definitions), grace, id: id.into() })
    }

    /// One pass over every digest at the clock's time.
    pub async fn tick(&self) -> anyhow::Result<TickReport> {
        let mut report = TickReport::default();
        for definition in self.definitions.iter() {
            self.tick_one(definition, &mut report).await?;
        }
        crate::telemetry::metrics::digest_slots("posted", report.posted);
        crate::telemetry::metrics::digest_slots("late", report.late);
        crate::telemetry::metrics::digest_slots("skipped", report.skipped);
        Ok(report)
    }

    async fn tick_one(
        &self,
        definition: &DigestDefinition,
        report: &mut TickReport,
    ) -> anyhow::Result<()> {
        let now = self.services.clock().now();
        let last_recorded = store::last_slot(self.services.pool(), &definition.name).await?;
        let plan = SlotPlan { now, last_recorded, grace: self.grace, on_time: ON_TIME };
        let slots = plan_slots(&definition.schedule, definition.time_zone, plan);
        let skipped: Vec<_> =
            slots.iter().filter(|s| matches!(s, Slot::Skipped(_))).map(|s| s.at()).collect();
        if !skipped.is_empty() {
            let recorded = store::record_skipped(
                self.services.pool(),
                &definition.name,
                &skipped,
                now,
                &self.id,
            )
            .await?;
            report.skipped += recorded as usize;
            tracing::warn!(digest = %definition.name, skipped = recorded, "missed digest slots skipped");
        }
        for slot in slots {
            let late = match slot {
                Slot::OnTime(_) => false,
                Slot::Late(_) => true,
                Slot::Skipped(_) => continue,
            };
            match post_slot(&self.services, definition, slot.at(), late, &self.id).await? {
                Posted::Queued if late => report.late += 1,
                Posted::Queued => report.posted += 1,
                Posted::AlreadyClaimed => report.lost += 1,
            }
        }
        Ok(())
    }

    /// Runs passes until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let idle = Duration::from_millis(self.services.setup().settings.digest.poll_interval_ms);
        loop {
            if let Err(err) = self.tick().await {
                tracing::error!(scheduler = %self.id, error = ?err, "digest scheduler error");
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }
}
