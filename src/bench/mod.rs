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

use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;

use crate::config::Settings;
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

/// One client's results: latencies of successful transactions, and failures.
#[derive(Debug, Default)]
pub struct ClientRun {
    pub latencies: Vec<Duration>,
    pub errors: usize,
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
