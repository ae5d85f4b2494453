//! `steward bench assignment`: one assignment decision (rotation point and loads of the
//! people on shift in one query, strategy) with P people and N open requests seeded; then intake
//! throughput over the real HTTP endpoint from C concurrent clients with signed requests.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::{BenchDatabase, Latency, round};
use crate::config::{AssignmentConfig, PersonConfig, Secret, Settings};
use crate::domain::assignment::Strategy;
use crate::domain::identity::Role;
use crate::domain::ids::PersonKey;
use crate::http::intake::{IntakeState, PATH, routes, sign};
use crate::services::Services;
use crate::services::requests::choose;
use crate::storage;

const SECRET: &str = "bench-secret";

/// The organisation of the run: the configured first team, with `people` agents on shift
/// around the clock and every skill, assigning by least load.
fn bench_settings(mut settings: Settings, people: usize) -> anyhow::Result<Settings> {
    let team = settings.teams.first().context("the configuration needs a team")?.key.clone();
    let always: BTreeMap<String, String> = crate::domain::calendar::DAY_KEYS
        .iter()
        .map(|day| (day.to_string(), "00:00-24:00".to_owned()))
        .collect();
    let skills: Vec<String> =
        settings.requests.types.iter().flat_map(|t| t.skills.clone()).collect();
    settings.people = (0..people)
        .map(|n| PersonConfig {
            key: PersonKey::parse(&format!("agent-{n:03}")).expect("valid key"),
            name: format!("Agent {n}"),
            team: team.clone(),
            roles: vec![Role::Agent, Role::Supervisor],
            time_zone: None,
            skills: skills.clone(),
            slack: None,
            discord: None,
            console: None,
            shift: Some(always.clone()),
            out_of_office: Vec::new(),
        })
        .collect();
    for account in &mut settings.accounts {
        account.owner = None;
    }
    settings.console.person = None;
    settings.requests.assignment = vec![AssignmentConfig { team, strategy: Strategy::LeastLoaded }];
    settings.requests.intake_secrets = vec![Secret::new(SECRET)];
    Ok(settings)
}

pub async fn run(
    settings: Settings,
    people: usize,
    open: i64,
    decisions: usize,
    clients: usize,
    count: usize,
) -> anyhow::Result<()> {
    let clients = clients.max(1);
    let db = BenchDatabase::create(&settings, clients as u32 + 4).await?;
    let settings = bench_settings(settings, people.max(1))?;
    // Loads the directory, mirrors it into SQL and builds the services, as `serve` does.
    let services = crate::startup::services(&settings, db.pool.clone()).await?;
    let _directory = services.setup().directory.clone();
    let team = settings.teams[0].key.clone();
    let keys: Vec<String> = settings.people.iter().map(|p| p.key.to_string()).collect();
    let now = chrono::Utc::now();
    storage::requests::seed_open(&db.pool, team.as_str(), &keys, &serde_json::json!({}), open, now)
        .await?;
    sqlx_analyze(&db).await?;
    let kind =
        services.setup().policies.requests.types.first().context("no request types")?.clone();

    // One decision = what intake does to pick someone; rolled back so the loads stay put.
    // The process's load cache is dropped first, so every timed decision runs its query.
    let mut samples = Vec::with_capacity(decisions);
    for n in 0..decisions + 50 {
        services.setup().loads.invalidate(&team);
        let mut tx = crate::storage::Tx::begin(&db.pool).await?;
        let started = Instant::now();
        let decision =
            choose(services.setup(), &mut tx, &team, &kind, 2, chrono::Utc::now()).await?;
        let elapsed = started.elapsed();
        tx.rollback().await?;
        decision.map_err(|why| anyhow::anyhow!("nobody chosen: {why:?}"))?;
        if n >= 50 {
            samples.push(elapsed); // the first 50 warm the pool and plan caches
        }
    }
    let decision = Latency::of(&mut samples);

    let (addr, shutdown, server) = serve(&services).await?;
    let (intake_ops, intake_latency, errors) = drive_intake(addr, clients, count).await?;
    shutdown.cancel();
    server.await??;

    println!("assignment: {people} people on shift, {open} open requests, {decisions} decisions");
    println!(
        "decision: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms (rotation point + loads of those on shift + strategy)",
        decision.p50_ms, decision.p99_ms, decision.max_ms
    );
    println!(
        "intake:   {intake_ops:.0} requests/s over HTTP from {clients} clients  p50 {:.2} ms  p99 {:.2} ms  errors {errors}",
        intake_latency.p50_ms, intake_latency.p99_ms
    );
    let figures = serde_json::json!({
        "bench": "assignment",
        "people": people,
        "open_requests": open,
        "decisions": decisions,
        "decision_p50_ms": round(decision.p50_ms),
        "decision_p99_ms": round(decision.p99_ms),
        "decision_max_ms": round(decision.max_ms),
        "intake_clients": clients,
        "intake_requests": count,
        "intake_per_s": round(intake_ops),
        "intake_p50_ms": round(intake_latency.p50_ms),
        "intake_p99_ms": round(intake_latency.p99_ms),
        "intake_errors": errors,
    });
    println!("{figures}");
    services.pool().close().await;
    db.drop().await;
    Ok(())
}

/// Fresh statistics after seeding, as autovacuum would have them in a running system.
async fn sqlx_analyze(db: &BenchDatabase) -> anyhow::Result<()> {
    storage::bench::analyze(&db.pool).await?;
    Ok(())
}

async fn serve(
    services: &Services,
) -> anyhow::Result<(
    std::net::SocketAddr,
    CancellationToken,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let router = routes(IntakeState::new(services.clone()));
    let server = tokio::spawn(crate::http::serve(listener, router, shutdown.clone()));
    Ok((addr, shutdown, server))
}

/// `clients` keep-alive connections posting `count` signed requests with distinct external
/// ids in total; returns requests per second, latencies and failures.
async fn drive_intake(
    addr: std::net::SocketAddr,
    clients: usize,
    count: usize,
) -> anyhow::Result<(f64, Latency, usize)> {
    let per_client = count.div_ceil(clients);
    let url = format!("http://{addr}{PATH}");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (url, run) = (url.clone(), run.clone());
        tasks.spawn(async move {
            let http = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
            let mut latencies = Vec::with_capacity(per_client);
            let mut errors = 0;
            for n in 0..per_client {
                let body = serde_json::json!({
                    "external_id": format!("{run}-{client}-{n}"),
                    "source": "bench",
                    "account": "GLOBEX-7",
                    "type": "access",
                    "summary": "Benchmark request",
                })
                .to_string();
                let timestamp = chrono::Utc::now().timestamp();
                let signature = sign(SECRET, timestamp, body.as_bytes());
                let sent = Instant::now();
                let response = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-steward-timestamp", timestamp.to_string())
                    .header("x-steward-signature", signature)
                    .body(body)
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                        let _ = r.bytes().await;
                        latencies.push(sent.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            anyhow::Ok((latencies, errors))
        });
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut errors = 0;
    while let Some(result) = tasks.join_next().await {
        let (l, e) = result??;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ops = latencies.len() as f64 / elapsed;
    Ok((ops, Latency::of(&mut latencies), errors))
}
