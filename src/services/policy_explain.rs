//! `/policy explain`: a new supervisor asks "who would be paged, and who may approve?"
//! before anything exists. The answers reuse what paging and approvals decide with
//! (`escalations::recipients`, `compute_chain`, `check_authority`), so they cannot drift.

use rust_decimal::Decimal;

use super::Setup;
use super::error::AppError;
use super::escalations::recipients;
use super::inbound::Event;
use crate::domain::credit::{Refusal, check_authority, compute_chain, month_bounds};
use crate::domain::ids::AccountKey;
use crate::domain::messages::item as item_text;
use crate::domain::messages::policy::{self as text, Standing};
use crate::domain::money::Currency;
use crate::domain::policy_command::PolicyQuestion;
use crate::domain::reply::{Card, Reply};
use crate::domain::severity::Severity;
use crate::storage::{self, Tx};

pub async fn explain(
    setup: &Setup,
    tx: &mut Tx,
    event: &Event<'_>,
    question: &PolicyQuestion,
) -> Result<Reply, AppError> {
    match question {
        PolicyQuestion::Escalation { account, severity } => {
            escalation(setup, event, account, *severity)
        }
        PolicyQuestion::Credit { account, amount, currency } => {
            credit(setup, tx, event, account, *amount, currency).await
        }
    }
}

fn escalation(
    setup: &Setup,
    event: &Event<'_>,
    account: &AccountKey,
    severity: Severity,
) -> Result<Reply, AppError> {
    let account = setup
        .directory
        .account(account)
        .ok_or_else(|| AppError::Refused(item_text::unknown_account(account.as_str())))?;
    // An escalation belongs to the team of whoever opens it.
    let team = &event.actor.team;
    let (position, selector, policy) = setup
        .policies
        .escalation
        .select_explained(severity, &account.tier, team)
        .ok_or_else(|| AppError::Refused(text::no_policy(severity, team.as_str())))?;
    let mut lines = vec![text::chosen_because(
        policy,
        selector,
        position,
        severity,
        &account.tier,
        team.as_str(),
    )];
    let calendar = setup.settings.team_calendar(team);
    if let Some(plan) = setup.policies.sla.plan(severity, &account.tier, &calendar) {
        lines.push(text::sla_targets(
            plan.acknowledge_seconds,
            plan.resolve_seconds,
            plan.always_open,
        ));
    }
    for (index, level) in policy.levels.iter().enumerate() {
        let (people, channels) = recipients(setup, team, level, event.now);
        let names: Vec<String> = people.iter().map(|p| p.display_name.clone()).collect();
        let channels: Vec<String> = channels.iter().map(|c| format!("#{c}")).collect();
        let targets: Vec<String> = level.targets.iter().map(|t| t.to_string()).collect();
        let last = index + 1 == policy.levels.len();
        lines.push(text::level_line(
            index + 1,
            level.wait_seconds,
            &targets.join(", "),
            &names,
            &channels,
            last,
        ));
    }
    lines.push(text::repeats(policy.repeat));
    Ok(Reply::private_card(Card {
        title: text::escalation_title(account.key.as_str(), severity),
        body: Some(lines.join("\n")),
        ..Card::default()
    }))
}

async fn credit(
    setup: &Setup,
    tx: &mut Tx,
    event: &Event<'_>,
    account: &AccountKey,
    amount: Decimal,
    currency: &Currency,
) -> Result<Reply, AppError> {
    let account = setup
        .directory
        .account(account)
        .ok_or_else(|| AppError::Refused(item_text::unknown_account(account.as_str())))?;
    let policy = &setup.policies.credit;
    let chain = compute_chain(&policy.chain, amount, currency);
    let rules = policy.chain.iter().filter(|rule| rule.applies(amount, currency));
    let mut lines = Vec::new();
    let mut anyone_can_finish = false;
    for (index, (rule, level)) in rules.zip(&chain).enumerate() {
        let applies = text::level_applies(rule.above.get(currency).copied(), currency);
        lines.push(text::chain_level_heading(index + 1, &level.roles, &applies, level.authority));
        let holders: Vec<_> = setup
            .directory
            .people()
            .filter(|p| level.roles.iter().any(|r| p.has_role(*r)))
            .collect();
        if holders.is_empty() {
            lines.push(format!("  {}", text::nobody_holds_role()));
        }
        for person in holders {
            let standing = if person.key == event.actor.key {
                Standing::Requester
            } else if !level.authority {
                Standing::Reviewer
            } else {
                // The month is the approver's own, as when they approve.
                let (from, to) = month_bounds(event.now, person.time_zone);
                let (who, code) = (person.key.as_str(), currency.code());
                let used = storage::authority::used(tx.read().await?, who, code, from, to).await?;
                let checked =
                    check_authority(&policy.authority, person, level, amount, currency, used);
                match (checked, policy.authority.limit_for(person, &level.roles, currency)) {
                    (Ok(()), Some(limit)) => Standing::Within {
                        per_request: limit.per_request,
                        remaining: limit.monthly - used,
                    },
                    (Err(Refusal::PerRequest { limit, .. }), _) => {
                        Standing::AbovePerRequest { per_request: limit }
                    }
                    (Err(Refusal::Monthly { used, limit, .. }), _) => {
                        Standing::AboveRemaining { remaining: (limit - used).max(Decimal::ZERO) }
                    }
                    _ => Standing::NoAuthority,
                }
            };
            if level.authority && matches!(standing, Standing::Within { .. }) {
                anyone_can_finish = true;
            }
            let line = text::approver_line(&setup.directory, &person.key, &standing, currency);
            lines.push(format!("  {line}"));
        }
    }
    if !anyone_can_finish {
        lines.push(text::unfinishable(currency));
    }
    Ok(Reply::private_card(Card {
        title: text::credit_title(account.key.as_str(), amount, currency),
        body: Some(lines.join("\n")),
        ..Card::default()
    }))
}
