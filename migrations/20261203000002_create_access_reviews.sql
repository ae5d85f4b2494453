-- Access review lists (issue 16): one living item per reviewer and campaign; the columns
-- are the projection (domain::access::review). Campaign numbers come from their own sequence.
CREATE SEQUENCE access_review_campaigns;

CREATE TABLE access_reviews (
    id            bigserial PRIMARY KEY,
    version       integer NOT NULL,
    doc           jsonb NOT NULL,
    updated_at    timestamptz NOT NULL,
    team_key      text NOT NULL,
    campaign      integer NOT NULL,
    reviewer_key  text NOT NULL,
    state         text NOT NULL,
    due_at        timestamptz,
    undecided     integer NOT NULL
);

-- Close and export a campaign's lists.
CREATE INDEX access_reviews_campaign_idx ON access_reviews (campaign, id);
