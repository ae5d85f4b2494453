-- The workspace of each message of a write set (issue 14 item 6: the token that sends it),
-- carried into its outbox row by the fan-out. Write sets from before have none: NULL, the
-- default workspace. (The array is NULL for them, and UNNEST pads it with NULLs.)
ALTER TABLE outbox_fanouts ADD COLUMN workspaces text[];
