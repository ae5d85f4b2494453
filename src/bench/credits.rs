//! `steward bench credits`: request + approve through `Services::handle_inbound`, one
//! transaction each, from C concurrent clients.
//!
//! Each client has its own requester and approver (added to the configuration for the run):
//! an approver's authority checks are serialised per approver (monthly limits), so one
//! approver for every client would measure that lock, not the path. Approvers get a huge
//! limit and the chain one level, so nothing is refused.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use rust_decimal::Decimal;

use super::{BenchDatabase, ClientRun};
use crate::config::{ChainLevelConfig, LimitConfig, PersonConfig, Settings};
use crate::domain::identity::Role;
use crate::domain::ids::{PersonKey, Platform};
use crate::domain::inbound::{Inbound, InboundKind};
use crate::services::Services;

fn person(
    key: &str,
    team: &crate::domain::ids::TeamKey,
    role: Role,
) -> anyhow::Result<PersonConfig> {
    Ok(PersonConfig {
        key: PersonKey::parse(key).map_err(|e| anyhow::anyhow!("{e}"))?,
        name: key.to_owned(),
        team: team.clone(),
        roles: vec![role],
        time_zone: None,
        skills: Vec::new(),
        slack: None,
        discord: None,
        console: None,
        shift: None,
        out_of_office: Vec::new(),
    })
}

/// The configuration plus one requester and one approver per client.
fn bench_settings(mut settings: Settings, clients: usize) -> anyhow::Result<Settings> {
    let team = settings.teams.first().context("the configuration needs a team")?.key.clone();
    let huge = Decimal::from_str("1000000000")?;
    let limit = LimitConfig { per_request: huge, monthly: huge * Decimal::from(1_000_000) };
    for client in 0..clients {
        settings.people.push(person(&format!("bench-agent-{client}"), &team, Role::Agent)?);
        let approver = person(&format!("bench-approver-{client}"), &team, Role::Supervisor)?;
        settings.authority.people.insert(approver.key.clone(), [("USD".to_owned(), limit)].into());
        settings.people.push(approver);
    }
    settings.credits.chain =
        vec![ChainLevelConfig { roles: vec![Role::Supervisor], above: Default::default() }];
    Ok(settings)
}

pub async fn run(settings: Settings, clients: usize, count: usize) -> anyhow::Result<()> {
    let clients = clients.max(1);
    let settings = bench_settings(settings, clients)?;
    let db = BenchDatabase::create(&settings, clients as u32 + 2).await?;
    // Loads the directory, mirrors it into SQL and builds the services, as `serve` does.
    let services = crate::startup::services(&settings, db.pool.clone()).await?;
    let directory = services.directory.clone();
    let account =
        directory.accounts().next().context("the configuration needs an account")?.key.to_string();
    let reason = settings.credits.reason_codes.first().context("no reason codes")?.clone();
    let shape = Arc::new((account, reason));

    // Warm the pool and the plan caches.
    drive(&services, &shape, clients, clients * 4).await;
    super::measure("credits", "request + approve", &db.pool, clients, count, || {
        drive(&services, &shape, clients, count / 2)
    })
    .await?;
    db.drop().await;
    Ok(())
}

/// `clients` loops requesting and approving credits, `pairs` pairs in total.
async fn drive(
    services: &Services,
    shape: &Arc<(String, String)>,
    clients: usize,
    pairs: usize,
) -> Vec<ClientRun> {
    let per_client = pairs.div_ceil(clients);
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (services, shape) = (services.clone(), shape.clone());
        tasks.spawn(async move {
            let (account, reason) = (&shape.0, &shape.1);
            let requester = format!("bench-agent-{client}");
            let approver = format!("bench-approver-{client}");
            let mut run = ClientRun::default();
            for n in 0..per_client {
                let request = inbound(
                    &requester,
                    format!("bench:{client}:{n}:credit:{}", uuid::Uuid::new_v4()),
                    InboundKind::Command {
                        name: "credit".into(),
                        args: format!("{account} 10.00 USD {reason} bench {client}-{n}"),
                    },
                );
                let started = Instant::now();
                let reply = services.handle_inbound(request).await;
                let Some(id) = requested_id(reply.message.text.as_deref().unwrap_or("")) else {
                    run.errors += 1;
                    continue;
                };
                run.latencies.push(started.elapsed());
                let action = format!("cr:{id}:approve:v1");
                let click = inbound(
                    &approver,
                    Inbound::click_dedupe_key(Platform::Console, &approver, &action),
                    InboundKind::Action { action },
                );
                let started = Instant::now();
                let reply = services.handle_inbound(click).await;
                if reply.message.text.as_deref().is_some_and(|t| t.ends_with(" approved.")) {
                    run.latencies.push(started.elapsed());
                } else {
                    run.errors += 1;
                }
            }
            run
        });
    }
    tasks.join_all().await
}

fn inbound(actor: &str, dedupe_key: String, kind: InboundKind) -> Inbound {
    Inbound {
        dedupe_key,
        platform: Platform::Console,
        workspace: None,
        actor: actor.to_owned(),
        channel: "bench".into(),
        kind,
    }
}

/// The id in "Credit #42 requested: …".
fn requested_id(reply: &str) -> Option<i64> {
    let rest = reply.strip_prefix("Credit #")?;
    let (id, tail) = rest.split_once(' ')?;
    tail.starts_with("requested").then(|| id.parse().ok()).flatten()
}
