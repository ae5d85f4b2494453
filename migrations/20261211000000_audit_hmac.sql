-- HMAC-SHA256 audit chain (issue 17 item 7): the id of the key a record's hash is an HMAC
-- under (STEWARD_AUDIT_KEY, rotated by key id). NULL marks a plain SHA-256 record, written
-- without a key (every record before this migration). Adding a column fires no row trigger.
ALTER TABLE audit_log ADD COLUMN key_id text;
