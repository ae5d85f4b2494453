//! `steward bench …`: load measurements that print figures (never run by `cargo test`).
//!
//! Each benchmark runs in a throw-away database on the configured server (or the private
//! cluster), drives the same service path the adapters use, and measures a bare transaction
//! of the same shape on the same pool as the baseline Postgres allows.

pub mod assignment;
pub mod credits;
pub mod digest;
pub mod discord;
pub mod escalations;
pub mod incident;
pub mod rss;
pub mod seed;
pub mod slack;
pub mod timers;

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::config::{PersonConfig, Settings};
use crate::domain::identity::Role;
use crate::domain::ids::{PersonKey, Platform, TeamKey};
use crate::domain::inbound::Inbound;
use crate::domain::inbound::InboundKind::{self, Command};
use crate::domain::item::ItemKind;
use crate::services::Services;
use crate::startup::Database;
use crate::storage;

/// Latency figures over a run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(samples: &mut [Duration]) -> Latency {
        samples.sort_unstable();
        let at = |q: f64| {
            let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples.get(index).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
        };
        Latency { p50_ms: at(0.50), p99_ms: at(0.99), max_ms: at(1.0) }
    }
}

/// A scratch database for one benchmark run, dropped afterwards.
pub struct BenchDatabase {
    pub pool: PgPool,
    name: String,
    admin: Database,
}

impl BenchDatabase {
    pub async fn create(settings: &Settings, pool_size: u32) -> anyhow::Result<BenchDatabase> {
        let admin = Database::open(settings).await?;
        let name = format!("steward_bench_{}", std::process::id());
        storage::drop_database(&admin.pool, &name).await?;
        storage::create_database(&admin.pool, &name, None).await?;
        let url = admin.url_for(&name);
        let pool =
            storage::connect(&url, pool_size, Duration::from_secs(30), Duration::from_secs(30))
                .await?;
        storage::migrate(&pool).await?;
        storage::bench::create_baseline_tables(&pool).await?;
        Ok(BenchDatabase { pool, name, admin })
    }

    pub async fn drop(self) {
        self.pool.close().await;
        if let Err(err) = storage::drop_database(&self.admin.pool, &self.name).await {
            tracing::warn!(error = %err, "could not drop the benchmark database");
        }
        self.admin.close().await;
    }
}

