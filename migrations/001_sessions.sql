-- grammY session storage: one JSON document per session key (see src/store/sessions.ts).
CREATE TABLE sessions (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
