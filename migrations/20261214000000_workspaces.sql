-- More than one Slack workspace (issue 14 item 6): the workspace (Slack's team id) an item
-- was opened in, and the workspace of every outbox message, whose token sends it. NULL is
-- the single workspace of the environment's token, so existing rows keep their meaning.
ALTER TABLE escalations ADD COLUMN workspace text;
ALTER TABLE requests ADD COLUMN workspace text;
ALTER TABLE credits ADD COLUMN workspace text;
ALTER TABLE access_requests ADD COLUMN workspace text;
ALTER TABLE onboardings ADD COLUMN workspace text;
ALTER TABLE access_reviews ADD COLUMN workspace text;
ALTER TABLE incidents ADD COLUMN workspace text;
ALTER TABLE outbox ADD COLUMN workspace text;
-- Who opened their App Home, in which workspace: their home is published there.
ALTER TABLE home_viewers ADD COLUMN workspace text;
