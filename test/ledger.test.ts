import { randomBytes, randomUUID } from 'node:crypto';
import { SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { StoreError } from '../src/errors.js';
import { type Ledger, openStore, type PaymentInput, type Store } from '../src/store/index.js';
import { ATTR } from '../src/telemetry/conventions.js';
import { installMemoryTracing } from './support/otel.js';
import { type IsolatedStore, STORE_ENGINES } from './support/store-engines.js';

const tracing = installMemoryTracing();
const testTracer = trace.getTracer('ledger-test');

let nextUser = 900_000_000 + (process.pid % 1000) * 10_000;
const freshUser = () => ++nextUser;
const cid = () => randomBytes(16).toString('hex');

function payment(userId: number, overrides: Partial<PaymentInput> = {}): PaymentInput {
  return {
    telegramPaymentChargeId: `stxCharge-${randomUUID()}`,
    userId,
    packageId: 'p100',
    currency: 'XTR',
    stars: 100,
    credits: 100,
    invoicePayload: 'topup:p100',
    cid: cid(),
    ...overrides,
  };
}

beforeEach(() => tracing.exporter.reset());

describe.each(STORE_ENGINES)('ledger on $kind', (engine) => {
  let isolated: IsolatedStore;
  let store: Store;
  /** A second store on the same database: another process, for the races (PostgreSQL only). */
  let other: Store;
  let ledger: Ledger;

  beforeAll(async () => {
    isolated = await engine.isolate();
    store = await openStore(isolated.options);
    other = engine.shared ? await openStore(isolated.options) : store;
    ledger = store.ledger;
  });

  afterAll(async () => {
    // Every test leaves the cache and the ledger in agreement.
    await expect(ledger.audit()).resolves.toEqual([]);
    if (other !== store) await other?.close();
    await store?.close();
    await isolated?.dispose();
  });

  /** Σ entries by kind for a user: what money-conservation assertions compare. */
  async function sums(userId: number): Promise<Record<string, { available: number; held: number }>> {
    const out: Record<string, { available: number; held: number }> = {};
    for (const entry of await ledger.entries(userId, { limit: 1000 })) {
      const sum = out[entry.kind] ?? { available: 0, held: 0 };
      out[entry.kind] = { available: sum.available + entry.available, held: sum.held + entry.held };
    }
    return out;
  }

  async function funded(credits: number): Promise<number> {
    const userId = freshUser();
    await ledger.creditPayment(payment(userId, { credits, stars: credits }));
    return userId;
  }

  describe('payments', () => {
    test('a payment credits its package, linked to the payment and the cid that caused it', async () => {
      const userId = freshUser();
      const input = payment(userId, { credits: 120 });
      const result = await ledger.creditPayment(input);

      expect(result.status).toBe('credited');
      expect(result).toMatchObject({ balance: { available: 120, held: 0 } });
      await expect(ledger.balance(userId)).resolves.toEqual({ available: 120, held: 0 });
      const [entry] = await ledger.entries(userId);
      expect(entry).toMatchObject({ kind: 'payment', available: 120, held: 0, cid: input.cid });
      expect(entry?.paymentId).toBe(result.payment.id);
      await expect(ledger.findPayment(input.telegramPaymentChargeId)).resolves.toMatchObject({
        userId,
        credits: 120,
        stars: 100,
        refunded: false,
      });
    });

    test('the same successful_payment delivered again credits nothing', async () => {
      const userId = freshUser();
      const input = payment(userId);
      const first = await ledger.creditPayment(input);
      const second = await ledger.creditPayment({ ...input, cid: cid() });

      expect(second).toEqual({ status: 'duplicate', payment: first.payment });
      await expect(ledger.balance(userId)).resolves.toEqual({ available: 100, held: 0 });
      expect(await ledger.entries(userId)).toHaveLength(1);
    });

    test('the same payment handled by several processes at once is credited exactly once', async () => {
      const userId = freshUser();
      const input = payment(userId);
      const results = await Promise.all(
        [store, other, store, other, store, other].map((s) => s.ledger.creditPayment(input)),
      );

      expect(results.filter((r) => r.status === 'credited')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(5);
      await expect(ledger.balance(userId)).resolves.toEqual({ available: 100, held: 0 });
      expect(await sums(userId)).toEqual({ payment: { available: 100, held: 0 } });
    });

    test('refunding Stars takes the credits back once and marks the payment', async () => {
      const userId = freshUser();
      const input = payment(userId, { credits: 50 });
      await ledger.creditPayment(input);
      const refundCid = cid();

      const refunded = await ledger.refundStars({
        telegramPaymentChargeId: input.telegramPaymentChargeId,
        cid: refundCid,
      });
      expect(refunded).toMatchObject({ status: 'refunded', balance: { available: 0, held: 0 } });
      const again = await ledger.refundStars({
        telegramPaymentChargeId: input.telegramPaymentChargeId,
        cid: cid(),
      });
      expect(again.status).toBe('already_refunded');
      await expect(ledger.findPayment(input.telegramPaymentChargeId)).resolves.toMatchObject({
        refunded: true,
      });
      const [last] = await ledger.entries(userId);
      expect(last).toMatchObject({ kind: 'stars_refund', available: -50, cid: refundCid });
      expect(await sums(userId)).toEqual({
        payment: { available: 50, held: 0 },
        stars_refund: { available: -50, held: 0 },
      });
    });

    test('Stars are not refunded when their credits are already spent, nor for an unknown payment', async () => {
      const userId = freshUser();
      const input = payment(userId, { credits: 10 });
      await ledger.creditPayment(input);
      await ledger.reserve({ userId, amount: 4, jobId: randomUUID(), cid: cid() });

      const refused = await ledger.refundStars({
        telegramPaymentChargeId: input.telegramPaymentChargeId,
        cid: cid(),
      });
      expect(refused).toMatchObject({ status: 'insufficient', balance: { available: 6, held: 4 } });
      await expect(ledger.findPayment(input.telegramPaymentChargeId)).resolves.toMatchObject({
        refunded: false,
      });
      await expect(
        ledger.refundStars({ telegramPaymentChargeId: `missing-${randomUUID()}`, cid: cid() }),
      ).resolves.toEqual({ status: 'unknown_payment' });
    });

    test('a refund whose Telegram call fails inside the transaction leaves the payment as it was', async () => {
      const userId = freshUser();
      const input = payment(userId, { credits: 30 });
      await ledger.creditPayment(input);
      const telegramRefused = new Error('Bad Request: CHARGE_NOT_FOUND');

      await expect(
        store.db.transaction(async (tx) => {
          const result = await ledger.refundStars(
            { telegramPaymentChargeId: input.telegramPaymentChargeId, cid: cid() },
            tx,
          );
          expect(result.status).toBe('refunded');
          throw telegramRefused;
        }),
      ).rejects.toBe(telegramRefused);
      await expect(ledger.balance(userId)).resolves.toEqual({ available: 30, held: 0 });
      await expect(ledger.findPayment(input.telegramPaymentChargeId)).resolves.toMatchObject({
        refunded: false,
      });
    });
  });

  describe('jobs', () => {
    test('reserve holds the price; charge spends it', async () => {
      const userId = await funded(10);
      const jobId = randomUUID();

      const reserved = await ledger.reserve({ userId, amount: 4, jobId, cid: cid() });
      expect(reserved).toEqual({ status: 'reserved', balance: { available: 6, held: 4 } });
      const charged = await ledger.charge({ jobId, cid: cid() });
      expect(charged).toEqual({ status: 'charged', userId, amount: 4, balance: { available: 6, held: 0 } });
      expect(await sums(userId)).toEqual({
        payment: { available: 10, held: 0 },
        reserve: { available: -4, held: 4 },
        charge: { available: 0, held: -4 },
      });
    });

    test('refund gives the price back', async () => {
      const userId = await funded(10);
      const jobId = randomUUID();
      await ledger.reserve({ userId, amount: 4, jobId, cid: cid() });

      const refunded = await ledger.refund({ jobId, cid: cid() });
      expect(refunded).toEqual({
        status: 'refunded',
        userId,
        amount: 4,
        balance: { available: 10, held: 0 },
      });
    });

    test('a job is settled once: a second charge or refund writes nothing', async () => {
      const userId = await funded(10);
      const [charged, refunded] = [randomUUID(), randomUUID()];
      await ledger.reserve({ userId, amount: 3, jobId: charged, cid: cid() });
      await ledger.reserve({ userId, amount: 3, jobId: refunded, cid: cid() });
      await ledger.charge({ jobId: charged, cid: cid() });
      await ledger.refund({ jobId: refunded, cid: cid() });

      await expect(ledger.charge({ jobId: charged, cid: cid() })).resolves.toEqual({
        status: 'already_settled',
        settledAs: 'charge',
      });
      await expect(ledger.refund({ jobId: charged, cid: cid() })).resolves.toEqual({
        status: 'already_settled',
        settledAs: 'charge',
      });
      await expect(ledger.refund({ jobId: refunded, cid: cid() })).resolves.toEqual({
        status: 'already_settled',
        settledAs: 'refund',
      });
      await expect(ledger.charge({ jobId: refunded, cid: cid() })).resolves.toEqual({
        status: 'already_settled',
        settledAs: 'refund',
      });
      await expect(ledger.balance(userId)).resolves.toEqual({ available: 7, held: 0 });
    });

    test('charge and refund racing for one job on several processes settle it exactly once', async () => {
      const userId = await funded(10);
      const jobId = randomUUID();
      await ledger.reserve({ userId, amount: 4, jobId, cid: cid() });

      const results = await Promise.all([
        store.ledger.charge({ jobId, cid: cid() }),
        other.ledger.refund({ jobId, cid: cid() }),
        other.ledger.charge({ jobId, cid: cid() }),
        store.ledger.refund({ jobId, cid: cid() }),
      ]);

      const settled = results.filter((r) => r.status === 'charged' || r.status === 'refunded');
      expect(settled).toHaveLength(1);
      const balance = await ledger.balance(userId);
      expect(balance).toEqual(
        settled[0]?.status === 'charged' ? { available: 6, held: 0 } : { available: 10, held: 0 },
      );
      const { charge, refund } = await sums(userId);
      expect((charge ? 1 : 0) + (refund ? 1 : 0)).toBe(1);
    });

    test('too little balance reserves nothing', async () => {
      const userId = await funded(3);
      const jobId = randomUUID();

      await expect(ledger.reserve({ userId, amount: 4, jobId, cid: cid() })).resolves.toEqual({
        status: 'insufficient',
        balance: { available: 3, held: 0 },
      });
      await expect(ledger.reserve({ userId: freshUser(), amount: 1, jobId, cid: cid() })).resolves.toEqual({
        status: 'insufficient',
        balance: { available: 0, held: 0 },
      });
      await expect(ledger.charge({ jobId, cid: cid() })).resolves.toEqual({ status: 'not_reserved' });
      expect(Object.keys(await sums(userId))).toEqual(['payment']);
    });

    test('a job is reserved once', async () => {
      const userId = await funded(10);
      const jobId = randomUUID();
      await ledger.reserve({ userId, amount: 4, jobId, cid: cid() });

      await expect(ledger.reserve({ userId, amount: 4, jobId, cid: cid() })).resolves.toEqual({
        status: 'duplicate',
        balance: { available: 6, held: 4 },
      });
      await expect(ledger.balance(userId)).resolves.toEqual({ available: 6, held: 4 });
    });

    test('concurrent reservations on several processes never overdraw', async () => {
      const userId = await funded(10);
      const results = await Promise.all(
        [store, other, store, other, store].map((s) =>
          s.ledger.reserve({ userId, amount: 4, jobId: randomUUID(), cid: cid() }),
        ),
      );

      expect(results.filter((r) => r.status === 'reserved')).toHaveLength(2);
      expect(results.filter((r) => r.status === 'insufficient')).toHaveLength(3);
      await expect(ledger.balance(userId)).resolves.toEqual({ available: 2, held: 8 });
    });

    test("a reservation made in the caller's transaction rolls back with it", async () => {
      const userId = await funded(10);
      const jobId = randomUUID();
      const jobCreationFailed = new Error('job insert failed');

      await expect(
        store.db.transaction(async (tx) => {
          const reserved = await ledger.reserve({ userId, amount: 4, jobId, cid: cid() }, tx);
          expect(reserved.status).toBe('reserved');
          await expect(ledger.balance(userId, tx)).resolves.toEqual({ available: 6, held: 4 });
          throw jobCreationFailed;
        }),
      ).rejects.toBe(jobCreationFailed);
      await expect(ledger.balance(userId)).resolves.toEqual({ available: 10, held: 0 });
      await expect(ledger.charge({ jobId, cid: cid() })).resolves.toEqual({ status: 'not_reserved' });
    });
  });

  describe('bonuses', () => {
    test('a bonus is granted once per user and key', async () => {
      const userId = freshUser();
      await expect(
        ledger.grantBonus({ userId, amount: 5, key: 'promo:WELCOME', cid: cid() }),
      ).resolves.toEqual({
        status: 'granted',
        balance: { available: 5, held: 0 },
      });
      await expect(
        ledger.grantBonus({ userId, amount: 5, key: 'promo:WELCOME', cid: cid() }),
      ).resolves.toEqual({
        status: 'duplicate',
      });
      await ledger.grantBonus({ userId, amount: 3, key: 'referral:42', cid: cid() });
      await ledger.grantBonus({ userId: freshUser(), amount: 5, key: 'promo:WELCOME', cid: cid() });
      await expect(ledger.balance(userId)).resolves.toEqual({ available: 8, held: 0 });
    });
  });

  describe('integrity', () => {
    test('ledger entries can be neither changed nor deleted', async () => {
      const userId = await funded(10);
      for (const sql of [
        'UPDATE ledger_entries SET available = 1000 WHERE user_id = $1',
        'DELETE FROM ledger_entries WHERE user_id = $1',
      ]) {
        const error = await store.db
          .query(sql, [userId], { operation: 'UPDATE', table: 'ledger_entries' })
          .then(
            () => expect.fail(`${sql} should be refused`),
            (reason: unknown) => reason,
          );
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).detail).toBe('23001');
      }
      await expect(ledger.balance(userId)).resolves.toEqual({ available: 10, held: 0 });
    });

    test('audit finds an account the ledger does not explain', async () => {
      const userId = await funded(10);
      await store.db.query('UPDATE accounts SET available = available + 1 WHERE user_id = $1', [userId], {
        operation: 'UPDATE',
        table: 'accounts',
      });
      try {
        await expect(ledger.audit()).resolves.toEqual([
          { userId, cached: { available: 11, held: 0 }, ledger: { available: 10, held: 0 } },
        ]);
      } finally {
        await store.db.query('UPDATE accounts SET available = available - 1 WHERE user_id = $1', [userId], {
          operation: 'UPDATE',
          table: 'accounts',
        });
      }
    });

    test('amounts must be positive whole credits', async () => {
      await expect(
        ledger.reserve({ userId: freshUser(), amount: 0, jobId: randomUUID(), cid: cid() }),
      ).rejects.toThrow(RangeError);
      await expect(
        ledger.grantBonus({ userId: freshUser(), amount: 1.5, key: 'promo:X', cid: cid() }),
      ).rejects.toThrow(RangeError);
    });
  });

  describe('telemetry', () => {
    test("without a cid the entry takes the active trace's id: the support code finds it", async () => {
      const userId = freshUser();
      const input = { ...payment(userId), cid: undefined };
      const traceId = await testTracer.startActiveSpan('update message', async (span) => {
        try {
          await ledger.creditPayment(input);
          return span.spanContext().traceId;
        } finally {
          span.end();
        }
      });

      const [entry] = await ledger.entries(userId);
      expect(entry?.cid).toBe(traceId);
      await expect(ledger.findPayment(input.telegramPaymentChargeId)).resolves.toMatchObject({
        cid: traceId,
      });
      const span = tracing.spans().find((s) => s.name === 'ledger credit');
      expect(span?.kind).toBe(SpanKind.INTERNAL);
      expect(span?.spanContext().traceId).toBe(traceId);
      expect(span?.attributes).toMatchObject({ [ATTR.LEDGER_RESULT]: 'credited', [ATTR.LEDGER_AMOUNT]: 100 });
      const queries = tracing
        .spans()
        .filter((s) => s.parentSpanContext?.spanId === span?.spanContext().spanId);
      expect(queries.map((s) => s.name)).toEqual(
        expect.arrayContaining(['INSERT payments', 'INSERT ledger_entries', 'UPDATE accounts']),
      );
    });

    test('an entry with no cause is refused before anything is written', async () => {
      const userId = freshUser();
      await expect(ledger.creditPayment({ ...payment(userId), cid: undefined })).rejects.toThrow(/cid/);
      await expect(
        ledger.grantBonus({ userId, amount: 1, key: 'promo:X', cid: 'not-a-trace-id' }),
      ).rejects.toThrow(/cid/);
      expect(await ledger.entries(userId)).toEqual([]);
    });

    test('with tracing off (an all-zero trace id) the entry is written without a cid', async () => {
      const userId = freshUser();
      const result = await ledger.creditPayment({ ...payment(userId), cid: '0'.repeat(32) });
      expect(result.status).toBe('credited');
      const [entry] = await ledger.entries(userId);
      expect(entry).toMatchObject({ kind: 'payment', cid: undefined });
    });

    test('each result is on its span', async () => {
      const userId = await funded(2);
      const jobId = randomUUID();
      await ledger.reserve({ userId, amount: 5, jobId, cid: cid() });
      await ledger.refund({ jobId, cid: cid() });
      const results = Object.fromEntries(
        tracing
          .spans()
          .filter((s) => s.name.startsWith('ledger '))
          .map((s) => [s.name, s.attributes[ATTR.LEDGER_RESULT]]),
      );
      expect(results).toEqual({
        'ledger credit': 'credited',
        'ledger reserve': 'insufficient',
        'ledger refund': 'not_reserved',
      });
    });
  });
});
