//! Account requests: intake (chat and the signed HTTP endpoint), triage, assignment to
//! someone on shift, the living card, team views and the queue retry job.
//!
//! A request is a living item: clicks, commands and the retry job go through the kernel
//! (`services::items`), which saves every change — audit record chained from the head in
//! the row, compare-and-set write with the projection, card update and thread line.

mod actions;
mod assign;
mod commands;
mod jobs;
pub mod loads;
mod open;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use actions::Requests;
pub use assign::choose;
pub use commands::command;
pub use jobs::{ASSIGN_RETRY, AssignRetry};
pub use open::{IntakeOutcome, NewRequest, Opened, intake, open_request};

use super::error::AppError;
use super::jobs::JobRegistry;
use crate::domain::item::ItemKind;
use crate::domain::request::{Request, RequestSla};

/// Registers the request jobs with the job workers.
pub fn register_jobs(registry: &mut JobRegistry) {
    registry.register(&ItemKind::Request.job_kind(ASSIGN_RETRY), Arc::new(AssignRetry));
}

pub(crate) fn sla_view(r: &Request, now: DateTime<Utc>) -> Result<RequestSla, AppError> {
    r.sla_view(now).map_err(|err| AppError::Unexpected(anyhow::anyhow!("request {}: {err}", r.id)))
}
