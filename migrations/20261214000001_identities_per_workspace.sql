-- People per (platform, workspace, user) (issue 14 item 6): the same Slack user id in two
-- workspaces is two people, so the mirror of the directory's identities is keyed by the
-- workspace too. '' is the default workspace (plain ids, and platforms without workspaces).
ALTER TABLE person_identities ADD COLUMN workspace text NOT NULL DEFAULT '';
-- Rows mirrored before this kept a qualified Slack id (`T123:U456`) whole; split it.
UPDATE person_identities
    SET workspace = split_part(platform_user_id, ':', 1),
        platform_user_id = split_part(platform_user_id, ':', 2)
    WHERE platform = 'slack' AND platform_user_id ~ '^[TE][A-Z0-9]+:.+$';
ALTER TABLE person_identities DROP CONSTRAINT person_identities_pkey;
ALTER TABLE person_identities ADD PRIMARY KEY (platform, workspace, platform_user_id);
