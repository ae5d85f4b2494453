-- Append-only audit log, hash-chained per subject (DESIGN.md §6). audit_heads holds each
-- subject's chain head; appending locks only that subject's head row.

CREATE TABLE audit_log (
    seq          bigserial PRIMARY KEY,
    at           timestamptz NOT NULL,
    actor        text NOT NULL,
    subject      text NOT NULL,
    subject_seq  bigint NOT NULL,
    action       text NOT NULL,
    before       jsonb NOT NULL,
    after        jsonb NOT NULL,
    prev_hash    text NOT NULL,
    hash         text NOT NULL,
    UNIQUE (subject, subject_seq)
);

CREATE TABLE audit_heads (
    subject      text PRIMARY KEY,
    subject_seq  bigint NOT NULL,
    hash         text NOT NULL
);

-- Append-only: refuse UPDATE and DELETE on the log itself.
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
