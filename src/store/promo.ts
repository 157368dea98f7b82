import type { Db } from './db.js';
import { type Balance, type Caused, cidOf, type Ledger } from './ledger.js';

/**
 * Promo codes: each credits its amount once per user, until it expires or its uses run out. The code row is
 * locked while a redemption is decided, so the last use cannot be taken twice.
 */

export interface NewPromoCode {
  code: string;
  credits: number;
  maxUses: number;
  expiresAt?: Date | undefined;
}

export interface RedeemInput extends Caused {
  code: string;
  userId: number;
}

/** Every way a redemption can end; each refusal has its own reason code in the bot. */
export type RedeemResult =
  | { status: 'redeemed'; credits: number; balance: Balance }
  | { status: 'unknown' | 'expired' | 'exhausted' | 'already_used' };

export interface PromoCodes {
  /** Creates a code, or replaces its terms (uses so far are kept). */
  upsert(promo: NewPromoCode): Promise<void>;
  redeem(input: RedeemInput): Promise<RedeemResult>;
}

const CODES = 'promo_codes';
const REDEMPTIONS = 'promo_redemptions';
export const PROMO_CODE_PATTERN = /^[A-Z0-9_-]{3,32}$/;

/** Users type codes in any case. */
export function normalisePromoCode(text: string): string {
  return text.trim().toUpperCase();
}

export function createPromoCodes(db: Db, ledger: Ledger): PromoCodes {
  return {
    async upsert({ code, credits, maxUses, expiresAt }) {
      await db.query(
        `INSERT INTO ${CODES} (code, credits, max_uses, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (code) DO UPDATE
           SET credits = EXCLUDED.credits, max_uses = EXCLUDED.max_uses, expires_at = EXCLUDED.expires_at`,
        [code, credits, maxUses, expiresAt ?? null],
        { operation: 'INSERT', table: CODES },
      );
    },

    redeem: (input) => {
      const cid = cidOf(input);
      const code = normalisePromoCode(input.code);
      if (!PROMO_CODE_PATTERN.test(code)) return Promise.resolve({ status: 'unknown' } as const);
      return db.transaction(async (tx): Promise<RedeemResult> => {
        const { rows } = await tx.query<{
          credits: number;
          max_uses: number;
          uses: number;
          expired: boolean;
        }>(
          `SELECT credits, max_uses, uses, coalesce(expires_at <= now(), false) AS expired
           FROM ${CODES} WHERE code = $1 FOR UPDATE`,
          [code],
          { operation: 'SELECT', table: CODES },
        );
        const promo = rows[0];
        if (!promo) return { status: 'unknown' };
        // Checked before expiry and exhaustion: "you already used it" is the truest answer to a second try.
        // The code's row lock makes this read current: a concurrent redemption of the code has committed.
        const prior = await tx.query(
          `SELECT 1 FROM ${REDEMPTIONS} WHERE code = $1 AND user_id = $2`,
          [code, input.userId],
          {
            operation: 'SELECT',
            table: REDEMPTIONS,
          },
        );
        if (prior.rowCount > 0) return { status: 'already_used' };
        if (promo.expired) return { status: 'expired' };
        if (promo.uses >= promo.max_uses) return { status: 'exhausted' };
        await tx.query(
          `INSERT INTO ${REDEMPTIONS} (code, user_id, cid) VALUES ($1, $2, $3)`,
          [code, input.userId, cid ?? null],
          {
            operation: 'INSERT',
            table: REDEMPTIONS,
          },
        );
        await tx.query(`UPDATE ${CODES} SET uses = uses + 1 WHERE code = $1`, [code], {
          operation: 'UPDATE',
          table: CODES,
        });
        const bonus = await ledger.grantBonus(
          { userId: input.userId, amount: promo.credits, key: `promo:${code}`, cid },
          tx,
        );
        if (bonus.status !== 'granted')
          throw new Error('promo: redemption row new but bonus already granted');
        return { status: 'redeemed', credits: promo.credits, balance: bonus.balance };
      });
    },
  };
}
