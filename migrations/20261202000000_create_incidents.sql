-- Incident war rooms (issue 13). `doc` holds the whole aggregate; the other columns are its
-- projection (`Incident::projection`), written by every save.

CREATE TABLE incidents (
    id            bigserial PRIMARY KEY,
    version       integer NOT NULL,
    team_key      text NOT NULL,
    state         text NOT NULL CHECK (state IN ('active', 'mitigated', 'resolved')),
    severity      text NOT NULL CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
    -- `<platform>:<channel>` of the war room: commands and events typed there name it.
    room_channel  text UNIQUE,
    declared_at   timestamptz NOT NULL,
    resolved_at   timestamptz,
    doc           jsonb NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- `/incidents` (open ones): few rows, newest first.
CREATE INDEX incidents_open_idx ON incidents (declared_at) WHERE state <> 'resolved';

-- The timeline: one row per change and per message captured from the room. Captured
-- messages carry `source_key` (platform, channel, message id), unique per incident, so a
-- redelivered pin or reaction never adds a second entry and an edit or delete finds its row.
CREATE TABLE incident_timeline (
    incident_id  bigint NOT NULL REFERENCES incidents (id),
    seq          bigserial,
    at           timestamptz NOT NULL,
    author_key   text,
    author_name  text NOT NULL,
    happening    jsonb NOT NULL,
    source_key   text,
    edited_at    timestamptz,
    deleted_at   timestamptz,
    PRIMARY KEY (incident_id, seq),
    UNIQUE (incident_id, source_key)
);
