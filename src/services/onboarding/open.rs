//! `/onboard <account> <plan>` and `/onboarding [team]`.

use super::Onboardings;
use crate::domain::ids::{AccountKey, TeamKey};
use crate::domain::item::{ItemKind, LivingItem};
use crate::domain::messages::onboarding as text;
use crate::domain::onboarding::{Onboarding, OnboardingOpening};
use crate::domain::reply::{Card, Reply};
use crate::services::Setup;
use crate::services::error::AppError;
use crate::services::inbound::{Event, EventTx};
use crate::services::items::{self, audit};
use crate::storage::{self, Tx};

pub async fn open(
    work: EventTx<'_, '_>,
    account: &AccountKey,
    plan: &str,
) -> Result<Reply, AppError> {
    let EventTx { setup, tx, effects, event } = work;
    let (actor, now) = (event.actor, event.now);
    let account = items::account_of(setup, account)?;
    let plans = &setup.policies.onboarding;
    let known: Vec<&str> = plans.iter().map(|p| p.key.as_str()).collect();
    let plan = plans
        .iter()
        .find(|p| p.key == plan)
        .ok_or_else(|| AppError::Refused(text::unknown_plan(plan, &known)))?;
    let tiers = setup.settings.onboarding_tiers(&plan.key);
    if !tiers.is_empty() && !tiers.contains(&account.tier) {
        return Err(AppError::Refused(text::plan_not_for_tier(&plan.key, &account.tier, tiers)));
    }
    if let Some(id) =
        storage::onboarding::open_of_account(tx.conn().await?, account.key.as_str()).await?
    {
        return Err(AppError::Refused(text::already_onboarding(account.key.as_str(), id)));
    }
    // The account owner's team works it; without an owner, the actor's.
    let owner_team =
        account.owner.as_ref().and_then(|k| setup.directory.person(k)).map(|p| &p.team);
    let team_key = owner_team.unwrap_or(&actor.team);
    let team = items::team_of(setup, team_key)?;
    let (platform, channel) = items::home_of(team, event);
    let mut onboarding = Onboarding::opened(OnboardingOpening {
        account: account.key.clone(),
        plan,
        calendar: setup.settings.team_calendar(&team.key),
        at_risk_fraction: setup.settings.onboarding.at_risk_fraction,
        opened_by: actor,
        account_owner: account.owner.as_ref().and_then(|k| setup.directory.person(k)),
        team: team.key.clone(),
        platform,
        channel,
        now,
    });
    onboarding.living.workspace = event.inbound.workspace.clone();
    onboarding.id = storage::items::next_id(tx.read().await?, ItemKind::Onboarding).await?;
    let after = onboarding.snapshot();
    let actor_key = actor.key.to_string();
    audit(effects, &mut onboarding, actor_key, "start", serde_json::Value::Null, after, now);
    items::create::<Onboardings>(setup, tx, effects, &onboarding, &[], Vec::new(), now).await?;
    Ok(Reply::private(text::started(&onboarding)))
}

pub async fn list(
    setup: &Setup,
    tx: &mut Tx,
    event: &Event<'_>,
    team: Option<&TeamKey>,
) -> Result<Reply, AppError> {
    let team = team.unwrap_or(&event.actor.team);
    if setup.directory.team(team).is_none() {
        return Err(AppError::Refused(text::unknown_team(team.as_str())));
    }
    let rows = storage::onboarding::open_of_team(tx.conn().await?, team.as_str()).await?;
    let zone = event.actor.time_zone;
    let lines: Vec<String> = rows.iter().map(|o| text::list_line(o, zone, event.now)).collect();
    let body = if lines.is_empty() { text::empty_list() } else { lines.join("\n") };
    Ok(Reply::private_card(Card {
        title: text::list_title(team.as_str(), rows.len()),
        body: Some(body),
        ..Card::default()
    }))
}
