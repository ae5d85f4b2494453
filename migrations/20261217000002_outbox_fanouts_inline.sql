-- A write set's messages are read once, by the fan-out, and deleted: compressing a large
-- one (a credit asks every approver: a DM each) and moving it to the TOAST table cost the
-- click more than the space saved. Keep rows up to a page inline and uncompressed.
ALTER TABLE outbox_fanouts SET (toast_tuple_target = 8160);
