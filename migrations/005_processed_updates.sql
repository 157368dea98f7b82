-- Updates already taken by a process sharing this store (see src/store/processed-updates.ts): Telegram
-- delivers an update again after a webhook timeout, a non-2xx answer or a restart before confirmation, and
-- each must be answered once. Rows are kept a little longer than Telegram keeps undelivered updates (24 h).
CREATE TABLE processed_updates (
  bot_id      bigint NOT NULL,
  update_id   bigint NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bot_id, update_id)
);
CREATE INDEX processed_updates_received_at ON processed_updates (received_at);
