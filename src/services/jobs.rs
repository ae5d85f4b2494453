//! The job handler port: use cases that run later (timers, reminders) implement
//! [`JobHandler`]; `scheduler::jobs` claims due jobs and runs them.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::Services;
use crate::storage::Tx;
use crate::storage::jobs::Job;

/// How a job run failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Try again after a backoff (until `max_attempts`).
    #[error("{0}")]
    Retryable(String),
    /// Trying again cannot help: dead-letter now.
    #[error("{0}")]
    Fatal(String),
}

impl JobError {
    /// A failure worth another attempt (the database was away, a row was locked…).
    pub fn retry(err: impl std::fmt::Display) -> JobError {
        JobError::Retryable(err.to_string())
    }
}

/// A database error in a job is worth another attempt (an outage, a serialisation failure).
impl From<sqlx::Error> for JobError {
    fn from(err: sqlx::Error) -> JobError {
        JobError::retry(err)
    }
}

/// A job's payload as `T`; a payload that does not parse can never succeed.
pub fn payload<T: serde::de::DeserializeOwned>(
    job: &crate::storage::jobs::Job,
) -> Result<T, JobError> {
    serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::Fatal(format!("bad payload {}: {e}", job.payload)))
}

/// Runs one kind of job.
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// Runs inside the job's transaction; its writes commit together with the job's
    /// completion. Re-check the state you act on: the world may have moved since scheduling.
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError>;
}

/// Handlers by job kind.
#[derive(Default, Clone)]
pub struct JobRegistry {
    handlers: HashMap<String, Arc<dyn JobHandler>>,
}

impl JobRegistry {
    pub fn register(&mut self, kind: &str, handler: Arc<dyn JobHandler>) {
        self.handlers.insert(kind.to_owned(), handler);
    }

    pub fn get(&self, kind: &str) -> Option<&Arc<dyn JobHandler>> {
        self.handlers.get(kind)
    }
}
