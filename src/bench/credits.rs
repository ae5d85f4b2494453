//! `steward bench credits`: request + approve through `Services::handle_inbound`, one
//! transaction each, from C concurrent clients.
//!
//! Each client has its own requester and approver (added to the configuration for the run):
//! an approver's authority checks are serialised per approver (monthly limits), so one
//! approver for every client would measure that lock, not the path. Approvers get a huge
//! limit and the chain one level, so nothing is refused.

use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context;
use rust_decimal::Decimal;

use super::{BenchDatabase, ClientRun, OpenThenClick};
use crate::config::{ChainLevelConfig, LimitConfig, Settings};
use crate::domain::identity::Role;
use crate::domain::item::ItemKind;
use crate::services::Services;

/// The configuration plus one requester and one approver per client.
fn bench_settings(mut settings: Settings, clients: usize) -> anyhow::Result<Settings> {
    let team = settings.teams.first().context("the configuration needs a team")?.key.clone();
    let huge = Decimal::from_str("1000000000")?;
    let limit = LimitConfig { per_request: huge, monthly: huge * Decimal::from(1_000_000) };
    for client in 0..clients {
        let agent = format!("bench-agent-{client}");
        settings.people.push(super::person(&agent, agent.clone(), &team, Role::Agent)?);
        let approver = format!("bench-approver-{client}");
        let approver = super::person(&approver, approver.clone(), &team, Role::Supervisor)?;
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
    let directory = services.setup().directory.clone();
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
    let shape = shape.clone();
    super::open_then_click(services, clients, pairs, move |client, n| OpenThenClick {
        opener: format!("bench-agent-{client}"),
        command: "credit",
        args: format!("{} 10.00 USD {} bench {client}-{n}", shape.0, shape.1),
        opened_id: requested_id,
        clicker: format!("bench-approver-{client}"),
        kind: ItemKind::Credit,
        verb: "approve",
        done: " approved.",
    })
    .await
}

/// The id in "Credit #42 requested: …".
fn requested_id(reply: &str) -> Option<i64> {
    let rest = reply.strip_prefix("Credit #")?;
    let (id, tail) = rest.split_once(' ')?;
    tail.starts_with("requested").then(|| id.parse().ok()).flatten()
}
