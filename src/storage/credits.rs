//! Credit requests: lists and the card's recent credits. Rows are read and written by the
//! kernel's `storage::items`; the approvals that count against monthly authority by
//! `storage::authority`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgExecutor;

use super::items::{PagedRow, decode_page};
use crate::domain::credit::{Credit, CreditState, RecentCredit};
use crate::domain::money::Currency;
use crate::domain::page::{Listing, Page};

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
