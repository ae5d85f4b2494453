-- Every inbound event, keyed by its dedupe key. The row is inserted in the same transaction
-- as the event's effects and carries the reply, so a duplicate delivery (even one that
-- arrives while the original is still being handled) waits on the unique key and then
-- returns the stored reply without doing anything.

CREATE TABLE inbox (
    dedupe_key   text PRIMARY KEY,
    platform     text NOT NULL,
    actor        text NOT NULL,
    summary      text NOT NULL,
    received_at  timestamptz NOT NULL,
    reply        jsonb
);
