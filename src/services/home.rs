//! The Slack App Home kept current: who opened their home is remembered, and when something
//! of theirs changes (an item they own, an approval that waits on them appears or goes
//! away, their team's queue) their home is republished, debounced: every change schedules
//! the job `home.republish` for the person's current window of `slack.home_debounce_seconds`
//! (dedupe key per person and window), so a burst of changes is one `views.publish`, built
//! when the window ends, with what is true then.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;

use super::jobs::{JobError, JobHandler, JobRegistry, payload};
use super::{Services, Setup};
use crate::domain::ids::{PersonKey, Platform};
use crate::domain::reply::Message;
use crate::storage::effects::{Effects, HomeRepublish};
use crate::storage::jobs::Job;
use crate::storage::outbox::{self, NewOutboxMessage, OutboxKind};
use crate::storage::{self, Tx};

/// The job that republishes one person's home.
pub const REPUBLISH_JOB: &str = "home.republish";

pub fn register_jobs(registry: &mut JobRegistry) {
    registry.register(REPUBLISH_JOB, Arc::new(Republish));
}

/// Remembers that `user` of `workspace` opened their home (someone outside the directory
/// is not); their home is republished in that workspace.
pub async fn opened(
    services: &Services,
    platform: Platform,
    workspace: Option<&str>,
    user: &str,
) -> anyhow::Result<()> {
    let Some(person) = services.setup().directory.resolve_in(platform, workspace, user) else {
        return Ok(());
    };
    let now = services.clock().now();
    let key = person.key.to_string();
    let viewer = storage::home_viewers::Viewer { platform: platform.as_str(), workspace, user };
    storage::home_viewers::remember(services.pool(), &viewer, &key, now).await?;
    Ok(())
}

/// Schedules the republish of the homes of `people` who opened theirs, with the change's
/// other effects (in the same statement); nothing when nobody is affected.
pub(crate) fn changed(
    setup: &Setup,
    effects: &mut Effects,
    people: impl IntoIterator<Item = PersonKey>,
    now: DateTime<Utc>,
) {
    let people: BTreeSet<String> = people.into_iter().map(|p| p.to_string()).collect();
    if people.is_empty() {
        return;
    }
    let (window, run_at) = window_of(setup.settings.slack.home_debounce_seconds, now);
    effects.republish_homes(HomeRepublish { kind: REPUBLISH_JOB, people, window, run_at });
}

/// The debounce window `now` falls in, and when it ends (when its republish runs).
fn window_of(seconds: u64, now: DateTime<Utc>) -> (i64, DateTime<Utc>) {
    let seconds = seconds.max(1) as i64;
    let window = now.timestamp().div_euclid(seconds);
    let end = Utc.timestamp_opt((window + 1) * seconds, 0).single().unwrap_or(now);
    (window, end)
}

#[derive(Deserialize)]
struct Viewer {
    platform: String,
    user: String,
    /// The workspace they opened it in (none before workspaces were recorded).
    #[serde(default)]
    workspace: Option<String>,
}

/// Builds the person's home as it is now and queues it (outbox kind `home`).
struct Republish;

#[async_trait]
impl JobHandler for Republish {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let viewer: Viewer = payload(job)?;
        let platform = Platform::parse(&viewer.platform)
            .ok_or_else(|| JobError::Fatal(format!("unknown platform {}", viewer.platform)))?;
        // Left the directory since: nothing to show them.
        let workspace = viewer.workspace.as_deref();
        let Some(person) = services.setup().directory.resolve_in(platform, workspace, &viewer.user)
        else {
            return Ok(());
        };
        let now = services.clock().now();
        let card = super::mine::card_now(services, person, now).await.map_err(JobError::retry)?;
        let message = NewOutboxMessage {
            platform: viewer.platform.clone(),
            kind: OutboxKind::Home,
            target: viewer.user.clone(),
            message: Message::card(card),
            dedupe_key: format!("home:{}:{}:job:{}", viewer.platform, viewer.user, job.id),
            not_before: now,
            workspace: viewer.workspace.clone(),
        };
        outbox::enqueue(tx.conn().await?, &message, now).await.map_err(JobError::retry)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_runs_at_its_end_and_every_instant_in_it_shares_it() {
        let at = |s: i64| Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap();
        let (first, end) = window_of(10, at(0));
        assert_eq!(end, at(10));
        assert_eq!(window_of(10, at(9)).0, first);
        assert_eq!(window_of(10, at(10)).0, first + 1);
    }
}
