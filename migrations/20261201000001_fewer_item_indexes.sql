-- Leaner writes on the click path (issue 12): a transition that changes an item's state is
-- never a HOT update, so it adds an entry to every index of the table. The open items' lists
-- (by team, by owner, ageing) are a few thousand rows read in `opened_at` order: one partial
-- index carrying team and owner serves them all, in place of three.
DROP INDEX escalations_team_state_idx;
DROP INDEX escalations_owner_state_idx;
DROP INDEX escalations_open_age_idx;
CREATE INDEX escalations_open_idx ON escalations (opened_at) INCLUDE (team_key, owner_key)
    WHERE state <> 'resolved';

-- Requests: the team view and round robin's rotation point read the team's open requests by
-- `opened_at`, as backlog ageing does; one index serves both.
DROP INDEX requests_team_open_idx;
DROP INDEX requests_open_age_idx;
CREATE INDEX requests_open_idx ON requests (opened_at) INCLUDE (team_key, assignee_key)
    WHERE state <> 'resolved';
