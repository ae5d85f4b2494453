//! Digests as use cases: gather a digest's figures (`compute`), turn them into a message
//! (`render`), and post a slot exactly once through the outbox (`post_slot`). The scheduler
//! (`scheduler::digests`), `steward digest run` and `/digest` all come through here.

mod as_of;
mod compute;
pub mod run;

pub use compute::compute;

use chrono::{DateTime, Utc};

use super::Services;
use crate::domain::digest::report::Report;
use crate::domain::digest::{DigestDefinition, chart};
use crate::domain::messages::digest as text;
use crate::domain::reply::{Attachment, Card, Message};
use crate::storage::digests::{self as store, SlotOutcome};
use crate::storage::outbox::{self, NewOutboxMessage, OutboxKind};

/// Builds the digest message for `slot`. `late` marks a slot posted after its time.
pub fn render(
    services: &Services,
    definition: &DigestDefinition,
    report: &Report,
    slot: DateTime<Utc>,
    late: bool,
) -> Message {
    let zone = definition.time_zone;
    let title = text::title(&definition.name, definition.kind.as_str(), slot, zone, late);
    let mut attachments = Vec::new();
    let body = match report {
        Report::Sla(report) => text::sla_body(report, zone, |team| {
            crate::domain::ids::TeamKey::parse(team)
                .ok()
                .and_then(|key| services.setup().directory.team(&key).map(|t| t.name.clone()))
                .unwrap_or_else(|| team.to_owned())
        }),
        Report::Kpi(report) => {
            // Windows of a week or more get the trend chart (the weekly and monthly digests);
            // their days are whole local days, so no bar is a partial day.
            if definition.window.spans_a_week() && !report.trend.is_empty() {
                let opened: Vec<i64> = report.trend.iter().map(|p| p.opened).collect();
                let resolved: Vec<i64> = report.trend.iter().map(|p| p.resolved).collect();
                let fallback = text::trend_fallback(&opened, &resolved);
                attachments.push(Attachment {
                    filename: format!("{}-trend.png", definition.name),
                    title: text::trend_title(report.trend.len()),
                    media_type: "image/png".into(),
                    data: chart::trend_png(&report.trend).unwrap_or_default(),
                    fallback,
                });
                attachments.retain(|a| !a.data.is_empty());
            }
            text::kpi_body(report, zone, &definition.name)
        }
        Report::Standup(report) => text::standup_body(report, slot),
    };
    Message {
        text: None,
        card: Some(Card { title, body: Some(body), ..Card::default() }),
        thread_of: None,
        attachments,
    }
}

/// The dedupe key of one slot's message to one channel.
pub fn dedupe_key(name: &str, slot: DateTime<Utc>, platform: &str) -> String {
    format!("digest:{name}:{}:{platform}", slot.to_rfc3339())
}

/// What happened to a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// This call claimed the slot and queued the digest.
    Queued,
    /// Someone (another replica, an earlier run) had claimed it already.
    AlreadyClaimed,
}

/// Computes and posts the digest for `slot`: claims `(name, slot)` and writes one outbox
/// message per channel in one transaction, so the slot yields one digest however many
/// replicas try. The figures are gathered before the claim (on the pool, in parallel), so
/// the claim's transaction is short; a loser's work is wasted, never doubled.
pub async fn post_slot(
    services: &Services,
    definition: &DigestDefinition,
    slot: DateTime<Utc>,
    late: bool,
    claimed_by: &str,
) -> anyhow::Result<Posted> {
    if store::slots(services.pool(), &definition.name).await?.iter().any(|s| s.slot_at == slot) {
        return Ok(Posted::AlreadyClaimed);
    }
    let report = compute(services, definition, slot).await?;
    let message = render(services, definition, &report, slot, late);
    let now = services.clock().now();
    let mut tx = services.pool().begin().await?;
    let outcome = if late { SlotOutcome::Late } else { SlotOutcome::Posted };
    if !store::claim_slot(&mut tx, &definition.name, slot, outcome, now, claimed_by).await? {
        tx.rollback().await?;
        return Ok(Posted::AlreadyClaimed);
    }
    for (platform, channel) in &definition.channels {
        // A Slack channel of another workspace is written `T123:C456`.
        let (workspace, channel) = crate::domain::workspace::split(*platform, channel);
        let new = NewOutboxMessage {
            platform: platform.as_str().to_owned(),
            kind: OutboxKind::Post,
            target: channel.to_owned(),
            message: message.clone(),
            dedupe_key: dedupe_key(&definition.name, slot, platform.as_str()),
            not_before: now,
            workspace: workspace.map(str::to_owned),
        };
        outbox::enqueue(&mut tx, &new, now).await?;
    }
    tx.commit().await?;
    tracing::info!(digest = %definition.name, slot = %slot, late, "digest queued");
    Ok(Posted::Queued)
}

/// The configured digest called `name`.
pub fn definition(services: &Services, name: &str) -> Option<DigestDefinition> {
    services.setup().settings.digest_definitions().ok()?.into_iter().find(|d| d.name == name)
}

/// Names of the configured digests, for messages.
pub fn names(services: &Services) -> Vec<String> {
    services.setup().settings.digests.iter().map(|d| d.name.clone()).collect()
}

/// `/digest <name>`: the digest as of now, only for the asker; nothing is claimed or posted.
pub async fn preview(
    services: &Services,
    name: &str,
) -> Result<crate::domain::reply::Reply, super::error::AppError> {
    let Some(definition) = definition(services, name) else {
        let known = names(services);
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        return Err(super::error::AppError::NotFound(text::unknown_digest(name, &known)));
    };
    let now = services.clock().now();
    let report =
        compute(services, &definition, now).await.map_err(super::error::AppError::Unexpected)?;
    let mut message = render(services, &definition, &report, now, false);
    if let Some(card) = message.card.as_mut() {
        card.context.push(text::preview_note());
    }
    Ok(crate::domain::reply::Reply { ephemeral: true, message })
}

/// `/digest explain <name>`: the digest's definitions, only for the asker.
pub fn explain(
    services: &Services,
    name: &str,
) -> Result<crate::domain::reply::Reply, super::error::AppError> {
    let Some(definition) = definition(services, name) else {
        let known = names(services);
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        return Err(super::error::AppError::NotFound(text::unknown_digest(name, &known)));
    };
    Ok(crate::domain::reply::Reply {
        ephemeral: true,
        message: Message::text(text::explain(&definition)),
    })
}
