-- A write set is one statement (storage::effects::write). When part of it must not happen —
-- the inbound event is a duplicate, or an item row moved on since it was read — the whole
-- statement has to fail, not only that part: run on its own, outside BEGIN/COMMIT, a
-- statement is all there is to roll back. The statement calls this to fail itself, with a
-- SQLSTATE the caller tells apart: SWDUP (duplicate event), SWCAS (an item changed).
CREATE FUNCTION steward_abort_write_set(code text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = 'write set refused: ' || code;
END
$$;
