-- The global checkpoint chain over the per-subject audit chains (DESIGN.md §6).
--
-- Per-subject chains catch altered, reordered and truncated records, but not the deletion of a
-- whole subject (its records, its row and the head kept there). A periodic job therefore seals
-- the chain heads that moved since the previous checkpoint: each checkpoint lists its sealed
-- (subject, subject_seq, hash) entries and is itself hash-chained to the previous checkpoint,
-- so `steward audit verify` can check that every sealed record still exists.

CREATE TABLE audit_checkpoints (
    -- 1, 2, 3 … without gaps: assigned by the sealer under an advisory lock, not a sequence,
    -- so a missing checkpoint shows as a gap.
    seq          bigint PRIMARY KEY,
    at           timestamptz NOT NULL,
    prev_hash    text NOT NULL,
    hash         text NOT NULL
);

-- One row per chain head sealed by a checkpoint. Rows rather than a JSON array in the
-- checkpoint: the sealer's "last sealed entry of this subject" is then an index lookup.
CREATE TABLE audit_checkpoint_entries (
    checkpoint_seq  bigint NOT NULL REFERENCES audit_checkpoints (seq),
    subject         text NOT NULL,
    subject_seq     bigint NOT NULL,
    hash            text NOT NULL,
    PRIMARY KEY (checkpoint_seq, subject)
);

CREATE INDEX audit_checkpoint_entries_subject_idx
    ON audit_checkpoint_entries (subject, checkpoint_seq DESC);

-- The sealer finds subjects with records newer than the previous checkpoint (minus a grace
-- window) through the existing audit_log_at_idx.

-- Append-only like audit_log: refuse UPDATE, DELETE and TRUNCATE.
CREATE FUNCTION audit_checkpoints_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$;

CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_are_append_only();

CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_are_append_only();

CREATE TRIGGER audit_checkpoint_entries_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoint_entries
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_are_append_only();

CREATE TRIGGER audit_checkpoint_entries_no_truncate
    BEFORE TRUNCATE ON audit_checkpoint_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_are_append_only();
