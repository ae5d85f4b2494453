-- The authority each approver has used per currency and month, kept as a running total so
-- that an approval reads one row instead of summing the month's approvals (which grows with
-- every approval a busy approver makes).
--
-- The total is a cache of `credit_approvals` over the month: the first approval of a month
-- reads the sum (there is no row yet) and inserts the row; every later one reads the row and
-- adds to it with a compare-and-set inside its write set (`storage::authority`). Two
-- approvals by one person that both read the same total cannot both write: the second's
-- statement fails as a conflict and is decided again on the new total. That replaces the
-- per-approver advisory lock and `steward_locked_authority_used`.
--
-- `period_start` is the month's first instant in the approver's zone at approval time (the
-- month the limit is over); `period_end` is the next month's.
CREATE TABLE authority_usage (
    approver     text NOT NULL,
    currency     text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    used         numeric NOT NULL CHECK (used >= 0),
    PRIMARY KEY (approver, currency, period_start)
);

DROP FUNCTION steward_locked_authority_used(text, text, timestamptz, timestamptz);
