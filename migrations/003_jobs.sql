-- Generation jobs: one row per press of Generate. The row is the job's truth (state, money link, trace);
-- the pg-boss queue only carries its id to a worker. Every state change is a conditional UPDATE
-- (`WHERE state = …`), so two workers, two callbacks or a callback racing the sweep change it once.
CREATE TABLE jobs (
  id                uuid PRIMARY KEY,
  user_id           bigint      NOT NULL,
  chat_id           bigint      NOT NULL,
  model             text        NOT NULL,
  -- What the provider is asked for: the prompt and the model's options.
  input             jsonb       NOT NULL,
  price             integer     NOT NULL CHECK (price >= 0),
  state             text        NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'submitted', 'delivering',
                                     'delivered', 'failed', 'undeliverable')),
  reason_code       text,
  provider_task_id  text        UNIQUE,
  result_url        text,
  -- The user's language when they pressed Generate: later messages (result, failure) speak it.
  locale            text        NOT NULL DEFAULT 'en',
  -- The W3C traceparent of the Generate update: every later step continues (or links to) this trace.
  traceparent       text        NOT NULL,
  cid               text        NOT NULL,
  deadline_at       timestamptz NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  finished_at       timestamptz
);

-- The sweep reads only open jobs past their deadline.
CREATE INDEX jobs_open_by_deadline ON jobs (deadline_at)
  WHERE state IN ('queued', 'running', 'submitted', 'delivering');
-- History: a user's recent jobs.
CREATE INDEX jobs_by_user ON jobs (user_id, created_at DESC);
