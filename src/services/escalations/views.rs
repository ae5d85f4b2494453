//! `/escalations` lists and `/sla` explanations.

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::command::{ListScope, ListStatus};
use crate::domain::escalation::Escalation;
use crate::domain::ids::TeamKey;
use crate::domain::messages::escalation as text;
use crate::domain::messages::item as item_text;
use crate::domain::page::Page;
use crate::domain::reply::{Card, Reply};
use crate::domain::severity::Severity;
use crate::domain::sla::Explanation;
use crate::domain::sla::explain as explain_clock;
use crate::domain::sla_policy::ClockKind;
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::inbound::Event;
use crate::storage::escalations::{Scope, StatusFilter};
use crate::storage::{self, Tx};

pub async fn list(
    setup: &Setup,
    tx: &mut Tx,
    event: &Event<'_>,
    scope: ListScope,
    status: ListStatus,
    page: Page,
) -> Result<Reply, AppError> {
    let actor = event.actor;
    let (storage_scope, scope_word) = match scope {
        ListScope::Mine => (Scope::OwnedBy(actor.key.to_string()), "mine"),
        ListScope::Team => (Scope::Team(actor.team.to_string()), "team"),
        ListScope::All => (Scope::All, "all"),
    };
    let (filter, status_word) = match status {
        ListStatus::Open => (StatusFilter::Open, "open"),
        ListStatus::AtRisk => (StatusFilter::AtRisk, "at risk"),
        ListStatus::Breached => (StatusFilter::Breached, "breached"),
    };
    let now = event.now;
    let listing =
        storage::escalations::list(tx.conn().await?, &storage_scope, filter, now, page).await?;
    let command = text::list_command(scope_word, status_word);
    if listing.items.is_empty() && page > Page::FIRST {
        return Err(AppError::Refused(item_text::page_past_end(page, &command)));
    }
    let mut lines: Vec<String> = listing
        .items
        .iter()
        .map(|e| text::list_line(e, e.sla_view(now).ok().as_ref(), &setup.directory, now))
        .collect();
    lines.extend(item_text::page_footer(&listing, &command));
    let body = if listing.items.is_empty() { text::empty_list() } else { lines.join("\n") };
    Ok(Reply::private_card(Card {
        title: text::list_title(scope_word, status_word, &item_text::listed(&listing)),
        body: Some(body),
        ..Card::default()
    }))
}

/// `/sla <id>`: how both due times were computed, in the reader's time zone.
pub async fn explain(tx: &mut Tx, event: &Event<'_>, id: i64) -> Result<Reply, AppError> {
    let escalation = storage::items::get::<Escalation>(tx.conn().await?, id)
        .await?
        .ok_or_else(|| AppError::NotFound(text::unknown_escalation(id)))?;
    Ok(Reply::private(explain_text(&escalation, event)?))
}

fn explain_text(e: &Escalation, event: &Event<'_>) -> Result<String, AppError> {
    let calendar = e
        .sla
        .calendar()
        .map_err(|err| AppError::Unexpected(anyhow::anyhow!("escalation {}: {err}", e.id)))?;
    let zone = event.actor.time_zone;
    let acknowledge = explain_clock(
        &calendar,
        e.opened_at,
        &e.sla.target(ClockKind::Acknowledge),
        &[],
        event.now,
    );
    let resolve = explain_clock(
        &calendar,
        e.opened_at,
        &e.sla.target(ClockKind::Resolve),
        &crate::domain::escalation::pauses_of(&e.pauses),
        event.now,
    );
    Ok(text::explanation(e, &acknowledge, &resolve, zone))
}

/// `steward sla explain`: the due times an escalation opened at `opened` would get.
#[derive(Debug, serde::Serialize)]
pub struct PlanExplanation {
    pub severity: Severity,
    pub tier: String,
    pub team: String,
    pub acknowledge: Explanation,
    pub resolve: Explanation,
}

/// Explains the SLA plan for a hypothetical escalation; errors are for the command line.
pub fn explain_plan(
    settings: &Settings,
    opened: DateTime<Utc>,
    severity: Severity,
    tier: &str,
    team: &TeamKey,
    at: DateTime<Utc>,
) -> anyhow::Result<PlanExplanation> {
    let rules =
        settings.sla_rules().map_err(|(key, problem)| anyhow::anyhow!("{key}: {problem}"))?;
    let calendar_spec = settings.team_calendar(team);
    let plan = rules
        .plan(severity, tier, &calendar_spec)
        .ok_or_else(|| anyhow::anyhow!("no SLA targets for {severity}"))?;
    let calendar = plan.calendar()?;
    let clock = |kind| explain_clock(&calendar, opened, &plan.target(kind), &[], at);
    Ok(PlanExplanation {
        severity,
        tier: tier.to_owned(),
        team: team.to_string(),
        acknowledge: clock(ClockKind::Acknowledge),
        resolve: clock(ClockKind::Resolve),
    })
}
