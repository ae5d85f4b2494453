-- War rooms on Slack (and later Discord) are made through the outbox: a message of kind
-- 'room' carries one step (create, invite, pin, archive) as JSON, so each step happens once,
-- after the change that asked for it committed.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('post', 'dm', 'webhook', 'room'));

-- The earliest action item's due day (UTC midnight), projected by `Incident::projection`: the
-- standup digest lists the action items due by each owner from the incidents that have one.
ALTER TABLE incidents ADD COLUMN next_action_due timestamptz;
