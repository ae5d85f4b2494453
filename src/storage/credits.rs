//! Credit request rows and the approvals that count against monthly authority.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::domain::credit::{CreditRequest, CreditState, RecentCredit};
use crate::domain::money::Currency;

#[derive(FromRow)]
struct CreditRow {
    id: i64,
    version: i32,
    doc: Json<CreditRequest>,
}

impl From<CreditRow> for CreditRequest {
    fn from(row: CreditRow) -> CreditRequest {
        let mut credit = row.doc.0;
        credit.id = row.id;
        credit.version = row.version;
        credit
    }
}

/// Reserves the id of a new request.
pub async fn next_id(executor: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('credits', 'id'))")
        .fetch_one(executor)
        .await
}

/// Inserts a new request under the id from [`next_id`].
pub async fn insert(
    conn: &mut PgConnection,
    c: &CreditRequest,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO credits (id, version, kind, account_key, amount, currency, reason, state,
             requested_by, requested_at, team_key, doc, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(c.id)
    .bind(c.version)
    .bind(c.kind.as_str())
    .bind(c.account.as_str())
    .bind(c.payload.amount)
    .bind(c.payload.currency.code())
    .bind(&c.payload.reason)
    .bind(c.state.as_str())
    .bind(c.requested_by.as_str())
    .bind(c.requested_at)
    .bind(c.team.as_str())
    .bind(Json(c))
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Loads a request and locks its row until the transaction ends.
pub async fn get_for_update(
    conn: &mut PgConnection,
    id: i64,
) -> sqlx::Result<Option<CreditRequest>> {
    let row: Option<CreditRow> =
        sqlx::query_as("SELECT id, version, doc FROM credits WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(CreditRequest::from))
}

pub async fn get(executor: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<CreditRequest>> {
    let row: Option<CreditRow> =
        sqlx::query_as("SELECT id, version, doc FROM credits WHERE id = $1")
            .bind(id)
            .fetch_optional(executor)
            .await?;
    Ok(row.map(CreditRequest::from))
}

/// Writes `c` as version `c.version` if the stored version is the one before (compare-and-
/// set). Returns `false` if someone else wrote first.
pub async fn update(
    conn: &mut PgConnection,
    c: &CreditRequest,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE credits SET version = $2, account_key = $3, amount = $4, currency = $5,
             reason = $6, state = $7, doc = $8, updated_at = $9
         WHERE id = $1 AND version = $2 - 1",
    )
    .bind(c.id)
    .bind(c.version)
    .bind(c.account.as_str())
    .bind(c.payload.amount)
    .bind(c.payload.currency.code())
    .bind(&c.payload.reason)
    .bind(c.state.as_str())
    .bind(Json(c))
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Serialises authority checks of one approver until the transaction ends, so two approvals
/// of different requests by the same person cannot both fit the last of a monthly limit.
pub async fn lock_authority(conn: &mut PgConnection, approver: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('credit-authority:' || $1, 0))")
        .bind(approver)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Sum of the approver's authority approvals in `currency` within `[from, to)`.
pub async fn approved_sum(
    conn: &mut PgConnection,
    approver: &str,
    currency: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Decimal> {
    sqlx::query_scalar(
        "SELECT coalesce(sum(amount), 0) FROM credit_approvals
         WHERE approver = $1 AND currency = $2 AND decided_at >= $3 AND decided_at < $4",
    )
    .bind(approver)
    .bind(currency)
    .bind(from)
    .bind(to)
    .fetch_one(conn)
    .await
}

/// Records an approval that used authority (`amount` is the magnitude).
pub async fn record_approval(
    conn: &mut PgConnection,
    credit_id: i64,
    approver: &str,
    currency: &str,
    amount: Decimal,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO credit_approvals (credit_id, approver, currency, amount, decided_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(credit_id)
    .bind(approver)
    .bind(currency)
    .bind(amount)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The account's other requests since `since`, newest first: the summary columns only, so
/// that rendering a card never loads other requests' documents.
pub async fn recent_for_account(
    executor: impl PgExecutor<'_>,
    account: &str,
    since: DateTime<Utc>,
    except: i64,
    limit: i64,
) -> sqlx::Result<Vec<RecentCredit>> {
    let rows: Vec<(i64, Decimal, String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, amount, currency, reason, state, requested_at FROM credits
         WHERE account_key = $1 AND requested_at >= $2 AND id <> $3
         ORDER BY requested_at DESC, id DESC LIMIT $4",
    )
    .bind(account)
    .bind(since)
    .bind(except)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, amount, currency, reason, state, requested_at)| {
            Some(RecentCredit {
                id,
                amount,
                currency: Currency::parse(&currency)?,
                reason,
                state: CreditState::parse(&state)?,
                requested_at,
            })
        })
        .collect())
}

/// Which requests a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Pending,
    RequestedBy(String),
    Account(String),
}

/// Lists requests, newest first.
pub async fn list(
    executor: impl PgExecutor<'_>,
    filter: &Filter,
    limit: i64,
) -> sqlx::Result<Vec<CreditRequest>> {
    let (pending, requester, account) = match filter {
        Filter::Pending => (true, None, None),
        Filter::RequestedBy(who) => (false, Some(who.as_str()), None),
        Filter::Account(key) => (false, None, Some(key.as_str())),
    };
    let rows: Vec<CreditRow> = sqlx::query_as(
        "SELECT id, version, doc FROM credits
         WHERE (NOT $1 OR state = 'pending')
           AND ($2::text IS NULL OR requested_by = $2)
           AND ($3::text IS NULL OR account_key = $3)
         ORDER BY requested_at DESC, id DESC LIMIT $4",
    )
    .bind(pending)
    .bind(requester)
    .bind(account)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().map(CreditRequest::from).collect())
}
