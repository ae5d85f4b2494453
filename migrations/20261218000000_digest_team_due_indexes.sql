-- The standup lists each team's first items by deadline and counts the rest (issue 15,
-- item 9). Keyed on the at-risk instant, the covering index made it read every at-risk or
-- breached item of every team once per team and sort them (~68,000 old breaches at a
-- million items). Keyed on (team, running deadline), each team's count is one range of the
-- index and its first items the first entries of that range.
--
-- It replaces the at-risk index with the same columns in another order, so a transition
-- writes the same number of index entries of the same width as before (issue 12). The SLA
-- digest, which read the at-risk range, now reads the open items' index whole: it holds
-- only open items, and measured at a million items its counts stay at ~47 ms and its lists
-- went from ~24 to ~13 ms.
DROP INDEX escalations_risk_idx;
CREATE INDEX escalations_team_due_idx ON escalations (team_key, due_at)
    INCLUDE (at_risk_at, id, opened_at, acknowledged_at, severity, account_key, owner_key)
    WHERE state <> 'resolved';
DROP INDEX requests_risk_idx;
CREATE INDEX requests_team_due_idx ON requests (team_key, due_at)
    INCLUDE (at_risk_at, id, opened_at, accepted_at, priority, account_key, assignee_key)
    WHERE state <> 'resolved';
