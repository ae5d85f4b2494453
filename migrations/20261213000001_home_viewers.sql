-- People who opened Steward's Slack App Home (issue 14 item 5): only their homes are
-- republished when something of theirs changes (`services::home`). One row per platform
-- user, keyed as the platform knows them, with the person they resolved to.
CREATE TABLE home_viewers (
    platform text NOT NULL,
    user_id text NOT NULL,
    person_key text NOT NULL,
    opened_at timestamptz NOT NULL,
    PRIMARY KEY (platform, user_id)
);

CREATE INDEX home_viewers_person_idx ON home_viewers (person_key);

-- A republished home view goes through the outbox as its own kind (`views.publish`).
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('post', 'dm', 'webhook', 'room', 'home'));
