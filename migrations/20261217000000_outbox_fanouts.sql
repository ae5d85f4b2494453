-- The messages of one write set in one row (issue 12, leaner writes). A transition used to
-- insert each of its messages (card update, thread lines, one DM per approver) as its own
-- outbox row, five index entries apiece, inside the click's transaction. Now the click
-- writes one row here, with one index entry; a dispatcher fans the rows out into `outbox`,
-- one row per message and in the order they were written, before it claims
-- (`storage::outbox::fan_out`). Columns are parallel arrays, one element per message.
CREATE TABLE outbox_fanouts (
    id           bigserial PRIMARY KEY,
    platforms    text[] NOT NULL,
    kinds        text[] NOT NULL,
    targets      text[] NOT NULL,
    payloads     jsonb[] NOT NULL,
    living_keys  text[] NOT NULL,
    dedupe_keys  text[] NOT NULL,
    not_befores  timestamptz[] NOT NULL,
    created_at   timestamptz NOT NULL
);
