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
