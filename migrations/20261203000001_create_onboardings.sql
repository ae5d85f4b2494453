-- Account onboardings (issue 16): a living item; the columns are the projection
-- (domain::onboarding).
CREATE TABLE onboardings (
    id            bigserial PRIMARY KEY,
    version       integer NOT NULL,
    doc           jsonb NOT NULL,
    updated_at    timestamptz NOT NULL,
    team_key      text NOT NULL,
    account_key   text NOT NULL,
    state         text NOT NULL,
    plan_key      text NOT NULL,
    current_step  text,
    opened_at     timestamptz NOT NULL,
    activated_at  timestamptz,
    -- Steps closed after their target.
    steps_missed  integer NOT NULL,
    -- The earliest deadline among the running step clocks.
    due_at        timestamptz,
    at_risk_at    timestamptz
);

-- `/onboarding [team]` and the one-onboarding-per-account check.
CREATE INDEX onboardings_open_idx ON onboardings (team_key, id) WHERE state = 'onboarding';
CREATE INDEX onboardings_account_idx ON onboardings (account_key) WHERE state = 'onboarding';
