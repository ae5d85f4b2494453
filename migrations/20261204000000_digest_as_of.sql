-- Digests as of their slot (issue 15). The running deadline (`due_at` / `at_risk_at`) says
-- whether an item is breached *now*; a replay of an earlier slot needs each clock's own
-- deadline, kept after the clock stops, to tell which clocks were running then. The
-- projection (`ItemClocks::projection`) writes them at every write; rows written before this
-- migration get them at their next write or by re-seeding (nothing here derives them in SQL).
ALTER TABLE escalations ADD COLUMN first_due_at timestamptz, ADD COLUMN first_at_risk_at timestamptz,
    ADD COLUMN resolve_due_at timestamptz, ADD COLUMN resolve_at_risk_at timestamptz;
ALTER TABLE requests ADD COLUMN first_due_at timestamptz, ADD COLUMN first_at_risk_at timestamptz,
    ADD COLUMN resolve_due_at timestamptz, ADD COLUMN resolve_at_risk_at timestamptz;

-- Time to acknowledge / accept is measured over the items acknowledged in the window, which
-- may have been opened long before it: a range scan on the acknowledgement instant. Set
-- once per item, so it costs one index entry per item, not one per transition.
CREATE INDEX escalations_acknowledged_idx ON escalations (acknowledged_at)
    INCLUDE (team_key, opened_at) WHERE acknowledged_at IS NOT NULL;
CREATE INDEX requests_accepted_idx ON requests (accepted_at)
    INCLUDE (team_key, opened_at) WHERE accepted_at IS NOT NULL;

-- Attainment counts items whose resolve deadline fell in the window and that were still
-- open at its end as missed: a range scan on the resolve deadline.
CREATE INDEX escalations_resolve_due_idx ON escalations (resolve_due_at)
    INCLUDE (team_key, resolved_at) WHERE resolve_due_at IS NOT NULL;
CREATE INDEX requests_resolve_due_idx ON requests (resolve_due_at)
    INCLUDE (team_key, resolved_at) WHERE resolve_due_at IS NOT NULL;

-- Approvals pending as of a slot: those still pending, plus those decided since (any
-- outcome), which the approved-only index does not find.
CREATE INDEX credits_closed_idx ON credits (closed_at) INCLUDE (requested_at, team_key)
    WHERE closed_at IS NOT NULL;

-- The SLA digest and the standup read the open items at risk or breached at the slot from
-- the at-risk index alone: covering, it carries what they count and list. It replaces the
-- plain at-risk index, so a transition maintains no more indexes than before.
DROP INDEX escalations_risk_idx;
CREATE INDEX escalations_risk_idx ON escalations (at_risk_at)
    INCLUDE (id, team_key, due_at, opened_at, acknowledged_at, severity, account_key, owner_key)
    WHERE state <> 'resolved';
DROP INDEX requests_risk_idx;
CREATE INDEX requests_risk_idx ON requests (at_risk_at)
    INCLUDE (id, team_key, due_at, opened_at, accepted_at, priority, account_key, assignee_key)
    WHERE state <> 'resolved';
