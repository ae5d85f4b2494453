//! `steward digest run <name> [--at <time>] [--dry-run]`: one digest on demand.

use chrono::{DateTime, Utc};

use crate::domain::digest::slots::nearest_slots;

use super::{Posted, compute, definition, names, post_slot, render};
use crate::domain::messages::digest as text;
use crate::services::Services;

/// What `steward digest run` did, with the rendered digest.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub message: crate::domain::reply::Message,
    /// `None` for a dry run.
    pub posted: Option<Posted>,
    pub summary: String,
}

/// Computes the digest `name` as of `at`; unless `dry_run`, claims `at` — which must be a
/// slot of the schedule — and queues the digest in the outbox (the running daemon's
/// dispatcher sends it).
pub async fn run(
    services: &Services,
    name: &str,
    at: DateTime<Utc>,
    dry_run: bool,
) -> anyhow::Result<RunOutcome> {
    let Some(definition) = definition(services, name) else {
        let known = names(services);
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        anyhow::bail!(text::unknown_digest(name, &known));
    };
    if dry_run {
        let report = compute(services, &definition, at).await?;
        let message = render(services, &definition, &report, at, false);
        return Ok(RunOutcome { message, posted: None, summary: text::preview_note() });
    }
    // Only a slot of the schedule is posted: another instant would make a second "morning"
    // digest. The refusal names the nearest slots.
    let nearest = nearest_slots(&definition.schedule, definition.time_zone, at);
    if nearest.0 != Some(at) {
        anyhow::bail!(text::run_not_a_slot(name, at, definition.time_zone, nearest));
    }
    let posted = post_slot(services, &definition, at, false, "cli").await?;
    let report = compute(services, &definition, at).await?;
    let message = render(services, &definition, &report, at, false);
    let summary = match posted {
        Posted::Queued => text::run_posted(name, definition.channels.len()),
        Posted::AlreadyClaimed => text::run_already_claimed(name, at),
    };
    Ok(RunOutcome { message, posted: Some(posted), summary })
}
