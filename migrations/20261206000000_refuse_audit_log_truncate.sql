-- TRUNCATE bypasses row triggers: without this, `TRUNCATE audit_log` emptied the log in one
-- statement (issue 17 item 7). The log refuses it as it refuses UPDATE and DELETE.
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
