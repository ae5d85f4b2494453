//! `steward bench escalations`: open + acknowledge through `Services::handle_inbound`, one
//! transaction each, from C concurrent clients.

use std::time::Instant;

use anyhow::Context;

use super::{BenchDatabase, ClientRun};
use crate::config::Settings;
use crate::domain::identity::Role;
use crate::domain::ids::Platform;
use crate::domain::inbound::{Inbound, InboundKind};
use crate::services::Services;

pub async fn run(settings: Settings, clients: usize, count: usize) -> anyhow::Result<()> {
    let clients = clients.max(1);
    let db = BenchDatabase::create(&settings, clients as u32 + 2).await?;
    // Loads the directory, mirrors it into SQL and builds the services, as `serve` does.
    let services = crate::startup::services(&settings, db.pool.clone()).await?;
    let directory = services.directory.clone();
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
    let per_client = pairs.div_ceil(clients);
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (services, actor, account) = (services.clone(), actor.to_owned(), account.to_owned());
        tasks.spawn(async move {
            let mut run = ClientRun::default();
            for n in 0..per_client {
                let open = inbound(
                    &actor,
                    format!("bench:{client}:{n}:open:{}", uuid::Uuid::new_v4()),
                    InboundKind::Command {
                        name: "escalate".into(),
                        args: format!("{account} sev2 Benchmark escalation {client}-{n}"),
                    },
                );
                let started = Instant::now();
                let reply = services.handle_inbound(open).await;
                let Some(id) =
                    super::opened_escalation_id(reply.message.text.as_deref().unwrap_or(""))
                else {
                    run.errors += 1;
                    continue;
                };
                run.latencies.push(started.elapsed());
                let action = format!("esc:{id}:acknowledge:v1");
                let ack = inbound(
                    &actor,
                    Inbound::click_dedupe_key(Platform::Console, &actor, &action),
                    InboundKind::Action { action },
                );
                let started = Instant::now();
                let reply = services.handle_inbound(ack).await;
                if reply.message.text.as_deref().is_some_and(|t| t.ends_with("acknowledged.")) {
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
