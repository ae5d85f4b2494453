//! `steward bench escalations`: open + acknowledge through `Services::handle_inbound`, one
//! transaction each, from C concurrent clients.

use anyhow::Context;

use super::{BenchDatabase, ClientRun, OpenThenClick};
use crate::config::Settings;
use crate::domain::identity::Role;
use crate::domain::ids::Platform;
use crate::domain::item::ItemKind;
use crate::services::Services;

pub async fn run(settings: Settings, clients: usize, count: usize) -> anyhow::Result<()> {
    let clients = clients.max(1);
    let db = BenchDatabase::create(&settings, clients as u32 + 2).await?;
    // Loads the directory, mirrors it into SQL and builds the services, as `serve` does.
    let services = crate::startup::services(&settings, db.pool.clone()).await?;
    let directory = services.setup().directory.clone();
    let actor = directory
        .people()
        .find(|p| p.has_role(Role::Agent) || p.has_role(Role::Supervisor))
        .and_then(|p| p.identities.get(&Platform::Console).cloned())
        .context("the configuration needs a person with the agent or supervisor role")?;
    let account =
        directory.accounts().next().context("the configuration needs an account")?.key.clone();

    // Warm the pool and the plan caches.
    drive(&services, &actor, account.as_str(), clients, clients * 4).await;
    super::measure("escalations", "open + acknowledge", &db.pool, clients, count, || {
        drive(&services, &actor, account.as_str(), clients, count / 2)
    })
    .await?;
    db.drop().await;
    Ok(())
}

/// `clients` loops opening and acknowledging escalations, `pairs` pairs in total.
async fn drive(
    services: &Services,
    actor: &str,
    account: &str,
    clients: usize,
    pairs: usize,
) -> Vec<ClientRun> {
    let (actor, account) = (actor.to_owned(), account.to_owned());
    super::open_then_click(services, clients, pairs, move |client, n| OpenThenClick {
        opener: actor.clone(),
        command: "escalate",
        args: format!("{account} sev2 Benchmark escalation {client}-{n}"),
        opened_id: super::opened_escalation_id,
        clicker: actor.clone(),
        kind: ItemKind::Escalation,
        verb: "acknowledge",
        done: "acknowledged.",
    })
    .await
}
