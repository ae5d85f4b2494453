//! Monthly delegated authority: how much an approver has used, and the claim an approval
//! makes on it inside its write set (see the `authority_usage` migration).
//!
//! No lock is taken to decide: the total is read, the decision made on it, and the write set
//! adds the approval to the total only if the total is still what was read. Otherwise the
//! whole write set fails as a conflict ([`Written::Conflict`](super::effects::Written)) and
//! the approval is decided again on the new total, so two approvals by one person cannot
//! both fit the last of a limit.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::{PgExecutor, query::QueryScalar};

/// What `approver` has used in `currency` over `[from, to)`: the period's running total, or
/// the sum of its recorded approvals when no approval has written one yet. One statement, so
/// one snapshot.
pub async fn used(
    executor: impl PgExecutor<'_>,
    approver: &str,
    currency: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Decimal> {
    sqlx::query_scalar(
        "SELECT used FROM authority_usage
         WHERE approver = $1 AND currency = $2 AND period_start = $3
         UNION ALL
         SELECT coalesce(sum(amount), 0) FROM credit_approvals
         WHERE approver = $1 AND currency = $2 AND decided_at >= $3 AND decided_at < $4
           AND NOT EXISTS (SELECT 1 FROM authority_usage
                           WHERE approver = $1 AND currency = $2 AND period_start = $3)
         LIMIT 1",
    )
    .bind(approver)
    .bind(currency)
    .bind(from)
    .bind(to)
    .fetch_one(executor)
    .await
}

/// An approval's use of its approver's authority, written with the approval: the recorded
/// approval and the period's new total, which holds only if the total is still `read`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityClaim {
    pub credit_id: i64,
    pub approver: String,
    pub currency: String,
    /// The period `read` is over (the approver's month).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The magnitude approved.
    pub amount: Decimal,
    /// The total the decision was made on.
    pub read: Decimal,
}

impl AuthorityClaim {
    /// The write set's parts, numbering seven parameters from `first` (bound by
    /// [`AuthorityClaim::bind`]): `claim_total` returns a row if the total held (the new row
    /// when there was none, else the updated row if its total is still the one read: totals
    /// only grow, as every approval adds a positive amount, so an equal total is an unchanged
    /// one), and the approval is recorded only if `held` (a condition over the write set's
    /// compare-and-sets, this one included) is true, so a loser of a race records nothing.
    ///
    /// Every other running total of the approver's whose period holds this instant gains the
    /// amount too (`claim_elsewhere`): a period is the month in the zone the approver had
    /// when it was first used, so after a change of zone and back, the first period's total
    /// still counts what was approved in between. Each total is thus always the sum of the
    /// recorded approvals in its period.
    pub(super) fn ctes(first: usize, held: &str) -> [String; 3] {
        let p = |offset: usize| format!("${}", first + offset);
        let (approver, currency, from, to, amount, read, credit) =
            (p(0), p(1), p(2), p(3), p(4), p(5), p(6));
        [
            format!(
                "claim_total AS (
                     INSERT INTO authority_usage AS u
                         (approver, currency, period_start, period_end, used)
                     VALUES ({approver}, {currency}, {from}, {to}, {read}::numeric + {amount})
                     ON CONFLICT (approver, currency, period_start)
                     DO UPDATE SET used = u.used + {amount}
                     WHERE u.used = {read}::numeric
                     RETURNING 1)"
            ),
            format!(
                "claim_elsewhere AS (
                     UPDATE authority_usage SET used = used + {amount}
                     WHERE approver = {approver} AND currency = {currency}
                       AND period_start <> {from} AND period_start <= $1 AND period_end > $1
                       AND {held})"
            ),
            format!(
                "claim_approval AS (
                     INSERT INTO credit_approvals (credit_id, approver, currency, amount,
                                                   decided_at)
                     SELECT {credit}, {approver}, {currency}, {amount}, $1 WHERE {held})"
            ),
        ]
    }

    pub(super) fn bind<'q, O>(
        &'q self,
        query: QueryScalar<'q, Postgres, O, PgArguments>,
    ) -> QueryScalar<'q, Postgres, O, PgArguments> {
        query
            .bind(self.approver.as_str())
            .bind(self.currency.as_str())
            .bind(self.from)
            .bind(self.to)
            .bind(self.amount)
            .bind(self.read)
            .bind(self.credit_id)
    }
}
