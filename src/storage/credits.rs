//! Credit requests: lists, the card's recent credits, and the approvals that count against
//! monthly authority. Rows are read and written by the kernel's `storage::items`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor};

use super::items::{PagedRow, decode_page};
use crate::domain::credit::{Credit, CreditState, RecentCredit};
use crate::domain::money::Currency;
use crate::domain::page::{Listing, Page};

/// Takes the approver's authority lock until the transaction ends, then sums their authority
/// approvals in `currency` within `[from, to)` as they stand once it is granted: two
/// approvals of different requests by the same person cannot both fit the last of a monthly
/// limit. One round trip (see the `locked_authority_used` migration).
pub async fn lock_authority_and_sum(
    conn: &mut PgConnection,
    approver: &str,
    currency: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Decimal> {
    let sql = "SELECT steward_locked_authority_used($1, $2, $3, $4)";
    usage(conn, sql, approver, currency, from, to).await
}

/// The same sum without the lock: for explaining a limit, not for deciding within it.
pub async fn approved_sum(
    conn: &mut PgConnection,
    approver: &str,
    currency: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Decimal> {
    let sql = "SELECT coalesce(sum(amount), 0) FROM credit_approvals
               WHERE approver = $1 AND currency = $2 AND decided_at >= $3 AND decided_at < $4";
    usage(conn, sql, approver, currency, from, to).await
}

async fn usage(
    conn: &mut PgConnection,
    sql: &'static str,
    approver: &str,
    currency: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Decimal> {
    sqlx::query_scalar(sql).bind(approver).bind(currency).bind(from).bind(to).fetch_one(conn).await
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

/// Pending requests, the soonest to expire first, at most `limit` (whose approvers are
/// decided in the domain, so the caller filters).
pub async fn pending(executor: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<Credit>> {
    let rows: Vec<super::items::ItemRow> = sqlx::query_as(
        "SELECT id, version, doc FROM credits WHERE state = 'pending'
         ORDER BY expires_at NULLS LAST, requested_at, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(super::items::decode).collect()
}

/// Which requests a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Pending,
    RequestedBy(String),
    Account(String),
}

/// One page of requests. Pending ones come most urgent first (the soonest to expire, then
/// the longest waiting); the others newest first, as a history reads.
pub async fn list(
    executor: impl PgExecutor<'_>,
    filter: &Filter,
    page: Page,
) -> sqlx::Result<Listing<Credit>> {
    let (pending, requester, account) = match filter {
        Filter::Pending => (true, None, None),
        Filter::RequestedBy(who) => (false, Some(who.as_str()), None),
        Filter::Account(key) => (false, None, Some(key.as_str())),
    };
    let rows: Vec<PagedRow> = sqlx::query_as(
        "SELECT id, version, doc, count(*) OVER () AS total FROM credits
         WHERE (NOT $1 OR state = 'pending')
           AND ($2::text IS NULL OR requested_by = $2)
           AND ($3::text IS NULL OR account_key = $3)
         ORDER BY CASE WHEN $1 THEN expires_at END NULLS LAST,
                  CASE WHEN $1 THEN requested_at END,
                  requested_at DESC, id DESC
         OFFSET $4 LIMIT $5",
    )
    .bind(pending)
    .bind(requester)
    .bind(account)
    .bind(page.offset())
    .bind(page.limit())
    .fetch_all(executor)
    .await?;
    decode_page(rows, page)
}
