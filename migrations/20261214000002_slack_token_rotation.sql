-- Slack token rotation (issue 14 item 6): an installation with rotation on gets a refresh
-- token (sealed like the bot token, under STEWARD_TOKEN_KEY with the team id as associated
-- data) and an expiry; the bot token is refreshed before it expires, under this row's lock.
ALTER TABLE slack_installations ADD COLUMN refresh_nonce bytea;
ALTER TABLE slack_installations ADD COLUMN refresh_sealed bytea;
ALTER TABLE slack_installations ADD COLUMN token_expires_at timestamptz;
