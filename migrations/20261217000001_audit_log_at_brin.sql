-- The auditor's extract reads the audit log by time window (`audit export --from --to`) and
-- the checkpoint job by its window; both are rare, while every transition inserts a record.
-- A B-tree on `at` cost each record one more index entry on the click path. Records are
-- appended in time order, so a BRIN index over page ranges finds a window as well and costs
-- an insert next to nothing; `autosummarize` keeps the newest ranges summarised.
DROP INDEX audit_log_at_idx;
CREATE INDEX audit_log_at_brin ON audit_log USING brin (at) WITH (autosummarize = on);
