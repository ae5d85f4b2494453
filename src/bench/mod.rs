//! `steward bench …`: load measurements that print figures (never run by `cargo test`).
//!
//! Each benchmark runs in a throw-away database on the configured server (or the private
//! cluster), drives the same service path the adapters use, and measures a bare transaction
//! of the same shape on the same pool as the baseline Postgres allows.

pub mod assignment;
pub mod credits;
pub mod escalations;

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
        let pool = storage::connect(&url, pool_size, Duration::from_secs(30)).await?;
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
