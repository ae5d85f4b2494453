-- War rooms on Slack (and later Discord) are made through the outbox: a message of kind
-- 'room' carries one step (create, invite, pin, archive) as JSON, so each step happens once,
-- after the change that asked for it committed.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('post', 'dm', 'webhook', 'room'));
