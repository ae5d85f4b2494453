-- Access requests and their time-bound grants (issue 16): a living item like the others.
-- The document is the whole truth; the columns are its projection (domain::access).
CREATE TABLE access_requests (
    id           bigserial PRIMARY KEY,
    version      integer NOT NULL,
    doc          jsonb NOT NULL,
    updated_at   timestamptz NOT NULL,
    team_key     text NOT NULL,
    state        text NOT NULL,
    system_key   text NOT NULL,
    role_key     text NOT NULL,
    holder_key   text NOT NULL,
    requested_at timestamptz NOT NULL,
    -- The grant's expiry (NULL until approved).
    expires_at   timestamptz,
    closed_at    timestamptz,
    -- When the open manual provisioning task is due.
    due_at       timestamptz
);

-- `/access mine`: a person's open requests and current grants.
CREATE INDEX access_requests_holder_idx ON access_requests (holder_key)
    WHERE state IN ('pending', 'active');
-- `/access who <system>`: current grants of a system.
CREATE INDEX access_requests_system_idx ON access_requests (system_key)
    WHERE state = 'active';

-- Grant changes are posted to the systems through the outbox as signed webhook calls.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('post', 'dm', 'webhook'));
