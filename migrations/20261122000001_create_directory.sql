-- The people, teams and accounts directory. Configuration is the source of truth; Steward
-- upserts it at start so that SQL reports can join on names, tiers and teams.

CREATE TABLE teams (
    key         text PRIMARY KEY,
    name        text NOT NULL,
    time_zone   text NOT NULL
);

CREATE TABLE people (
    key          text PRIMARY KEY,
    display_name text NOT NULL,
    team_key     text NOT NULL REFERENCES teams (key),
    roles        text[] NOT NULL DEFAULT '{}',
    skills       text[] NOT NULL DEFAULT '{}',
    time_zone    text NOT NULL
);

CREATE TABLE person_identities (
    platform         text NOT NULL,
    platform_user_id text NOT NULL,
    person_key       text NOT NULL REFERENCES people (key) ON DELETE CASCADE,
    PRIMARY KEY (platform, platform_user_id)
);

CREATE TABLE accounts (
    key        text PRIMARY KEY,
    name       text NOT NULL,
    tier       text NOT NULL,
    owner_key  text REFERENCES people (key)
);
