//! `steward seed`'s SQL: id ranges, the authority approvals of seeded credits, and the
//! bulk-load session settings. The rows themselves are domain aggregates generated in Rust
//! (`bench::seed`) and written with their projection by [`super::items::insert_many`]; no
//! SQL here derives a domain value.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{AssertSqlSafe, PgConnection};

use super::items::table;
use crate::domain::item::ItemKind;

/// Reserves `count` ids from the sequence of `kind`'s table, ascending (so rows generated in
/// time order get ids in time order, as a live system gives them).
pub async fn reserve_ids(
    conn: &mut PgConnection,
    kind: ItemKind,
    count: usize,
) -> sqlx::Result<Vec<i64>> {
    let sql = format!(
        "SELECT nextval(pg_get_serial_sequence('{}', 'id')) FROM generate_series(1, $1)",
        table(kind)
    );
    let mut ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(i64::try_from(count).unwrap_or(i64::MAX))
        .fetch_all(conn)
        .await?;
    ids.sort_unstable();
    Ok(ids)
}

/// An approval that used delegated authority (`credit_approvals`): the monthly limits sum
/// these.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub credit_id: i64,
    pub approver: String,
    pub currency: String,
    /// The magnitude of the approved amount.
    pub amount: Decimal,
    pub decided_at: DateTime<Utc>,
}

/// Inserts approvals in one statement. A running total of authority (`authority_usage`) whose
/// month one of them falls in is dropped in the same statement: it no longer sums its
/// month's approvals, and the next approval reads that sum again (see `storage::authority`).
pub async fn insert_approvals(conn: &mut PgConnection, rows: &[Approval]) -> sqlx::Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let column = |f: fn(&Approval) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let inserted: i64 = sqlx::query_scalar(
        "WITH added AS (
             INSERT INTO credit_approvals (credit_id, approver, currency, amount, decided_at)
             SELECT * FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::numeric[],
                                  $5::timestamptz[])
             RETURNING approver, currency, decided_at),
         stale AS (
             DELETE FROM authority_usage u USING added a
             WHERE u.approver = a.approver AND u.currency = a.currency
               AND a.decided_at >= u.period_start AND a.decided_at < u.period_end)
         SELECT count(*) FROM added",
    )
    .bind(rows.iter().map(|r| r.credit_id).collect::<Vec<i64>>())
    .bind(column(|r| r.approver.clone()))
    .bind(column(|r| r.currency.clone()))
    .bind(rows.iter().map(|r| r.amount).collect::<Vec<Decimal>>())
    .bind(rows.iter().map(|r| r.decided_at).collect::<Vec<DateTime<Utc>>>())
    .fetch_one(conn)
    .await?;
    Ok(inserted as u64)
}

/// Bulk history: if the machine dies mid-seed, only the seed is lost, so commits need not
/// wait for the disk.
pub async fn bulk_session(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SET synchronous_commit = off").execute(conn).await.map(|_| ())
}

/// Refreshes planner statistics and the visibility map after a bulk load (as autovacuum
/// would on a live system), so the digests' covering indexes are read without heap visits.
pub async fn analyze(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("VACUUM (ANALYZE) escalations, requests, credits, credit_approvals")
        .execute(conn)
        .await
        .map(|_| ())
}
