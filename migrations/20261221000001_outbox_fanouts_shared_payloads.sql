-- A write set's messages often say the same thing to many people (a credit asks each of its
-- approvers with one text): `payloads` now holds each distinct payload once, and
-- `payload_of[i]` is the (1-based) position in `payloads` of message i's. Rows from before
-- have no `payload_of` (NULL): message i's payload is `payloads[i]`, as it was.
ALTER TABLE outbox_fanouts ADD COLUMN payload_of integer[];
