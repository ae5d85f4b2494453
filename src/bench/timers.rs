//! `steward bench timers`: `count` timers (jobs) due evenly within `spread_seconds`, run by
//! `workers` real job workers on the system clock, each run recorded in the job's own
//! transaction. Prints lateness (ran − due) percentiles and how many ran twice, then one JSON
//! line with `lateness_p99_ms` and `ran_twice`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::{BenchDatabase, round};
use crate::config::Settings;
use crate::scheduler::jobs::{JobError, JobHandler, JobRegistry, JobWorker};
use crate::services::Services;
use crate::services::ports::SystemClock;
use crate::storage::jobs::Job;
use crate::storage::{Tx, bench as store};

/// The benchmark's job kind.
const KIND: &str = "bench.timer";
/// Time between scheduling and the first timer falling due, so workers start on time.
const LEAD: Duration = Duration::from_secs(3);

/// Records its run: what a real timer's transaction would write, minimally.
struct BenchTimer;

#[async_trait]
impl JobHandler for BenchTimer {
    async fn run(&self, services: &Services, job: &Job, tx: &mut Tx) -> Result<(), JobError> {
        let now = services.clock().now();
        store::record_timer_run(tx.conn().await?, job.id, now).await.map_err(JobError::retry)
    }
}

pub async fn run(
    settings: Settings,
    count: usize,
    workers: usize,
    spread_seconds: u64,
) -> anyhow::Result<()> {
    // Each worker runs up to `jobs.batch_size` jobs at once, each on its own connection.
    let connections = workers as u32 * settings.jobs.batch_size.max(1) as u32 + 2;
    let db = BenchDatabase::create(&settings, connections).await?;
    let result = measure(&settings, &db, count, workers, spread_seconds).await;
    db.drop().await;
    result
}

async fn measure(
    settings: &Settings,
    db: &BenchDatabase,
    count: usize,
    workers: usize,
    spread_seconds: u64,
) -> anyhow::Result<()> {
    let directory = settings.directory().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let services =
        Services::new(db.pool.clone(), Arc::new(SystemClock), directory, settings.clone())?;
    let start = chrono::Utc::now() + chrono::Duration::from_std(LEAD)?;
    let spread_ms = (spread_seconds * 1000) as i64;
    store::insert_timers(&db.pool, KIND, start, spread_ms, count as i64).await?;
    let mut registry = JobRegistry::default();
    registry.register(KIND, Arc::new(BenchTimer));
    let registry = Arc::new(registry);
    let shutdown = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..workers {
        let worker = JobWorker::new(services.clone(), registry.clone(), format!("bench-{index}"));
        tasks.spawn(worker.run(shutdown.clone()));
    }
    let started = Instant::now();
    let deadline = LEAD + Duration::from_secs(spread_seconds) + Duration::from_secs(600);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if store::timers_left(&db.pool, KIND).await? == 0 || started.elapsed() > deadline {
            break;
        }
    }
    let elapsed = started.elapsed().saturating_sub(LEAD);
    shutdown.cancel();
    while tasks.join_next().await.is_some() {}
    let left = store::timers_left(&db.pool, KIND).await?;
    let (mut lateness, ran_twice) = store::timer_lateness(&db.pool).await?;
    lateness.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let index = ((lateness.len() as f64 - 1.0) * q).round() as usize;
        lateness.get(index).copied().unwrap_or(0.0).max(0.0)
    };
    let (p50, p99, max) = (at(0.5), at(0.99), at(1.0));
    println!(
        "timers: {count} due within {spread_seconds} s, {workers} workers, {:.1} s to run them all",
        elapsed.as_secs_f64()
    );
    println!(
        "lateness: p50 {p50:.0} ms  p99 {p99:.0} ms  max {max:.0} ms; ran twice: {ran_twice}; not run: {left}"
    );
    let figures = serde_json::json!({
        "bench": "timers",
        "timers": count,
        "workers": workers,
        "spread_s": spread_seconds,
        "lateness_p50_ms": round(p50),
        "lateness_p99_ms": round(p99),
        "lateness_max_ms": round(max),
        "ran_twice": ran_twice,
        "not_run": left,
    });
    println!("{figures}");
    Ok(())
}
