-- Money (see src/store/ledger.ts). Credits live in an append-only ledger; `accounts` is a cache of its
-- per-user sums that every posting updates in the same transaction, so the two cannot disagree
-- (Ledger.audit() proves it), and whose CHECKs make an overdraft impossible even under races.

-- One row per Telegram Stars payment. Telegram's charge id is the idempotency key: a successful_payment
-- delivered twice, or handled by two processes at once, finds the row already there and credits nothing.
CREATE TABLE payments (
  id                         bigserial PRIMARY KEY,
  telegram_payment_charge_id text NOT NULL UNIQUE,
  user_id                    bigint NOT NULL,
  package_id                 text NOT NULL,
  currency                   text NOT NULL,
  stars                      integer NOT NULL CHECK (stars > 0),
  credits                    integer NOT NULL CHECK (credits > 0),
  invoice_payload            text NOT NULL,
  cid                        text CHECK (cid ~ '^[0-9a-f]{32}$'),
  created_at                 timestamptz NOT NULL DEFAULT now(),
  -- Set once, when an admin's refundStarPayment succeeded; the ledger holds the matching debit.
  refunded_at                timestamptz
);
CREATE INDEX payments_user ON payments (user_id, created_at DESC);

CREATE TABLE accounts (
  user_id    bigint PRIMARY KEY,
  -- Credits the user can spend now.
  available  integer NOT NULL DEFAULT 0 CHECK (available >= 0),
  -- Credits reserved for jobs that are neither charged nor refunded yet.
  held       integer NOT NULL DEFAULT 0 CHECK (held >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every movement of credits. `available` and `held` are the signed effects on the user's account:
--   payment       +credits  0        a Stars payment credited                  (payment_id)
--   reserve       -price    +price   a job's price set aside                   (job_id)
--   charge        0         -price   the job delivered: the hold is spent      (job_id)
--   refund        +price    -price   the job failed: the hold goes back        (job_id)
--   bonus         +amount   0        referral or promo credit                  (bonus_key)
--   stars_refund  -credits  0        an admin refunded the payment's Stars     (payment_id)
CREATE TABLE ledger_entries (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('payment', 'reserve', 'charge', 'refund', 'bonus', 'stars_refund')),
  available   integer NOT NULL,
  held        integer NOT NULL,
  payment_id  bigint REFERENCES payments (id),
  -- The jobs table is another migration's; a job id is text so any id type (uuid, serial) fits.
  job_id      text,
  -- What a bonus is for, unique per user: `referral:<referred user>`, `promo:<CODE>`.
  bonus_key   text,
  -- The trace id (cid) of the update or job run that caused the entry; NULL only when tracing is off
  -- (OTEL_SDK_DISABLED), where no trace id exists.
  cid         text CHECK (cid ~ '^[0-9a-f]{32}$'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind IN ('payment', 'stars_refund')) = (payment_id IS NOT NULL)),
  CHECK ((kind IN ('reserve', 'charge', 'refund')) = (job_id IS NOT NULL)),
  CHECK ((kind = 'bonus') = (bonus_key IS NOT NULL)),
  CHECK (
    CASE kind
      WHEN 'payment' THEN available > 0 AND held = 0
      WHEN 'reserve' THEN available < 0 AND held = -available
      WHEN 'charge' THEN available = 0 AND held < 0
      WHEN 'refund' THEN available > 0 AND held = -available
      WHEN 'bonus' THEN available > 0 AND held = 0
      WHEN 'stars_refund' THEN available < 0 AND held = 0
    END
  )
);
CREATE INDEX ledger_entries_user ON ledger_entries (user_id, id);
-- Exactly once, enforced by the database rather than by a read-then-write in code:
-- a payment is credited once and refunded at most once,
CREATE UNIQUE INDEX ledger_payment_once ON ledger_entries (payment_id, kind) WHERE payment_id IS NOT NULL;
-- a job is reserved once,
CREATE UNIQUE INDEX ledger_job_reserved_once ON ledger_entries (job_id) WHERE kind = 'reserve';
-- and settled once: either charged or refunded, never both, never twice;
CREATE UNIQUE INDEX ledger_job_settled_once ON ledger_entries (job_id) WHERE kind IN ('charge', 'refund');
-- a bonus is granted once per user and reason.
CREATE UNIQUE INDEX ledger_bonus_once ON ledger_entries (user_id, bonus_key) WHERE bonus_key IS NOT NULL;

-- Append-only: a correction is a new entry, never an edit.
CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_entries is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER ledger_entries_append_only
  BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();
