//! `/escalate`: open an escalation, post its card, page level 1, start the clocks.

use super::paging::page_step;
use super::{Escalations, timers};
use crate::domain::escalation::{Escalation, EscalationOpening};
use crate::domain::ids::AccountKey;
use crate::domain::item::{ItemKind, LivingItem};
use crate::domain::messages::escalation as text;
use crate::domain::reply::Reply;
use crate::domain::severity::Severity;
use crate::services::error::AppError;
use crate::services::inbound::EventTx;
use crate::services::items::{self, audit};
use crate::storage;

pub async fn open(
    work: EventTx<'_, '_>,
    account: &AccountKey,
    severity: Severity,
    summary: &str,
) -> Result<Reply, AppError> {
    let EventTx { setup, tx, effects, event } = work;
    let now = event.now;
    let actor = event.actor;
    let account = items::account_of(setup, account)?;
    let team = items::team_of(setup, &actor.team)?;
    let policy =
        setup.policies.escalation.select(severity, &account.tier, &team.key).ok_or_else(|| {
            AppError::Refused(text::no_policy(severity.as_str(), team.key.as_str()))
        })?;
    let calendar = setup.settings.team_calendar(&team.key);
    let sla =
        setup.policies.sla.plan(severity, &account.tier, &calendar).ok_or_else(|| {
            AppError::Unexpected(anyhow::anyhow!("no SLA targets for {severity}"))
        })?;
    let (platform, channel) = items::home_of(team, event);
    let mut escalation = Escalation::opened(EscalationOpening {
        team: team.key.clone(),
        account: account.key.clone(),
        tier: account.tier.clone(),
        severity,
        summary: summary.trim().to_owned(),
        opened_by: actor.key.clone(),
        opened_at: now,
        policy: policy.clone(),
        sla,
        platform,
        channel,
    });
    escalation.living.workspace = event.inbound.workspace.clone();
    // The id comes first: pages and the card name it, and both are stored with the row.
    escalation.id = storage::items::next_id(tx.read().await?, ItemKind::Escalation).await?;
    // The card itself says who opened it and who is paged: no thread lines yet.
    let pages = page_step(setup, &escalation, now);
    if let Some(pages) = &pages {
        escalation.paging = pages.names.clone();
    }
    let after = serde_json::json!({
        "account": escalation.account.as_str(),
        "severity": severity.as_str(),
        "summary": escalation.summary,
        "policy": escalation.policy.name,
        "state": escalation.snapshot(),
    });
    let actor_key = actor.key.to_string();
    audit(effects, &mut escalation, actor_key, "open", serde_json::Value::Null, after, now);
    let pages = pages.into_iter().flat_map(|p| p.messages).collect();
    items::create::<Escalations>(setup, tx, effects, &escalation, &[], pages, now).await?;
    timers::schedule_step(effects, &escalation, now);
    Ok(Reply::private(text::opened(&escalation)))
}
