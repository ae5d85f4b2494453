-- Credit and adjustment requests. `doc` holds the whole aggregate (chain snapshot,
-- decisions, voided decisions, audit head); the other columns are what lists and the card's
-- "recent credits" filter on. `version` is the compare-and-set token on the card's buttons.

CREATE TABLE credits (
    id            bigserial PRIMARY KEY,
    version       integer NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('credit', 'adjustment')),
    account_key   text NOT NULL,
    amount        numeric NOT NULL,
    currency      text NOT NULL,
    reason        text NOT NULL,
    state         text NOT NULL
                  CHECK (state IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL,
    team_key      text NOT NULL,
    doc           jsonb NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- The card's "recent credits": newest first, straight off the index.
CREATE INDEX credits_account_idx ON credits (account_key, requested_at, id);
CREATE INDEX credits_pending_idx ON credits (requested_at) WHERE state = 'pending';
CREATE INDEX credits_requested_by_idx ON credits (requested_by, requested_at);

-- Approvals that used delegated authority: the monthly limit sums these per approver and
-- currency. Written in the approving transaction, under a per-approver advisory lock.
CREATE TABLE credit_approvals (
    credit_id    bigint NOT NULL REFERENCES credits (id),
    approver     text NOT NULL,
    currency     text NOT NULL,
    amount       numeric NOT NULL CHECK (amount > 0),
    decided_at   timestamptz NOT NULL,
    PRIMARY KEY (credit_id, approver)
);

CREATE INDEX credit_approvals_usage_idx ON credit_approvals (approver, currency, decided_at);

-- `/audit <account>` and exports read the log by subject and by time.
CREATE INDEX audit_log_at_idx ON audit_log (at);
