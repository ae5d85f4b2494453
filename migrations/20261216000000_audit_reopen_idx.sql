-- KPI digests count the resolutions at a window's end that a reopen since undid (issue 15,
-- as-of replays): they look up the reopens after the window's end, a week back for the
-- previous window. Reopens are rare, so a partial index on them is small and costs audit
-- appends of other actions nothing but the predicate.
CREATE INDEX audit_log_reopen_idx ON audit_log (at) INCLUDE (subject) WHERE action = 'reopen';
