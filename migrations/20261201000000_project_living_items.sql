-- The living-item kernel (issue 12): the columns views and digests read are the projection
-- each item computes in Rust and every write stores (`storage::items`). Nothing here derives
-- a domain rule any more: the generated columns over the JSON document, the SLA-outcome
-- trigger and the IMMUTABLE-declared timestamp parser go.

-- Deadlines: one `due_at` / `at_risk_at` pair per item, the earliest among the clocks still
-- running (NULL once every clock has stopped or is paused). The old per-clock columns kept
-- a stopped acknowledge clock's deadline, so digests listed acknowledged items as breached.
ALTER TABLE escalations ADD COLUMN due_at timestamptz, ADD COLUMN at_risk_at timestamptz;
UPDATE escalations SET
    due_at = LEAST(CASE WHEN acknowledged_at IS NULL THEN acknowledge_due END,
                   CASE WHEN state <> 'waiting_on_customer' THEN resolve_due END),
    at_risk_at = LEAST(CASE WHEN acknowledged_at IS NULL THEN acknowledge_risk_at END,
                       CASE WHEN state <> 'waiting_on_customer' THEN resolve_risk_at END)
WHERE state <> 'resolved';
ALTER TABLE escalations DROP COLUMN acknowledge_due, DROP COLUMN acknowledge_risk_at,
    DROP COLUMN resolve_due, DROP COLUMN resolve_risk_at;

ALTER TABLE requests ADD COLUMN due_at timestamptz, ADD COLUMN at_risk_at timestamptz;
UPDATE requests SET
    due_at = LEAST(first_response_due, resolve_due),
    at_risk_at = LEAST(first_response_risk_at, resolve_risk_at)
WHERE state <> 'resolved';
ALTER TABLE requests DROP COLUMN first_response_due, DROP COLUMN first_response_risk_at,
    DROP COLUMN resolve_due, DROP COLUMN resolve_risk_at;

-- Generated columns become plain ones written from the projection. Dropping them drops the
-- covering indexes that include them; those are recreated below.
ALTER TABLE requests RENAME COLUMN accepted_at TO accepted_at_generated;
ALTER TABLE requests RENAME COLUMN reopened TO reopened_generated;
ALTER TABLE requests ADD COLUMN accepted_at timestamptz, ADD COLUMN reopened boolean;
UPDATE requests SET accepted_at = accepted_at_generated, reopened = reopened_generated;
ALTER TABLE requests ALTER COLUMN reopened SET NOT NULL, ALTER COLUMN reopened SET DEFAULT false,
    DROP COLUMN accepted_at_generated, DROP COLUMN reopened_generated;

DROP TRIGGER escalations_sla_outcome ON escalations;
DROP TRIGGER requests_sla_outcome ON requests;
DROP FUNCTION steward_record_sla_outcome();

-- Credits: the expiry and the closing time are projected too (the SLA digest read the expiry
-- out of the document; the KPI digest took `updated_at`, which every write moves, as the
-- approval time — and its index kept every credit update from being HOT).
ALTER TABLE credits ADD COLUMN expires_at timestamptz, ADD COLUMN closed_at timestamptz;
UPDATE credits SET expires_at = (doc ->> 'expires_at')::timestamptz,
                   closed_at = (doc -> 'closed' ->> 'at')::timestamptz;
ALTER TABLE credits ALTER COLUMN expires_at SET NOT NULL;
DROP INDEX credits_approved_idx;
CREATE INDEX credits_approved_idx ON credits (closed_at) WHERE state = 'approved';

DROP FUNCTION steward_rfc3339(text);

-- The SLA and standup digests: open items by the time they become at risk.
CREATE INDEX escalations_risk_idx ON escalations (at_risk_at) WHERE state <> 'resolved';
CREATE INDEX requests_risk_idx ON requests (at_risk_at) WHERE state <> 'resolved';

-- The covering indexes of the digest window scans (see 20261122000031), over the new columns.
CREATE INDEX requests_opened_idx ON requests (opened_at)
    INCLUDE (team_key, priority, state, accepted_at, resolved_at, resolved_within_sla,
             first_contact_resolution, reopened, assignee_key);
CREATE INDEX requests_resolved_idx ON requests (resolved_at)
    INCLUDE (team_key, priority, state, opened_at, accepted_at, resolved_within_sla,
             first_contact_resolution, reopened, assignee_key)
    WHERE resolved_at IS NOT NULL;

-- Names derived from the item kind (`domain::item::ItemKind`): credit cards' living key is
-- `cr:<id>` like every other prefix, and job kinds are `<noun>.<timer>`.
UPDATE living_messages SET living_key = 'cr:' || substr(living_key, 8)
WHERE living_key LIKE 'credit:%';
UPDATE outbox SET living_key = 'cr:' || substr(living_key, 8) WHERE living_key LIKE 'credit:%';
UPDATE outbox SET payload = jsonb_set(payload, '{thread_of}',
                                      to_jsonb('cr:' || substr(payload ->> 'thread_of', 8)))
WHERE payload ->> 'thread_of' LIKE 'credit:%';
UPDATE jobs SET kind = 'request.assign_retry' WHERE kind = 'request_assign_retry';
