-- Scheduled digests (issue 8): the slot claims, and the columns and indexes the KPI, SLA and
-- standup queries read, so that each digest is a few index scans and aggregates in SQL.

-- One row per digest slot. Inserting it claims the slot: the digest's outbox rows are
-- written in the same transaction, so any number of replicas (or a DST repeat, or a restart)
-- produce one digest per slot. Slots found too late are recorded as skipped.
CREATE TABLE digest_slots (
    name        text NOT NULL,
    slot_at     timestamptz NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('posted', 'late', 'skipped')),
    claimed_at  timestamptz NOT NULL,
    claimed_by  text NOT NULL,
    PRIMARY KEY (name, slot_at)
);

-- Parses the RFC 3339 timestamps serde writes into the JSON documents. Declared IMMUTABLE so
-- it can feed generated columns: RFC 3339 carries its own offset, so neither TimeZone nor
-- DateStyle changes the result.
CREATE FUNCTION steward_rfc3339(raw text) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
    AS $$ SELECT raw::timestamptz $$;

-- Requests: when they were first accepted (time to acknowledge) and whether they were ever
-- reopened (reopen rate). Generated from the document, so every existing writer keeps them
-- in step and existing rows are backfilled by this migration.
ALTER TABLE requests
    ADD COLUMN accepted_at timestamptz
        GENERATED ALWAYS AS (steward_rfc3339(doc -> 'accepted' ->> 'at')) STORED,
    ADD COLUMN reopened boolean
        GENERATED ALWAYS AS (coalesce((doc ->> 'reopened')::boolean, false)) STORED;

-- SLA attainment: whether an item was resolved within its resolve target. The deadline
-- columns are cleared when the clock stops, so the trigger below records, at the write that
-- resolves an item, whether the resolution came before the deadline stored by the write
-- before it. With no stored deadline (the clock was paused) an escalation falls back to its
-- breach alert; a request counts as met (its clock cannot run out while paused).
ALTER TABLE escalations ADD COLUMN resolved_within_sla boolean;
ALTER TABLE requests ADD COLUMN resolved_within_sla boolean;

CREATE FUNCTION steward_record_sla_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- An import (`steward seed`) inserts resolved history with the outcome it knows.
    IF TG_OP = 'INSERT' AND NEW.resolved_within_sla IS NOT NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.resolved_at IS NULL THEN
        NEW.resolved_within_sla := NULL;
    ELSIF TG_OP = 'UPDATE' AND OLD.resolved_at IS NOT DISTINCT FROM NEW.resolved_at THEN
        NEW.resolved_within_sla := OLD.resolved_within_sla;
    ELSIF TG_OP = 'UPDATE' AND OLD.resolve_due IS NOT NULL THEN
        NEW.resolved_within_sla := NEW.resolved_at <= OLD.resolve_due;
    ELSIF TG_TABLE_NAME = 'escalations' THEN
        NEW.resolved_within_sla :=
            NOT coalesce((NEW.doc -> 'alerts' ->> 'resolve_breached')::boolean, false);
    ELSE
        NEW.resolved_within_sla := true;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER escalations_sla_outcome BEFORE INSERT OR UPDATE ON escalations
    FOR EACH ROW EXECUTE FUNCTION steward_record_sla_outcome();
CREATE TRIGGER requests_sla_outcome BEFORE INSERT OR UPDATE ON requests
    FOR EACH ROW EXECUTE FUNCTION steward_record_sla_outcome();

-- Backfill what the documents know: escalations by their breach alert; requests unknown.
UPDATE escalations
SET resolved_within_sla = NOT coalesce((doc -> 'alerts' ->> 'resolve_breached')::boolean, false)
WHERE resolved_at IS NOT NULL;

-- Window scans for the KPI digest: items opened in, resolved in, credits approved in a window.
CREATE INDEX escalations_opened_idx ON escalations (opened_at);
CREATE INDEX escalations_resolved_idx ON escalations (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX requests_opened_idx ON requests (opened_at);
CREATE INDEX requests_resolved_idx ON requests (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX credits_approved_idx ON credits (updated_at) WHERE state = 'approved';
CREATE INDEX credit_approvals_decided_idx ON credit_approvals (decided_at);
-- SLA and standup digests: open items by the time they become at risk.
CREATE INDEX escalations_risk_idx ON escalations (LEAST(acknowledge_risk_at, resolve_risk_at))
    WHERE state <> 'resolved';
CREATE INDEX requests_risk_idx ON requests (LEAST(first_response_risk_at, resolve_risk_at))
    WHERE state <> 'resolved';
