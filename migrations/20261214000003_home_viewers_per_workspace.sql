-- Home viewers per (platform, workspace, user) (issue 14 item 6): the same Slack user id in
-- two workspaces is two people with two homes. '' is the default workspace.
UPDATE home_viewers SET workspace = '' WHERE workspace IS NULL;
ALTER TABLE home_viewers ALTER COLUMN workspace SET DEFAULT '';
ALTER TABLE home_viewers ALTER COLUMN workspace SET NOT NULL;
ALTER TABLE home_viewers DROP CONSTRAINT home_viewers_pkey;
ALTER TABLE home_viewers ADD PRIMARY KEY (platform, workspace, user_id);
