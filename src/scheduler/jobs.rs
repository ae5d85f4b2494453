//! Job workers: claim a due job, run its handler inside a transaction that also marks the
//! job done, so a job's database effects happen exactly once even if a worker dies midway.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::backoff;
use crate::config::JobSettings;
use crate::services::Services;
pub use crate::services::jobs::{JobError, JobHandler, JobRegistry};
use crate::storage::jobs::{self, Job};

/// What happened to a claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done {
        id: i64,
    },
    Retrying {
        id: i64,
        error: String,
    },
    Dead {
        id: i64,
        error: String,
    },
    /// Another worker took the job over after our lease ran out; our work was rolled back.
    LeaseLost {
        id: i64,
    },
}

/// One job worker.
pub struct JobWorker {
    services: Services,
    registry: Arc<JobRegistry>,
    settings: JobSettings,
    id: String,
}

impl JobWorker {
    pub fn new(services: Services, registry: Arc<JobRegistry>, id: impl Into<String>) -> JobWorker {
        let settings = services.setup().settings.jobs.clone();
        JobWorker { services, registry, settings, id: id.into() }
    }

    /// Claims and runs the next due job; `None` when nothing is due.
    pub async fn run_one(&self) -> anyhow::Result<Option<JobOutcome>> {
        let outcomes = self.run_batch_until(&CancellationToken::new(), Duration::ZERO, 1).await?;
        Ok(outcomes.into_iter().next())
    }

    /// Claims up to `limit` due jobs and runs them side by side, each in its own transaction
    /// (concurrent commits share one log flush); empty when nothing was due. A job still
    /// running `grace` after `shutdown` is cut off: its transaction is dropped (rolled back)
    /// and the job released for the next worker, so nothing of it happened and it runs once,
    /// later.
    async fn run_batch_until(
        &self,
        shutdown: &CancellationToken,
        grace: Duration,
        limit: i64,
    ) -> anyhow::Result<Vec<JobOutcome>> {
        let now = self.services.clock().now();
        let lease = chrono::Duration::seconds(self.settings.lease_seconds as i64);
        let claimed =
            jobs::claim_due(self.services.pool(), &self.id, now, now + lease, limit).await?;
        let runs = claimed.iter().map(|job| self.run_claimed(job, shutdown, grace));
        let mut outcomes = Vec::with_capacity(claimed.len());
        for result in futures::future::join_all(runs).await {
            outcomes.extend(result?);
        }
        Ok(outcomes)
    }

    /// Runs one claimed job and records its outcome; `None` when shutdown cut it off.
    async fn run_claimed(
        &self,
        job: &Job,
        shutdown: &CancellationToken,
        grace: Duration,
    ) -> anyhow::Result<Option<JobOutcome>> {
        let result = if job.attempts > job.max_attempts {
            // Claimed again after lease expiries more often than allowed: its workers keep dying.
            Err(JobError::Fatal(format!("gave up after {} attempts", job.max_attempts)))
        } else {
            let grace_over = async {
                shutdown.cancelled().await;
                tokio::time::sleep(grace).await;
            };
            tokio::select! {
                biased;
                result = self.run_in_transaction(job) => result?,
                _ = grace_over => {
                    jobs::release(self.services.pool(), job.id, &self.id).await?;
                    tracing::warn!(job = job.id, kind = %job.kind, "job cut off by shutdown, released");
                    return Ok(None);
                }
            }
        };
        let now = self.services.clock().now();
        let outcome = match result {
            Ok(true) => JobOutcome::Done { id: job.id },
            Ok(false) => JobOutcome::LeaseLost { id: job.id },
            Err(err) => {
                let retry_at = match &err {
                    JobError::Retryable(_) if job.attempts < job.max_attempts => {
                        let base = Duration::from_secs(self.settings.backoff_base_seconds);
                        let max = Duration::from_secs(self.settings.backoff_max_seconds);
                        let wait = backoff(job.attempts, base, max);
                        Some(now + chrono::Duration::from_std(wait)?)
                    }
                    _ => None,
                };
                let error = err.to_string();
                let owned =
                    jobs::fail(self.services.pool(), job.id, &self.id, &error, retry_at, now)
                        .await?;
                match (owned, retry_at) {
                    (false, _) => JobOutcome::LeaseLost { id: job.id },
                    (true, Some(_)) => JobOutcome::Retrying { id: job.id, error },
                    (true, None) => JobOutcome::Dead { id: job.id, error },
                }
            }
        };
        // A job done is routine (thousands a minute at scale): debug; anything else is news.
        if let JobOutcome::Done { .. } = outcome {
            tracing::debug!(job = job.id, kind = %job.kind, "job done");
        } else {
            tracing::info!(job = job.id, kind = %job.kind, ?outcome, "job finished");
        }
        Ok(Some(outcome))
    }

    /// Runs the handler and completes the job in one transaction. `Ok(false)`: lease lost.
    async fn run_in_transaction(&self, job: &Job) -> anyhow::Result<Result<bool, JobError>> {
        let Some(handler) = self.registry.get(&job.kind) else {
            return Ok(Err(JobError::Fatal(format!("no handler for job kind `{}`", job.kind))));
        };
        let mut tx = crate::storage::Tx::begin(self.services.pool()).await?;
        if let Err(err) = handler.run(&self.services, job, &mut tx).await {
            tx.rollback().await?;
            return Ok(Err(err));
        }
        let now = self.services.clock().now();
        if jobs::complete(tx.conn().await?, job.id, &self.id, now).await? {
            tx.commit().await?;
            Ok(Ok(true))
        } else {
            tx.rollback().await?;
            Ok(Ok(false))
        }
    }

    /// Runs jobs until `shutdown`, up to `jobs.batch_size` at a time, polling when idle. Once
    /// `shutdown` is cancelled it takes no new job, and a job under way gets half of
    /// `server.shutdown_timeout_seconds`.
    pub async fn run(self, shutdown: CancellationToken) {
        let idle = Duration::from_millis(self.settings.poll_interval_ms);
        let grace =
            Duration::from_secs(self.services.setup().settings.server.shutdown_timeout_seconds) / 2;
        while !shutdown.is_cancelled() {
            let batch = self.settings.batch_size.max(1);
            let pause = match self.run_batch_until(&shutdown, grace, batch).await {
                Ok(outcomes) if !outcomes.is_empty() => continue,
                Ok(_) => idle,
                Err(err) => {
                    tracing::error!(worker = %self.id, error = ?err, "job worker error");
                    idle * 4
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}
