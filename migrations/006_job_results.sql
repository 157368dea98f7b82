-- History and Repeat. A delivered result is re-sent from Telegram's own copy (the file_id its sendPhoto or
-- sendDocument returned), so History never asks the provider again and works after its URLs expire.
ALTER TABLE jobs
  ADD COLUMN result_file_id text,
  ADD COLUMN result_kind    text CHECK (result_kind IN ('photo', 'document')),
  -- The delivered job whose Repeat button made this one.
  ADD COLUMN repeat_of      uuid;

-- One open repeat per result: a double tap on Repeat (two presses before the first is answered, possibly
-- on two processes) queues and charges one job; the second insert finds this index taken.
CREATE UNIQUE INDEX jobs_one_open_repeat ON jobs (repeat_of)
  WHERE repeat_of IS NOT NULL AND state IN ('queued', 'running', 'submitted', 'delivering');
