-- Escalations. `doc` holds the whole aggregate (policy and SLA snapshots, pauses, alerts);
-- the other columns are the fields views, digests and timers filter on, kept in step by
-- every write. `version` is the compare-and-set token carried by the card's buttons.

CREATE TABLE escalations (
    id                  bigserial PRIMARY KEY,
    version             integer NOT NULL,
    team_key            text NOT NULL,
    account_key         text NOT NULL,
    severity            text NOT NULL,
    state               text NOT NULL
                        CHECK (state IN ('open', 'acknowledged', 'waiting_on_customer', 'resolved')),
    owner_key           text,
    opened_by           text NOT NULL,
    opened_at           timestamptz NOT NULL,
    acknowledged_at     timestamptz,
    resolved_at         timestamptz,
    -- Deadlines as of the last write; NULL when the clock is stopped or paused.
    acknowledge_due     timestamptz,
    acknowledge_risk_at timestamptz,
    resolve_due         timestamptz,
    resolve_risk_at     timestamptz,
    doc                 jsonb NOT NULL,
    updated_at          timestamptz NOT NULL
);

CREATE INDEX escalations_team_state_idx ON escalations (team_key, state, opened_at);
CREATE INDEX escalations_owner_state_idx ON escalations (owner_key, state);
CREATE INDEX escalations_unresolved_idx ON escalations (resolve_due) WHERE state <> 'resolved';
