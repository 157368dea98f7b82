import { INVALID_TRACEID, isValidTraceId, trace } from '@opentelemetry/api';
import { ATTR, SPAN } from '../telemetry/conventions.js';
import { safely } from '../telemetry/safely.js';
import { inSpan } from '../telemetry/tracer.js';
import type { Db, Queryable } from './db.js';

/**
 * Money. Every movement of credits is one row in the append-only `ledger_entries`; `accounts` caches each
 * user's sums and is updated in the same transaction as the entry (so `audit()` finds no difference),
 * and its CHECKs make a negative balance impossible. Exactly-once is the database's job: unique indexes
 * on the payment's charge id, the job id and the bonus key, with `ON CONFLICT DO NOTHING`, so a duplicate
 * delivery or a concurrent second process finds the first one's row and writes nothing.
 *
 * Every operation takes an optional `tx`: inside the caller's transaction (reserve a price and create the
 * job together) or, without one, in a transaction of its own. Amounts are whole credits.
 */

/** What a ledger entry records; see migrations/002_ledger.sql for each one's effect on the account. */
export const ENTRY_KINDS = ['payment', 'reserve', 'charge', 'refund', 'bonus', 'stars_refund'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** The operations, as metrics and span names (`ledger <operation>`) call them. */
export type LedgerOperation = 'credit' | 'reserve' | 'charge' | 'refund' | 'bonus' | 'stars_refund';

/** Every result each operation can end with; `error` when it threw (the store failed). */
export const LEDGER_RESULTS: Record<LedgerOperation, readonly string[]> = {
  credit: ['credited', 'duplicate', 'error'],
  reserve: ['reserved', 'insufficient', 'duplicate', 'error'],
  charge: ['charged', 'already_settled', 'not_reserved', 'error'],
  refund: ['refunded', 'already_settled', 'not_reserved', 'error'],
  bonus: ['granted', 'duplicate', 'error'],
  stars_refund: ['refunded', 'unknown_payment', 'already_refunded', 'insufficient', 'error'],
};

/** The entry each operation appends when it writes one. */
const ENTRY_OF: Record<LedgerOperation, EntryKind> = {
  credit: 'payment',
  reserve: 'reserve',
  charge: 'charge',
  refund: 'refund',
  bonus: 'bonus',
  stars_refund: 'stars_refund',
};

/** One finished operation, for metrics: reported once its transaction committed (or at once if it threw). */
export interface LedgerSample {
  operation: LedgerOperation;
  result: string;
  /** The entry written and the credits it moved; absent when nothing was written. */
  entry?: { kind: EntryKind; credits: number };
  /** A payment credited: its package and the Stars paid. */
  payment?: { packageId: string; stars: number };
}

interface Written {
  credits: number;
  payment?: { packageId: string; stars: number };
}

export interface Balance {
  /** Credits the user can spend now. */
  available: number;
  /** Credits reserved for jobs still running. */
  held: number;
}

/**
 * The trace id of the update or job run that caused an entry. Omitted, it is the active span's trace id:
 * the entry is then findable from the support code of whatever was running.
 */
export interface Caused {
  cid?: string;
}

export interface PaymentInput extends Caused {
  /** Telegram's `telegram_payment_charge_id`: the key that makes crediting exactly-once. */
  telegramPaymentChargeId: string;
  userId: number;
  packageId: string;
  currency: string;
  /** What the user paid (`total_amount`, in Stars for XTR). */
  stars: number;
  /** What the package gives. */
  credits: number;
  invoicePayload: string;
}

export interface Payment {
  id: number;
  telegramPaymentChargeId: string;
  userId: number;
  packageId: string;
  stars: number;
  credits: number;
  cid: string | undefined;
  refunded: boolean;
}

export type CreditResult =
  | { status: 'credited'; payment: Payment; balance: Balance }
  /** This charge id was credited before (a redelivery or another process): nothing written. */
  | { status: 'duplicate'; payment: Payment };

export interface ReserveInput extends Caused {
  userId: number;
  amount: number;
  jobId: string;
}

export type ReserveResult =
  | { status: 'reserved'; balance: Balance }
  /** Nothing written; `balance` is what the user has. */
  | { status: 'insufficient'; balance: Balance }
  /** This job already has its reservation: nothing written. */
  | { status: 'duplicate'; balance: Balance };

export interface SettleInput extends Caused {
  jobId: string;
}

export type SettleResult =
  | { status: 'charged' | 'refunded'; userId: number; amount: number; balance: Balance }
  /** The job was charged or refunded before (`settledAs` says which): nothing written. */
  | { status: 'already_settled'; settledAs: 'charge' | 'refund' }
  /** No reservation for this job: nothing to settle. */
  | { status: 'not_reserved' };

export interface BonusInput extends Caused {
  userId: number;
  amount: number;
  /** Unique per user: `referral:<referred user id>`, `promo:<CODE>`. */
  key: string;
}

export type BonusResult = { status: 'granted'; balance: Balance } | { status: 'duplicate' };

export interface StarsRefundInput extends Caused {
  telegramPaymentChargeId: string;
}

export type StarsRefundResult =
  | { status: 'refunded'; payment: Payment; balance: Balance }
  | { status: 'unknown_payment' }
  | { status: 'already_refunded'; payment: Payment }
  /** The user has already spent some of these credits; taking them back would go below zero. */
  | { status: 'insufficient'; payment: Payment; balance: Balance };

export interface LedgerEntry {
  id: number;
  userId: number;
  kind: EntryKind;
  available: number;
  held: number;
  paymentId: number | undefined;
  jobId: string | undefined;
  bonusKey: string | undefined;
  cid: string | undefined;
  createdAt: Date;
}

/** A user whose cached account differs from the sum of their ledger entries: a bug, never expected. */
export interface AuditMismatch {
  userId: number;
  cached: Balance;
  ledger: Balance;
}

export interface Ledger {
  balance(userId: number, tx?: Queryable): Promise<Balance>;
  /** Credits a successful Stars payment exactly once per `telegramPaymentChargeId`. */
  creditPayment(input: PaymentInput, tx?: Queryable): Promise<CreditResult>;
  /** Sets a job's price aside if the user has it; at most once per job. */
  reserve(input: ReserveInput, tx?: Queryable): Promise<ReserveResult>;
  /** Spends a job's reservation (the result was delivered). A job is charged or refunded, once. */
  charge(input: SettleInput, tx?: Queryable): Promise<SettleResult>;
  /** Gives a job's reservation back (the job failed). A job is charged or refunded, once. */
  refund(input: SettleInput, tx?: Queryable): Promise<SettleResult>;
  /** Credits a referral or promo bonus, once per user and key. */
  grantBonus(input: BonusInput, tx?: Queryable): Promise<BonusResult>;
  /**
   * Takes back a payment's credits and marks it refunded, once. Call Telegram's refundStarPayment inside
   * the same transaction before it commits: if Telegram refuses, the transaction rolls back.
   */
  refundStars(input: StarsRefundInput, tx?: Queryable): Promise<StarsRefundResult>;
  findPayment(telegramPaymentChargeId: string, tx?: Queryable): Promise<Payment | undefined>;
  /** A user's entries, newest first. */
  entries(userId: number, options?: { limit?: number }): Promise<LedgerEntry[]>;
  /** Every user whose cached balance disagrees with the ledger; empty when all is well. */
  audit(): Promise<AuditMismatch[]>;
}

const ENTRIES = 'ledger_entries';
const ACCOUNTS = 'accounts';
const PAYMENTS = 'payments';

const ZERO: Balance = { available: 0, held: 0 };

export function createLedger(db: Db, observe: (sample: LedgerSample) => void = () => undefined): Ledger {
  /** Runs `fn` in the caller's transaction, or in one of its own. */
  const atomically = <T>(tx: Queryable | undefined, fn: (q: Queryable) => Promise<T>): Promise<T> =>
    tx ? fn(tx) : db.transaction(fn);

  /**
   * One operation: its cid taken before its span starts (inside it, a caller without any trace would find
   * the span's own new trace), a `ledger <operation>` span with the result, and a sample for metrics once
   * the work is committed: after the caller's COMMIT when it runs in the caller's transaction.
   */
  function operation<T extends { status: string }>(
    name: LedgerOperation,
    input: Caused,
    tx: Queryable | undefined,
    attributes: Record<string, number>,
    written: (result: T) => Written | undefined,
    fn: (cid: string | undefined) => Promise<T>,
  ): Promise<T> {
    let cid: string | undefined;
    try {
      cid = cidOf(input);
    } catch (error) {
      return Promise.reject(error);
    }
    return inSpan(`${SPAN.LEDGER_PREFIX}${name}`, { attributes }, async (span) => {
      let result: T;
      try {
        result = await fn(cid);
      } catch (error) {
        report({ operation: name, result: 'error' });
        throw error;
      }
      span.setAttribute(ATTR.LEDGER_RESULT, result.status);
      if ('amount' in result && typeof result.amount === 'number') {
        span.setAttribute(ATTR.LEDGER_AMOUNT, result.amount);
      }
      const entry = written(result);
      const sample: LedgerSample = {
        operation: name,
        result: result.status,
        ...(entry ? { entry: { kind: ENTRY_OF[name], credits: entry.credits } } : {}),
        ...(entry?.payment ? { payment: entry.payment } : {}),
      };
      if (tx?.afterCommit) tx.afterCommit(() => report(sample));
      else report(sample);
      return result;
    });
  }

  const report = (sample: LedgerSample) => safely('reporting a ledger operation', () => observe(sample));

  return {
    balance: (userId, tx) => readBalance(tx ?? db, userId, false),

    creditPayment: (input, tx) =>
      operation(
        'credit',
        input,
        tx,
        { [ATTR.LEDGER_AMOUNT]: input.credits },
        (r) =>
          r.status === 'credited'
            ? { credits: input.credits, payment: { packageId: input.packageId, stars: input.stars } }
            : undefined,
        (cid) =>
          atomically(tx, async (q) => {
            assertPositive(input.credits, 'credits');
            assertPositive(input.stars, 'stars');
            const inserted = await q.query<PaymentRow>(
              `INSERT INTO ${PAYMENTS}
               (telegram_payment_charge_id, user_id, package_id, currency, stars, credits, invoice_payload, cid)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (telegram_payment_charge_id) DO NOTHING
             RETURNING ${PAYMENT_COLUMNS}`,
              [
                input.telegramPaymentChargeId,
                input.userId,
                input.packageId,
                input.currency,
                input.stars,
                input.credits,
                input.invoicePayload,
                cid ?? null,
              ],
              { operation: 'INSERT', table: PAYMENTS },
            );
            const row = inserted.rows[0];
            if (!row) {
              // The first delivery's row exists (committed, since ON CONFLICT waited for it).
              const payment = await readPayment(q, input.telegramPaymentChargeId, false);
              if (!payment) throw new Error('payment conflict without a payment row');
              return { status: 'duplicate', payment } as const;
            }
            const payment = paymentOf(row);
            await insertEntry(q, {
              userId: input.userId,
              kind: 'payment',
              available: input.credits,
              held: 0,
              paymentId: payment.id,
              cid,
            });
            const balance = await applyToAccount(q, input.userId, input.credits, 0);
            return { status: 'credited', payment, balance } as const;
          }),
      ),

    reserve: (input, tx) =>
      operation(
        'reserve',
        input,
        tx,
        { [ATTR.LEDGER_AMOUNT]: input.amount },
        (r) => (r.status === 'reserved' ? { credits: input.amount } : undefined),
        (cid) =>
          atomically(tx, async (q) => {
            assertPositive(input.amount, 'amount');
            // The row lock orders concurrent reservations of one user: the second sees the first's debit.
            const current = await readBalance(q, input.userId, true);
            if (current.available < input.amount)
              return { status: 'insufficient', balance: current } as const;
            const written = await insertEntry(q, {
              userId: input.userId,
              kind: 'reserve',
              available: -input.amount,
              held: input.amount,
              jobId: input.jobId,
              cid,
            });
            if (!written) return { status: 'duplicate', balance: current } as const;
            const balance = await applyToAccount(q, input.userId, -input.amount, input.amount);
            return { status: 'reserved', balance } as const;
          }),
      ),

    charge: (input, tx) =>
      operation('charge', input, tx, {}, settledCredits, (cid) =>
        atomically(tx, (q) => settle(q, 'charge', input.jobId, cid)),
      ),
    refund: (input, tx) =>
      operation('refund', input, tx, {}, settledCredits, (cid) =>
        atomically(tx, (q) => settle(q, 'refund', input.jobId, cid)),
      ),

    grantBonus: (input, tx) =>
      operation(
        'bonus',
        input,
        tx,
        { [ATTR.LEDGER_AMOUNT]: input.amount },
        (r) => (r.status === 'granted' ? { credits: input.amount } : undefined),
        (cid) =>
          atomically(tx, async (q) => {
            assertPositive(input.amount, 'amount');
            const written = await insertEntry(q, {
              userId: input.userId,
              kind: 'bonus',
              available: input.amount,
              held: 0,
              bonusKey: input.key,
              cid,
            });
            if (!written) return { status: 'duplicate' } as const;
            const balance = await applyToAccount(q, input.userId, input.amount, 0);
            return { status: 'granted', balance } as const;
          }),
      ),

    refundStars: (input, tx) =>
      operation(
        'stars_refund',
        input,
        tx,
        {},
        (r) => (r.status === 'refunded' ? { credits: r.payment.credits } : undefined),
        (cid) =>
          atomically(tx, async (q) => {
            // Locked so two admins refunding at once cannot both pass the check below.
            const payment = await readPayment(q, input.telegramPaymentChargeId, true);
            if (!payment) return { status: 'unknown_payment' } as const;
            if (payment.refunded) return { status: 'already_refunded', payment } as const;
            const current = await readBalance(q, payment.userId, true);
            if (current.available < payment.credits) {
              return { status: 'insufficient', payment, balance: current } as const;
            }
            await insertEntry(q, {
              userId: payment.userId,
              kind: 'stars_refund',
              available: -payment.credits,
              held: 0,
              paymentId: payment.id,
              cid,
            });
            await q.query(`UPDATE ${PAYMENTS} SET refunded_at = now() WHERE id = $1`, [payment.id], {
              operation: 'UPDATE',
              table: PAYMENTS,
            });
            const balance = await applyToAccount(q, payment.userId, -payment.credits, 0);
            return { status: 'refunded', payment: { ...payment, refunded: true }, balance } as const;
          }),
      ),

    findPayment: (chargeId, tx) => readPayment(tx ?? db, chargeId, false),

    async entries(userId, { limit = 50 } = {}) {
      const { rows } = await db.query<EntryRow>(
        `SELECT id, user_id, kind, available, held, payment_id, job_id, bonus_key, cid, created_at
         FROM ${ENTRIES} WHERE user_id = $1 ORDER BY id DESC LIMIT $2`,
        [userId, limit],
        { operation: 'SELECT', table: ENTRIES },
      );
      return rows.map(entryOf);
    },

    async audit() {
      const { rows } = await db.query<AuditRow>(
        `SELECT coalesce(a.user_id, l.user_id) AS user_id,
                coalesce(a.available, 0) AS cached_available, coalesce(a.held, 0) AS cached_held,
                coalesce(l.available, 0)::int AS ledger_available, coalesce(l.held, 0)::int AS ledger_held
         FROM ${ACCOUNTS} a
         FULL JOIN (SELECT user_id, sum(available) AS available, sum(held) AS held
                    FROM ${ENTRIES} GROUP BY user_id) l ON l.user_id = a.user_id
         WHERE coalesce(a.available, 0) <> coalesce(l.available, 0)
            OR coalesce(a.held, 0) <> coalesce(l.held, 0)`,
        [],
        { operation: 'SELECT', table: ENTRIES },
      );
      return rows.map((row) => ({
        userId: Number(row.user_id),
        cached: { available: row.cached_available, held: row.cached_held },
        ledger: { available: row.ledger_available, held: row.ledger_held },
      }));
    },
  };
}

/**
 * Charges or refunds a job's reservation. The new entry is built from the reservation in one statement,
 * and the unique index on settled jobs turns a second settlement (a duplicate callback, a sweep racing
 * the callback) into no row at all.
 */
async function settle(
  q: Queryable,
  kind: 'charge' | 'refund',
  jobId: string,
  cid: string | undefined,
): Promise<SettleResult> {
  const { rows } = await q.query<{ user_id: string | number; held: number }>(
    `INSERT INTO ${ENTRIES} (user_id, kind, available, held, job_id, cid)
     SELECT user_id, $2, CASE WHEN $2 = 'refund' THEN held ELSE 0 END, -held, job_id, $3
     FROM ${ENTRIES} WHERE job_id = $1 AND kind = 'reserve'
     ON CONFLICT DO NOTHING
     RETURNING user_id, held`,
    [jobId, kind, cid ?? null],
    { operation: 'INSERT', table: ENTRIES },
  );
  const row = rows[0];
  if (!row) {
    const prior = await q.query<{ kind: 'charge' | 'refund' }>(
      `SELECT kind FROM ${ENTRIES} WHERE job_id = $1 AND kind IN ('charge', 'refund')`,
      [jobId],
      { operation: 'SELECT', table: ENTRIES },
    );
    const settledAs = prior.rows[0]?.kind;
    return settledAs ? { status: 'already_settled', settledAs } : { status: 'not_reserved' };
  }
  const userId = Number(row.user_id);
  const amount = -row.held;
  const balance = await applyToAccount(q, userId, kind === 'refund' ? amount : 0, -amount);
  return { status: kind === 'charge' ? 'charged' : 'refunded', userId, amount, balance };
}

interface NewEntry {
  userId: number;
  kind: EntryKind;
  available: number;
  held: number;
  paymentId?: number;
  jobId?: string;
  bonusKey?: string;
  cid: string | undefined;
}

/** Appends an entry; false when a unique index says it exists already (the exactly-once keys). */
async function insertEntry(q: Queryable, entry: NewEntry): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO ${ENTRIES} (user_id, kind, available, held, payment_id, job_id, bonus_key, cid)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT DO NOTHING`,
    [
      entry.userId,
      entry.kind,
      entry.available,
      entry.held,
      entry.paymentId ?? null,
      entry.jobId ?? null,
      entry.bonusKey ?? null,
      entry.cid ?? null,
    ],
    { operation: 'INSERT', table: ENTRIES },
  );
  return rowCount === 1;
}

/**
 * Adds an entry's effect to the cached account, opening it on a user's first credit. Two statements, not an
 * upsert: Postgres checks `available >= 0` on the row an upsert proposes, so a debit could never upsert.
 */
async function applyToAccount(
  q: Queryable,
  userId: number,
  available: number,
  held: number,
): Promise<Balance> {
  await q.query(`INSERT INTO ${ACCOUNTS} (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING`, [userId], {
    operation: 'INSERT',
    table: ACCOUNTS,
  });
  const { rows } = await q.query<Balance>(
    `UPDATE ${ACCOUNTS} SET available = available + $2, held = held + $3, updated_at = now()
     WHERE user_id = $1 RETURNING available, held`,
    [userId, available, held],
    { operation: 'UPDATE', table: ACCOUNTS },
  );
  return rows[0] ?? ZERO;
}

async function readBalance(q: Queryable, userId: number, lock: boolean): Promise<Balance> {
  const { rows } = await q.query<Balance>(
    `SELECT available, held FROM ${ACCOUNTS} WHERE user_id = $1${lock ? ' FOR UPDATE' : ''}`,
    [userId],
    { operation: 'SELECT', table: ACCOUNTS },
  );
  return rows[0] ?? ZERO;
}

const PAYMENT_COLUMNS =
  'id, telegram_payment_charge_id, user_id, package_id, stars, credits, cid, refunded_at IS NOT NULL AS refunded';

interface PaymentRow {
  id: string | number;
  telegram_payment_charge_id: string;
  user_id: string | number;
  package_id: string;
  stars: number;
  credits: number;
  cid: string | null;
  refunded: boolean;
}

async function readPayment(q: Queryable, chargeId: string, lock: boolean): Promise<Payment | undefined> {
  const { rows } = await q.query<PaymentRow>(
    `SELECT ${PAYMENT_COLUMNS} FROM ${PAYMENTS} WHERE telegram_payment_charge_id = $1${lock ? ' FOR UPDATE' : ''}`,
    [chargeId],
    { operation: 'SELECT', table: PAYMENTS },
  );
  return rows[0] ? paymentOf(rows[0]) : undefined;
}

/** bigint columns arrive as strings from pg; ids and amounts here stay far below 2^53. */
function paymentOf(row: PaymentRow): Payment {
  return {
    id: Number(row.id),
    telegramPaymentChargeId: row.telegram_payment_charge_id,
    userId: Number(row.user_id),
    packageId: row.package_id,
    stars: row.stars,
    credits: row.credits,
    cid: row.cid ?? undefined,
    refunded: row.refunded,
  };
}

interface EntryRow {
  id: string | number;
  user_id: string | number;
  kind: EntryKind;
  available: number;
  held: number;
  payment_id: string | number | null;
  job_id: string | null;
  bonus_key: string | null;
  cid: string | null;
  created_at: Date;
}

function entryOf(row: EntryRow): LedgerEntry {
  return {
    id: Number(row.id),
    userId: Number(row.user_id),
    kind: row.kind,
    available: row.available,
    held: row.held,
    paymentId: row.payment_id === null ? undefined : Number(row.payment_id),
    jobId: row.job_id ?? undefined,
    bonusKey: row.bonus_key ?? undefined,
    cid: row.cid ?? undefined,
    createdAt: row.created_at,
  };
}

interface AuditRow {
  user_id: string | number;
  cached_available: number;
  cached_held: number;
  ledger_available: number;
  ledger_held: number;
}

function settledCredits(result: SettleResult): Written | undefined {
  return result.status === 'charged' || result.status === 'refunded' ? { credits: result.amount } : undefined;
}

/**
 * The entry's cid: the given one, or the active span's trace id. With tracing off (OTEL_SDK_DISABLED) the
 * trace id is all zeros and there is no cid to record (undefined). Anything else that is not a trace id,
 * or no span at all, is a caller's mistake.
 */
export function cidOf(input: Caused): string | undefined {
  const cid = input.cid ?? trace.getActiveSpan()?.spanContext().traceId;
  if (cid === INVALID_TRACEID) return undefined;
  if (cid === undefined || !isValidTraceId(cid)) {
    throw new TypeError('ledger: an entry needs the cid (trace id) that caused it');
  }
  return cid;
}

function assertPositive(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`ledger: ${name} must be a positive whole number of credits, got ${value}`);
  }
}
