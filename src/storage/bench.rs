//! Tables and the bare transaction that benchmarks use as their baseline: the fastest a
//! transaction of a given shape can go on this server and pool.

use sqlx::{PgConnection, PgExecutor};

/// Creates the scratch tables for the baseline (in the benchmark's own database).
pub async fn create_baseline_tables(executor: impl PgExecutor<'_> + Copy) -> sqlx::Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_items (id bigserial PRIMARY KEY, body jsonb NOT NULL,
             version integer NOT NULL DEFAULT 1)",
    )
    .execute(executor)
    .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_events (id bigserial PRIMARY KEY, item bigint NOT NULL,
             body jsonb NOT NULL)",
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// The baseline's shape: two inserts and an update, in the caller's transaction.
pub async fn baseline_transaction(conn: &mut PgConnection, n: i64) -> sqlx::Result<()> {
    let body = serde_json::json!({ "n": n, "summary": "baseline" });
    let id: i64 = sqlx::query_scalar("INSERT INTO bench_items (body) VALUES ($1) RETURNING id")
        .bind(&body)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO bench_events (item, body) VALUES ($1, $2)")
        .bind(id)
        .bind(&body)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE bench_items SET version = version + 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Refreshes the planner's statistics and visibility map after a bulk seed.
pub async fn analyze(executor: impl PgExecutor<'_>) -> sqlx::Result<()> {
    // VACUUM too: it sets the visibility map, so loads are index-only scans as in a system
    // where autovacuum has run.
    sqlx::query("VACUUM ANALYZE").execute(executor).await.map(|_| ())
}

/// The cluster's WAL insert position in bytes: the difference over a phase is the WAL it
/// wrote (the benchmark is the only writer of its cluster).
pub async fn wal_position(executor: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")
        .fetch_one(executor)
        .await
}
/// The timers benchmark's jobs (`kind`), `count` of them due evenly over `spread_ms` from
/// `start`, and the table their handler writes a row to per run.
pub async fn insert_timers(
    pool: &sqlx::PgPool,
    kind: &str,
    start: chrono::DateTime<chrono::Utc>,
    spread_ms: i64,
    count: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_timer_runs (job_id bigint NOT NULL,
             ran_at timestamptz NOT NULL)",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO jobs (kind, payload, dedupe_key, run_at, max_attempts, created_at)
         SELECT $1, jsonb_build_object('n', n), 'bench:timer:' || n,
                $2 + (n * $3 / $4) * interval '1 millisecond', 3, now()
         FROM generate_series(0, $4 - 1) AS n",
    )
    .bind(kind)
    .bind(start)
    .bind(spread_ms)
    .bind(count)
    .execute(pool)
    .await
    .map(|_| ())
}

/// One run of a benchmark timer, in the job's transaction.
pub async fn record_timer_run(
    conn: &mut PgConnection,
    job_id: i64,
    ran_at: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO bench_timer_runs (job_id, ran_at) VALUES ($1, $2)")
        .bind(job_id)
        .bind(ran_at)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Jobs of `kind` not done yet.
pub async fn timers_left(executor: impl PgExecutor<'_>, kind: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM jobs WHERE kind = $1 AND state <> 'done'")
        .bind(kind)
        .fetch_one(executor)
        .await
}

/// Each run's lateness (ran − due) in milliseconds, and how many jobs ran more than once.
pub async fn timer_lateness(executor: impl PgExecutor<'_> + Copy) -> sqlx::Result<(Vec<f64>, i64)> {
    let lateness: Vec<f64> = sqlx::query_scalar(
        "SELECT (extract(epoch FROM r.ran_at - j.run_at) * 1000)::float8
         FROM bench_timer_runs r JOIN jobs j ON j.id = r.job_id",
    )
    .fetch_all(executor)
    .await?;
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT job_id FROM bench_timer_runs GROUP BY job_id
                               HAVING count(*) > 1) AS twice",
    )
    .fetch_one(executor)
    .await?;
    Ok((lateness, twice))
}
