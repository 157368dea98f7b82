-- Users, referrals and promo codes (src/store/users.ts, src/store/promo.ts). Credits they grant go
-- through the ledger (002) as `bonus` entries.

-- A user is recorded on their first /start: that insert is what makes them "new" for a referral.
CREATE TABLE users (
  user_id       bigint PRIMARY KEY,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  -- Their own invitation code, made when they first ask for their link (`/start ref_<code>`).
  referral_code text UNIQUE,
  -- Who invited them; set only by the insert that first records them, so a user is attributed once.
  referred_by   bigint REFERENCES users (user_id),
  -- A blocked user may not pay (pre-checkout is refused).
  blocked_at    timestamptz,
  CHECK (referred_by <> user_id)
);
-- Everyone who already talked to the bot (a private chat's id is its user's id) is not new.
INSERT INTO users (user_id)
SELECT key::bigint FROM sessions WHERE key ~ '^[1-9][0-9]{0,15}$'
ON CONFLICT DO NOTHING;

CREATE TABLE promo_codes (
  code       text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_-]{3,32}$'),
  credits    integer NOT NULL CHECK (credits > 0),
  max_uses   integer NOT NULL CHECK (max_uses > 0),
  uses       integer NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One redemption per user and code; the ledger's bonus key `promo:<code>` says the same a second time.
CREATE TABLE promo_redemptions (
  code       text NOT NULL REFERENCES promo_codes (code),
  user_id    bigint NOT NULL,
  cid        text CHECK (cid ~ '^[0-9a-f]{32}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (code, user_id)
);
