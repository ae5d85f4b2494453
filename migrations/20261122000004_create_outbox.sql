-- Messages to send. Written in the same transaction as the state change that causes them;
-- a dispatcher drains them with a lease (locked_until) and FOR UPDATE SKIP LOCKED.

CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    platform      text NOT NULL,
    -- 'post' (to a channel; a card with a living key is posted once, then updated in place)
    -- or 'dm' (to a platform user id).
    kind          text NOT NULL CHECK (kind IN ('post', 'dm')),
    target        text NOT NULL,
    payload       jsonb NOT NULL,
    living_key    text,
    dedupe_key    text NOT NULL UNIQUE,
    not_before    timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sent', 'failed', 'superseded')),
    locked_until  timestamptz,
    platform_ref  jsonb,
    last_error    text,
    created_at    timestamptz NOT NULL,
    sent_at       timestamptz
);

CREATE INDEX outbox_due_idx ON outbox (not_before, id) WHERE state = 'pending';
CREATE INDEX outbox_living_idx ON outbox (platform, living_key, id)
    WHERE state = 'pending' AND living_key IS NOT NULL;

-- Where each living message was posted, so later cards update it in place.
CREATE TABLE living_messages (
    platform      text NOT NULL,
    living_key    text NOT NULL,
    platform_ref  jsonb NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (platform, living_key)
);
