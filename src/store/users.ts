import { randomBytes } from 'node:crypto';
import type { Db, Queryable } from './db.js';
import { type Caused, cidOf, type Ledger } from './ledger.js';

/**
 * Users as far as money needs them: who is new (for referrals), their invitation code, who is blocked.
 * A user row is written on `/start`; the insert that creates it is the one moment a user counts as new,
 * so a referral is attributed once even when `/start ref_…` arrives twice or on two processes.
 */

export interface StartInput extends Caused {
  userId: number;
  /** The `<code>` of a `/start ref_<code>` deep link. */
  referralCode?: string | undefined;
  /** Credits for the referrer when a new user is attributed to them; 0 grants none. */
  referralBonus: number;
}

export type StartResult =
  /** First /start; with `referrerId` when a valid referral code came along (the bonus is granted). */
  | { status: 'new'; referrerId: number | undefined; referral: 'attributed' | 'unknown_code' | 'none' }
  /** Seen before: any referral code is ignored. */
  | { status: 'known'; referral: 'not_new' | 'none' };

export interface Users {
  start(input: StartInput): Promise<StartResult>;
  /** The user's invitation code, made on first request. */
  referralCode(userId: number): Promise<string>;
  isBlocked(userId: number, tx?: Queryable): Promise<boolean>;
  setBlocked(userId: number, blocked: boolean): Promise<void>;
}

const USERS = 'users';
/** What follows `ref_` in a deep link: Telegram allows [A-Za-z0-9_-], up to 64 characters in all. */
export const REFERRAL_CODE_PATTERN = /^[a-z2-7]{10}$/;

export function createUsers(db: Db, ledger: Ledger): Users {
  return {
    start: async (input) => {
      // Without a well-formed referral code there is no referrer to look up and no bonus to grant: the
      // insert alone decides, atomically, whether the user is new (one round trip, no transaction).
      if (input.referralCode === undefined || !REFERRAL_CODE_PATTERN.test(input.referralCode)) {
        const { rowCount } = await db.query(
          `INSERT INTO ${USERS} (user_id, referred_by) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`,
          [input.userId, null],
          { operation: 'INSERT', table: USERS },
        );
        if (rowCount === 0) {
          return { status: 'known', referral: input.referralCode === undefined ? 'none' : 'not_new' };
        }
        return {
          status: 'new',
          referrerId: undefined,
          referral: input.referralCode === undefined ? 'none' : 'unknown_code',
        };
      }
      return db.transaction(async (tx) => {
        const cid = cidOf(input);
        const owner = input.referralCode === undefined ? undefined : await ownerOf(tx, input.referralCode);
        // One's own code: its owner is known already (they asked for it); this only keeps the CHECK quiet.
        const referrerId = owner === input.userId ? undefined : owner;
        const { rowCount } = await tx.query(
          `INSERT INTO ${USERS} (user_id, referred_by) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`,
          [input.userId, referrerId ?? null],
          { operation: 'INSERT', table: USERS },
        );
        if (rowCount === 0) {
          return {
            status: 'known',
            referral: input.referralCode === undefined ? 'none' : 'not_new',
          } as const;
        }
        if (referrerId === undefined) {
          const referral = input.referralCode === undefined ? 'none' : 'unknown_code';
          return { status: 'new', referrerId: undefined, referral } as const;
        }
        if (input.referralBonus > 0) {
          await ledger.grantBonus(
            { userId: referrerId, amount: input.referralBonus, key: `referral:${input.userId}`, cid },
            tx,
          );
        }
        return { status: 'new', referrerId, referral: 'attributed' } as const;
      });
    },

    async referralCode(userId) {
      // One statement, no transaction: the Balance screen asks on every visit. A user who has a code is only
      // read; the upsert's coalesce keeps whichever code a concurrent first request wrote. 50 random bits: a
      // collision (a unique violation, reported as DB_ERROR) is not worth a retry loop.
      const { rows } = await db.query<{ referral_code: string }>(
        `WITH existing AS (
           SELECT referral_code FROM ${USERS} WHERE user_id = $1::bigint AND referral_code IS NOT NULL
         ), made AS (
           INSERT INTO ${USERS} (user_id, referral_code)
           SELECT $1::bigint, $2::text WHERE NOT EXISTS (SELECT FROM existing)
           ON CONFLICT (user_id) DO UPDATE SET referral_code = coalesce(${USERS}.referral_code, excluded.referral_code)
           RETURNING referral_code
         )
         SELECT referral_code FROM existing UNION ALL SELECT referral_code FROM made`,
        [userId, newReferralCode()],
        { operation: 'INSERT', table: USERS },
      );
      const code = rows[0]?.referral_code;
      if (code === undefined) throw new Error('users: no referral code was read or written');
      return code;
    },

    async isBlocked(userId, tx) {
      const { rows } = await (tx ?? db).query<{ blocked: boolean }>(
        `SELECT blocked_at IS NOT NULL AS blocked FROM ${USERS} WHERE user_id = $1`,
        [userId],
        { operation: 'SELECT', table: USERS },
      );
      return rows[0]?.blocked ?? false;
    },

    async setBlocked(userId, blocked) {
      await db.query(
        `INSERT INTO ${USERS} (user_id, blocked_at) VALUES ($1, CASE WHEN $2 THEN now() END)
         ON CONFLICT (user_id) DO UPDATE SET blocked_at = CASE WHEN $2 THEN coalesce(${USERS}.blocked_at, now()) END`,
        [userId, blocked],
        { operation: 'INSERT', table: USERS },
      );
    },
  };
}

async function ownerOf(q: Queryable, code: string): Promise<number | undefined> {
  if (!REFERRAL_CODE_PATTERN.test(code)) return undefined;
  const { rows } = await q.query<{ user_id: string | number }>(
    `SELECT user_id FROM ${USERS} WHERE referral_code = $1`,
    [code],
    { operation: 'SELECT', table: USERS },
  );
  return rows[0] ? Number(rows[0].user_id) : undefined;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function newReferralCode(): string {
  return Array.from(randomBytes(10), (byte) => BASE32[byte & 31]).join('');
}
