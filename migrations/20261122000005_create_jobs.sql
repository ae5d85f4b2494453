-- Durable jobs and timers. A worker claims a due job by setting a lease (locked_until) under
-- FOR UPDATE SKIP LOCKED; if it dies, the lease runs out and another worker takes the job.

CREATE TABLE jobs (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL,
    payload       jsonb NOT NULL,
    dedupe_key    text UNIQUE,
    run_at        timestamptz NOT NULL,
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'running', 'done', 'dead')),
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL,
    locked_until  timestamptz,
    locked_by     text,
    last_error    text,
    created_at    timestamptz NOT NULL,
    finished_at   timestamptz
);

CREATE INDEX jobs_due_idx ON jobs (run_at, id) WHERE state = 'pending';
CREATE INDEX jobs_leased_idx ON jobs (locked_until) WHERE state = 'running';
