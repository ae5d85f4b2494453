//! `steward bench escalations`: open + acknowledge through `Services::handle_inbound`, one
//! transaction each, from C concurrent clients.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::{BenchDatabase, Latency, baseline};
use crate::config::Settings;
use crate::domain::identity::Role;
use crate::domain::ids::Platform;
use crate::domain::inbound::{Inbound, InboundKind};
use crate::services::Services;
use crate::services::ports::SystemClock;
use crate::storage;

/// One client's results: latencies of successful transactions, and failures.
#[derive(Default)]
struct ClientRun {
    latencies: Vec<Duration>,
    errors: usize,
}

pub async fn run(settings: Settings, clients: usize, count: usize) -> anyhow::Result<()> {
    let clients = clients.max(1);
    let db = BenchDatabase::create(&settings, clients as u32 + 2).await?;
    let directory = settings.directory().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = db.pool.acquire().await?;
    storage::directory::sync_directory(&mut conn, &directory).await?;
    drop(conn);
    let actor = directory
        .people()
        .find(|p| p.has_role(Role::Agent) || p.has_role(Role::Supervisor))
        .and_then(|p| p.identities.get(&Platform::Console).cloned())
        .context("the configuration needs a person with the agent or supervisor role")?;
    let account =
        directory.accounts().next().context("the configuration needs an account")?.key.clone();
    let services = Services::new(db.pool.clone(), Arc::new(SystemClock), directory, settings)?;

    // Warm the pool and the plan caches.
    drive(&services, &actor, account.as_str(), clients, clients * 4).await;
    let baseline_before = baseline(&db.pool, clients, count).await?;
    let started = Instant::now();
    let runs = drive(&services, &actor, account.as_str(), clients, count / 2).await;
    let elapsed = started.elapsed();
    let baseline_after = baseline(&db.pool, clients, count).await?;
    let baseline_ops = (baseline_before + baseline_after) / 2.0;

    let errors: usize = runs.iter().map(|r| r.errors).sum();
    let mut latencies: Vec<Duration> = runs.into_iter().flat_map(|r| r.latencies).collect();
    let transactions = latencies.len() + errors;
    let ops_per_s = transactions as f64 / elapsed.as_secs_f64();
    let latency = Latency::of(&mut latencies);
    println!(
        "escalations: {transactions} transactions (open + acknowledge, one each) from {clients} clients"
    );
    println!(
        "service:  {ops_per_s:.0} ops/s  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  errors {errors}",
        latency.p50_ms, latency.p99_ms, latency.max_ms
    );
    println!("baseline: {baseline_ops:.0} ops/s (bare transaction: two inserts and an update)");
    println!("ratio:    {:.2} × baseline", ops_per_s / baseline_ops);
    let figures = serde_json::json!({
        "bench": "escalations",
        "clients": clients,
        "transactions": transactions,
        "ops_per_s": round(ops_per_s),
        "p50_ms": round(latency.p50_ms),
        "p99_ms": round(latency.p99_ms),
        "max_ms": round(latency.max_ms),
        "errors": errors,
        "baseline_ops_per_s": round(baseline_ops),
    });
    println!("{figures}");
    db.drop().await;
    Ok(())
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
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
                let Some(id) = opened_id(reply.message.text.as_deref().unwrap_or("")) else {
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
        actor: actor.to_owned(),
        channel: "bench".into(),
        kind,
    }
}

/// The id in "Escalation #42 opened …".
fn opened_id(reply: &str) -> Option<i64> {
    let rest = reply.strip_prefix("Escalation #")?;
    let (id, tail) = rest.split_once(' ')?;
    tail.starts_with("opened").then(|| id.parse().ok()).flatten()
}
