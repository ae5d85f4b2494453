-- Workspaces Steward was installed into through Slack's OAuth v2 flow (issue 14 item 6):
-- one row per team, the bot token sealed with ChaCha20-Poly1305 under STEWARD_TOKEN_KEY (the
-- team id is the associated data, so a token cannot be moved to another team's row).
CREATE TABLE slack_installations (
    team_id text PRIMARY KEY,
    team_name text NOT NULL,
    bot_user_id text,
    scope text NOT NULL,
    token_nonce bytea NOT NULL,
    token_sealed bytea NOT NULL,
    installed_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
