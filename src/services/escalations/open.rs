//! `/escalate`: open an escalation, post its card, page level 1, start the clocks.

use super::paging::page_step;
use super::{card_messages, deadlines, schedule_sla_check, sla_view, snapshot, timers};
use crate::domain::audit::AuditEntry;
use crate::domain::escalation::{Escalation, EscalationState, SlaAlerts};
use crate::domain::ids::AccountKey;
use crate::domain::messages::escalation as text;
use crate::domain::reply::Reply;
use crate::domain::severity::Severity;
use crate::services::Services;
use crate::services::error::AppError;
use crate::services::inbound::Request;
use crate::storage::effects::Effects;
use crate::storage::{self, Tx};

pub async fn open(
    services: &Services,
    tx: &mut Tx,
    effects: &mut Effects,
    request: &Request<'_>,
    account: &AccountKey,
    severity: Severity,
    summary: &str,
) -> Result<Reply, AppError> {
    let now = request.now;
    let actor = request.actor;
    let account = services
        .directory
        .account(account)
        .ok_or_else(|| AppError::Refused(text::unknown_account(account.as_str())))?;
    let team = services
        .directory
        .team(&actor.team)
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("team {} missing", actor.team)))?;
    let policy =
        services.policies.escalation.select(severity, &account.tier, &team.key).ok_or_else(
            || AppError::Refused(text::no_policy(severity.as_str(), team.key.as_str())),
        )?;
    let calendar = services.settings.team_calendar(&team.key);
    let sla =
        services.policies.sla.plan(severity, &account.tier, &calendar).ok_or_else(|| {
            AppError::Unexpected(anyhow::anyhow!("no SLA targets for {severity}"))
        })?;
    let platform = request.inbound.platform;
    let channel =
        team.channels.get(&platform).cloned().unwrap_or_else(|| request.inbound.channel.clone());
    let mut escalation = Escalation {
        id: 0,
        version: 1,
        team: team.key.clone(),
        account: account.key.clone(),
        tier: account.tier.clone(),
        severity,
        summary: summary.trim().to_owned(),
        opened_by: actor.key.clone(),
        opened_at: now,
        state: EscalationState::Open,
        owner: None,
        acknowledged: None,
        resolved: None,
        step: 0,
        paging: Vec::new(),
        policy: policy.clone(),
        sla,
        pauses: Vec::new(),
        alerts: SlaAlerts::default(),
        platform,
        channel,
        audit_head: None,
    };
    // The id comes first: pages and the card name it, and both are stored with the row.
    escalation.id = storage::escalations::next_id(&mut **tx).await?;
    // The card itself says who opened it and who is paged: no thread lines yet.
    let pages = page_step(services, &escalation, now);
    if let Some(pages) = &pages {
        escalation.paging = pages.names.clone();
    }
    let entry = AuditEntry {
        at: now,
        actor: actor.key.to_string(),
        subject: escalation.subject(),
        action: "open".into(),
        before: serde_json::Value::Null,
        after: serde_json::json!({
            "account": escalation.account.as_str(),
            "severity": severity.as_str(),
            "summary": escalation.summary,
            "policy": escalation.policy.name,
            "state": snapshot(&escalation),
        }),
    };
    effects.audit.push(escalation.chain_audit(entry));
    let view = sla_view(&escalation, now)?;
    storage::escalations::insert(tx, &escalation, &deadlines(&view), now).await?;
    effects.outbox.extend(card_messages(services, &escalation, &view, &[], now));
    effects.outbox.extend(pages.into_iter().flat_map(|p| p.messages));
    timers::schedule_step(effects, &escalation, now);
    schedule_sla_check(effects, &escalation, &view, now);
    Ok(Reply::private(text::opened(&escalation)))
}
