//! `steward seed`: realistic history for demos and benchmarks. One escalation, request and
//! credit are opened through the services (so their documents are exactly what Steward
//! writes); `storage::seed` then copies them in SQL over the configured people, teams,
//! accounts and tiers, in three currencies, spread over the last `--days` days.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Settings;
use crate::domain::identity::Role;
use crate::domain::ids::Platform;
use crate::domain::inbound::{Inbound, InboundKind};
use crate::services::Services;
use crate::storage::seed::{self as store, SeedPopulation, SeedTemplates, TemplateKind};

/// How much history to generate.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    /// Requests to generate.
    #[arg(long, default_value_t = 1_000_000)]
    pub requests: i64,
    /// Escalations to generate.
    #[arg(long, default_value_t = 1_000_000)]
    pub escalations: i64,
    /// Credit requests to generate (approved ones get their approval rows).
    #[arg(long, default_value_t = 100_000)]
    pub credits: i64,
    /// Spread over this many days before now.
    #[arg(long, default_value_t = 180)]
    pub days: i64,
}

/// What a seed run produced.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SeedFigures {
    pub escalations: i64,
    pub requests: i64,
    pub credits: i64,
    pub credit_approvals: i64,
    pub seconds: f64,
}

/// `steward seed` on the configured database.
pub async fn run(settings: Settings, args: SeedArgs) -> anyhow::Result<()> {
    let database = crate::startup::Database::open(&settings).await?;
    let result = async {
        let services = crate::startup::services(&settings, database.pool.clone()).await?;
        seed(&services, &args, services.clock.now()).await
    }
    .await;
    database.close().await;
    let figures = result?;
    println!(
        "Seeded {} escalations, {} requests, {} credits ({} approvals) in {:.1}s.",
        figures.escalations,
        figures.requests,
        figures.credits,
        figures.credit_approvals,
        figures.seconds
    );
    Ok(())
}

/// Seeds the services' database; returns the table sizes afterwards.
pub async fn seed(
    services: &Services,
    args: &SeedArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<SeedFigures> {
    let started = Instant::now();
    let population = population(services)?;
    let templates = templates(services).await?;
    let mut conn = services.pool.acquire().await?;
    // Bulk history: nothing is lost if the machine dies mid-seed but the seed itself.
    sqlx::Executor::execute(&mut *conn, "SET synchronous_commit = off").await?;
    store::escalations(
        &mut conn,
        &population,
        &templates.escalation,
        args.escalations,
        args.days,
        now,
    )
    .await?;
    store::requests(&mut conn, &population, &templates.request, args.requests, args.days, now)
        .await?;
    store::credits(&mut conn, &population, &templates.credit, args.credits, args.days, now).await?;
    store::analyze(&mut conn).await?;
    let (escalations, requests, credits, credit_approvals) = store::counts(&mut conn).await?;
    Ok(SeedFigures {
        escalations,
        requests,
        credits,
        credit_approvals,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn population(services: &Services) -> anyhow::Result<SeedPopulation> {
    let people: Vec<_> = services.directory.people().collect();
    let accounts: Vec<_> = services.directory.accounts().collect();
    anyhow::ensure!(!people.is_empty(), "seeding needs at least one configured person");
    anyhow::ensure!(!accounts.is_empty(), "seeding needs at least one configured account");
    let approvers: Vec<String> = people
        .iter()
        .filter(|p| p.has_role(Role::Supervisor) || p.has_role(Role::Finance))
        .map(|p| p.key.to_string())
        .collect();
    Ok(SeedPopulation {
        people: people.iter().map(|p| p.key.to_string()).collect(),
        people_teams: people.iter().map(|p| p.team.to_string()).collect(),
        approvers: if approvers.is_empty() {
            people.iter().map(|p| p.key.to_string()).collect()
        } else {
            approvers
        },
        accounts: accounts.iter().map(|a| a.key.to_string()).collect(),
        tiers: accounts.iter().map(|a| a.tier.clone()).collect(),
        currencies: vec!["USD".into(), "EUR".into(), "GBP".into()],
    })
}

/// Opens one item of each kind through the services and reads its document back.
async fn templates(services: &Services) -> anyhow::Result<SeedTemplates> {
    let person = services
        .directory
        .people()
        .find(|p| p.identities.contains_key(&Platform::Console))
        .ok_or_else(|| anyhow::anyhow!("seeding needs a person with a console identity"))?;
    let user = person.identities[&Platform::Console].clone();
    let account =
        services.directory.accounts().next().map(|a| a.key.to_string()).unwrap_or_default();
    let request_type = services
        .policies
        .requests
        .types
        .iter()
        .find(|t| t.required_fields.is_empty())
        .map(|t| t.key.clone())
        .ok_or_else(|| anyhow::anyhow!("seeding needs a request type without required fields"))?;
    let reason = services.settings.credits.reason_codes.first().cloned().unwrap_or_default();
    let lines = [
        format!("/escalate {account} sev3 Seed template"),
        format!("/request {account} {request_type} Seed template"),
        format!("/credit {account} 100 USD {reason}"),
    ];
    for line in &lines {
        let (name, args) = line.trim_start_matches('/').split_once(' ').unwrap_or((line, ""));
        let inbound = Inbound {
            dedupe_key: format!("seed:{}", uuid::Uuid::new_v4()),
            platform: Platform::Console,
            actor: user.clone(),
            channel: "seed".into(),
            kind: InboundKind::Command { name: name.into(), args: args.into() },
        };
        services.handle_inbound(inbound).await;
    }
    let mut conn = services.pool.acquire().await?;
    let missing = |kind| anyhow::anyhow!("could not open a {kind:?} to copy");
    let escalation = store::newest_doc(&mut conn, TemplateKind::Escalation)
        .await?
        .ok_or_else(|| missing(TemplateKind::Escalation))?;
    let request = store::newest_doc(&mut conn, TemplateKind::Request)
        .await?
        .ok_or_else(|| missing(TemplateKind::Request))?;
    let credit = store::newest_doc(&mut conn, TemplateKind::Credit)
        .await?
        .ok_or_else(|| missing(TemplateKind::Credit))?;
    Ok(SeedTemplates { escalation, request, credit })
}
