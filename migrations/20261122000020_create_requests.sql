-- Account requests. `doc` holds the whole aggregate (SLA plan, pauses, assignment and its
-- reason); the other columns are what assignment, views and digests filter and sum on, kept
-- in step by every write. `(source, external_id)` deduplicates intake retries.

CREATE TABLE requests (
    id                       bigserial PRIMARY KEY,
    version                  integer NOT NULL,
    team_key                 text NOT NULL,
    account_key              text NOT NULL,
    request_type             text NOT NULL,
    priority                 text NOT NULL CHECK (priority IN ('p1', 'p2', 'p3', 'p4')),
    -- The priority's weight in "least loaded" (p1 8 … p4 1).
    weight                   integer NOT NULL,
    state                    text NOT NULL
                             CHECK (state IN ('queued', 'assigned', 'in_progress',
                                              'waiting_on_customer', 'resolved')),
    assignee_key             text,
    source                   text NOT NULL,
    external_id              text,
    opened_at                timestamptz NOT NULL,
    -- Deadlines as of the last write; NULL when the clock is stopped or paused.
    first_response_due       timestamptz,
    first_response_risk_at   timestamptz,
    resolve_due              timestamptz,
    resolve_risk_at          timestamptz,
    resolved_at              timestamptz,
    -- Resolved by the first assignee without reassignment, hand-off or reopen (KPI digests).
    first_contact_resolution boolean NOT NULL DEFAULT false,
    doc                      jsonb NOT NULL,
    updated_at               timestamptz NOT NULL,
    UNIQUE (source, external_id)
);

-- The load of the people on shift is one index-only sum per assignment decision.
CREATE INDEX requests_open_load_idx ON requests (assignee_key) INCLUDE (weight)
    WHERE state <> 'resolved';
-- Team views, and the rotation point of round robin (the team's latest assignment).
CREATE INDEX requests_team_open_idx ON requests (team_key, opened_at) WHERE state <> 'resolved';