/// Runs `clients` concurrent loops of the bare baseline transaction for `count` transactions
/// in total; returns transactions per second.
pub async fn baseline(pool: &PgPool, clients: usize, count: usize) -> anyhow::Result<f64> {
    let per_client = count.div_ceil(clients);
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let pool = pool.clone();
        tasks.spawn(async move {
            for n in 0..per_client {
                let mut tx = pool.begin().await?;
                storage::bench::baseline_transaction(&mut tx, (client * per_client + n) as i64)
                    .await?;
                tx.commit().await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    Ok((per_client * clients) as f64 / started.elapsed().as_secs_f64())
}

/// A request body as a platform sends it: signed at `timestamp` (Slack's HMAC, Discord's
/// Ed25519). Benches sign before the measured phase: signing is the platform's work.
pub(crate) struct SignedBody {
    pub body: String,
    pub timestamp: i64,
    pub signature: String,
}

/// One client's results: latencies of successful transactions, and failures.
#[derive(Debug, Default)]
pub struct ClientRun {
    pub latencies: Vec<Duration>,
    pub errors: usize,
}

impl ClientRun {
    /// Counts one request sent at `sent`: its latency when it succeeded, else one error.
    pub fn record(&mut self, sent: Instant, ok: bool) {
        if ok {
            self.latencies.push(sent.elapsed());
        } else {
            self.errors += 1;
        }
    }

    /// One request, timed from here until `request` says whether it succeeded.
    pub async fn timed(request: impl Future<Output = bool>) -> ClientRun {
        let (mut run, sent) = (ClientRun::default(), Instant::now());
        run.record(sent, request.await);
        run
    }

    /// Adds `other`'s figures to these.
    pub fn absorb(&mut self, other: ClientRun) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
    }
}

/// `clients` keep-alive HTTP connections (one each), each sending its share of `items` in
/// order: `send` sends one item's requests on the connection and says how they went.
pub async fn keep_alive_clients<T, F, Fut>(items: &[T], clients: usize, send: F) -> Vec<ClientRun>
where
    T: Clone + Send + 'static,
    F: Fn(reqwest::Client, T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ClientRun> + Send,
{
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in items.chunks(items.len().div_ceil(clients).max(1)) {
        let (send, chunk) = (send.clone(), chunk.to_vec());
        tasks.spawn(async move {
            let mut run = ClientRun::default();
            let Ok(http) = reqwest::Client::builder().pool_max_idle_per_host(1).build() else {
                run.errors += chunk.len();
                return run;
            };
            for item in chunk {
                run.absorb(send(http.clone(), item).await);
            }
            run
        });
    }
    tasks.join_all().await
}

/// One iteration of a service benchmark's client: a command that opens an item, then a
/// click on the opened item's card (version 1).
pub struct OpenThenClick {
    /// Who sends the command (a console user id).
    pub opener: String,
    pub command: &'static str,
    pub args: String,
    /// The opened item's id in the command's reply, if it was opened.
    pub opened_id: fn(&str) -> Option<i64>,
    /// Who clicks (a console user id).
    pub clicker: String,
    pub kind: ItemKind,
    pub verb: &'static str,
    /// How the click's reply ends when it worked ("acknowledged.").
    pub done: &'static str,
}

/// `clients` concurrent loops through `Services::handle_inbound`, `pairs` iterations in
/// total; `iteration(client, n)` says what the `n`-th iteration of a client sends. Each of
/// the two transactions is timed on its own; a command that opens nothing is one error and
/// its click is not sent.
pub async fn open_then_click<F>(
    services: &Services,
    clients: usize,
    pairs: usize,
    iteration: F,
) -> Vec<ClientRun>
where
    F: Fn(usize, usize) -> OpenThenClick + Clone + Send + 'static,
{
    let per_client = pairs.div_ceil(clients);
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (services, iteration) = (services.clone(), iteration.clone());
        tasks.spawn(async move {
            let mut run = ClientRun::default();
            for n in 0..per_client {
                let it = iteration(client, n);
                let dedupe_key = format!("bench:{client}:{n}:{}:{}", it.command, Uuid::new_v4());
                let name = it.command.to_owned();
                let open = console_inbound(&it.opener, dedupe_key, Command { name, args: it.args });
                let started = Instant::now();
                let reply = services.handle_inbound(open).await;
                let Some(id) = (it.opened_id)(reply.message.text.as_deref().unwrap_or("")) else {
                    run.errors += 1;
                    continue;
                };
                run.latencies.push(started.elapsed());
                let action = it.kind.action_id(id, it.verb, 1);
                let key = Inbound::click_dedupe_key(Platform::Console, &it.clicker, &action);
                let click = console_inbound(&it.clicker, key, InboundKind::Action { action });
                let started = Instant::now();
                let reply = services.handle_inbound(click).await;
                let done = reply.message.text.as_deref().is_some_and(|t| t.ends_with(it.done));
                run.record(started, done);
            }
            run
        });
    }
    tasks.join_all().await
}

/// An event from `actor` on the console, in the `bench` channel.
pub fn console_inbound(actor: &str, dedupe_key: String, kind: InboundKind) -> Inbound {
    Inbound {
        dedupe_key,
        platform: Platform::Console,
        workspace: None,
        actor: actor.to_owned(),
        channel: "bench".into(),
        kind,
    }
}

/// A person added to the configuration for a run: one role, no platform ids, no shift.
pub fn person(key: &str, name: String, team: &TeamKey, role: Role) -> anyhow::Result<PersonConfig> {
    Ok(PersonConfig {
        key: PersonKey::parse(key).map_err(|e| anyhow::anyhow!("{e}"))?,
        name,
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

/// Sends `/escalate <args>` from `actor` on `platform` in `channel` (not measured); the
/// opened escalation's id, or an error quoting the reply.
pub async fn open_escalation(
    services: &Services,
    (platform, channel): (Platform, &str),
    actor: &str,
    args: String,
) -> anyhow::Result<i64> {
    let dedupe_key = format!("bench:{platform}:escalate:{}", Uuid::new_v4());
    let kind = Command { name: "escalate".into(), args };
    let inbound = Inbound {
        platform,
        channel: channel.to_owned(),
        ..console_inbound(actor, dedupe_key, kind)
    };
    let text = services.handle_inbound(inbound).await.message.text.unwrap_or_default();
    opened_escalation_id(&text).with_context(|| format!("could not open an escalation: {text}"))
}

/// Runs a service benchmark's measured phase between two baseline runs on the same pool, then
/// prints the figures and, last, one JSON line. `drive` runs the clients; `what` describes a
/// transaction pair for the first line, e.g. "open + acknowledge".
pub async fn measure<F, Fut>(
    name: &str,
    what: &str,
    pool: &PgPool,
    clients: usize,
    count: usize,
    drive: F,
) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Vec<ClientRun>>,
{
    let wal_at_start = storage::bench::wal_position(pool).await?;
    let baseline_before = baseline(pool, clients, count).await?;
    let wal_before_service = storage::bench::wal_position(pool).await?;
    let started = std::time::Instant::now();
    let runs = drive().await;
    let elapsed = started.elapsed();
    let wal_after_service = storage::bench::wal_position(pool).await?;
    let baseline_after = baseline(pool, clients, count).await?;
    let baseline_ops = (baseline_before + baseline_after) / 2.0;

    let errors: usize = runs.iter().map(|r| r.errors).sum();
    let mut latencies: Vec<Duration> = runs.into_iter().flat_map(|r| r.latencies).collect();
    let transactions = latencies.len() + errors;
    let ops_per_s = transactions as f64 / elapsed.as_secs_f64();
    // WAL written per transaction: what each commit has to flush, the service's against the
    // bare transaction's (measured over the first baseline run).
    let per = |bytes: i64, n: usize| bytes as f64 / n.max(1) as f64;
    let service_wal = per(wal_after_service - wal_before_service, transactions);
    let baseline_wal = per(wal_before_service - wal_at_start, count.div_ceil(clients) * clients);
    let latency = Latency::of(&mut latencies);
    println!("{name}: {transactions} transactions ({what}, one each) from {clients} clients");
    println!(
        "service:  {ops_per_s:.0} ops/s  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  errors {errors}",
        latency.p50_ms, latency.p99_ms, latency.max_ms
    );
    println!("baseline: {baseline_ops:.0} ops/s (bare transaction: two inserts and an update)");
    println!("ratio:    {:.2} × baseline", ops_per_s / baseline_ops);
    println!("WAL:      {service_wal:.0} bytes per transaction (baseline {baseline_wal:.0})");
    let figures = serde_json::json!({
        "bench": name,
        "clients": clients,
        "transactions": transactions,
        "ops_per_s": round(ops_per_s),
        "p50_ms": round(latency.p50_ms),
        "p99_ms": round(latency.p99_ms),
        "max_ms": round(latency.max_ms),
        "errors": errors,
        "baseline_ops_per_s": round(baseline_ops),
        "wal_bytes_per_transaction": service_wal.round(),
        "baseline_wal_bytes_per_transaction": baseline_wal.round(),
    });
    println!("{figures}");
    Ok(())
}

/// Two decimals, for the JSON line.
pub fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The id in the reply to `/escalate`: "Escalation #42 opened …" (the benchmarks open their
/// escalations through the service path and click on them afterwards).
fn opened_escalation_id(reply: &str) -> Option<i64> {
    let rest = reply.strip_prefix("Escalation #")?;
    let (id, tail) = rest.split_once(' ')?;
    tail.starts_with("opened").then(|| id.parse().ok()).flatten()
}
