import { Api } from 'grammy';
import type { Message, Update } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Store } from '../src/store/index.js';
import { ATTR, SPAN } from '../src/telemetry/conventions.js';
import type { SimulatedUser } from '../tools/telegram-stand-in/index.js';
import { freshUserId, type Harness, startHarness, TEST_TOKEN } from './support/harness.js';
import { TraceView } from './support/telemetry-assertions.js';

/** One sample of the bot's own /metrics, 0 when the series is absent. */
async function metric(h: Harness, series: string): Promise<number> {
  const text = await (await fetch(`${h.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/** The stand-in's record of what the bot answered to each pre-checkout query. */
function preCheckoutAnswers(h: Harness) {
  return h.standIn.calls
    .filter((call) => call.method === 'answerPreCheckoutQuery')
    .map((call) => ({ ok: call.params.ok, error_message: call.params.error_message }));
}

function invoiceIn(h: Harness, chatId: number): Message {
  const invoice = h.standIn.messages(chatId).findLast((message) => message.invoice !== undefined);
  expect(invoice, 'an invoice message').toBeDefined();
  return invoice as Message;
}

/**
 * Money is conserved: the balance the user sees equals the sum of their ledger entries, which equals
 * what they paid in plus bonuses minus refunds (no generations run in these journeys), and the cached
 * account agrees with the ledger for everyone.
 */
async function expectLedger(store: Store, userId: number, expected: { paid: number; bonus?: number }) {
  const entries = await store.ledger.entries(userId, { limit: 1000 });
  const sum = (kind: string) =>
    entries.filter((e) => e.kind === kind).reduce((total, e) => total + e.available, 0);
  const total = entries.reduce((acc, e) => acc + e.available, 0);
  expect(sum('payment') + sum('stars_refund')).toBe(expected.paid);
  expect(sum('bonus')).toBe(expected.bonus ?? 0);
  expect(total).toBe(expected.paid + (expected.bonus ?? 0));
  await expect(store.ledger.balance(userId)).resolves.toEqual({ available: total, held: 0 });
  await expect(store.ledger.audit()).resolves.toEqual([]);
}

describe.each([
  { store: 'PGlite', postgres: false },
  { store: 'Postgres', postgres: true },
])('top-ups with Telegram Stars on $store', ({ postgres }) => {
  let h: Harness;
  const adminId = freshUserId();

  beforeAll(async () => {
    h = await startHarness({ postgres, env: { ADMIN_IDS: String(adminId), REFERRAL_BONUS: '10' } });
  });
  afterAll(() => h.stop());

  async function openBalance(user: SimulatedUser): Promise<Message> {
    await h.act(() => user.sendCommand('/start'));
    await h.act(() => user.press(h.standIn.lastMessage(user.id) as Message, '💰 Balance'));
    return h.standIn.lastMessage(user.id) as Message;
  }

  /** Balance → a package → the invoice → Pay: pre-checkout, then Telegram's successful_payment. */
  async function topUp(user: SimulatedUser, button: string) {
    const balance = await openBalance(user);
    await h.act(() => user.press(balance, button));
    const invoice = invoiceIn(h, user.id);
    const both = h.waitForOutcomes(2);
    await user.pay(invoice);
    const [preCheckout, payment] = await both;
    return { invoice, preCheckout, payment };
  }

  function newUser(name = 'Payer'): SimulatedUser {
    return h.standIn.user({ id: freshUserId(), first_name: name, language_code: 'en' });
  }

  test('a top-up: Balance offers packages, the invoice is in Stars, the payment credits the balance', async () => {
    const alice = newUser('Alice');
    const balance = await openBalance(alice);
    expect(balance.text).toContain('Balance: 0 credits');
    expect(balance.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual([
      '50 ⭐ → 50 credits',
      '150 ⭐ → 165 credits',
      '500 ⭐ → 600 credits',
      '⬅️ Back',
    ]);

    const starsBefore = await metric(h, 'tracegram_payments_stars_total{package="s150"}');
    const { invoice, preCheckout, payment } = await topUp(alice, '150 ⭐ → 165 credits');

    const sent = h.standIn.calls.findLast((call) => call.method === 'sendInvoice');
    expect(sent?.params).toMatchObject({
      currency: 'XTR',
      provider_token: '',
      prices: [{ label: '165 credits', amount: 150 }],
      payload: 'topup.s150.165',
    });
    expect(invoice.invoice).toMatchObject({ currency: 'XTR', total_amount: 150 });

    // The pre-checkout query is its own update and trace, answered well within Telegram's 10 s.
    expect(preCheckout).toMatchObject({
      updateType: 'pre_checkout_query',
      handler: 'payments',
      reasonCode: 'SUCCESS',
    });
    expect(preCheckout.durationMs).toBeLessThan(2_000);
    expect(preCheckoutAnswers(h).at(-1)).toEqual({ ok: true, error_message: undefined });
    const received = TraceView.of(preCheckout.traceId, h.finishedSpans()).one(SPAN.RECEIVED);
    expect(received.attributes).toMatchObject({ [ATTR.PAYMENT_PACKAGE]: 's150', [ATTR.PAYMENT_STARS]: 150 });

    expect(payment).toMatchObject({ updateType: 'message', handler: 'payments', reasonCode: 'SUCCESS' });
    expect(payment.traceId).not.toBe(preCheckout.traceId);
    const shown = h.standIn.lastMessage(alice.id);
    expect(shown?.text).toContain('Payment received: +165 credits');
    expect(shown?.text).toContain('Balance: 165 credits');

    // The ledger entry names the payment and the cid of the update that credited it.
    const [entry] = await h.app.store.ledger.entries(alice.id);
    expect(entry).toMatchObject({ kind: 'payment', available: 165, cid: payment.traceId });
    const credit = TraceView.of(payment.traceId, h.finishedSpans()).one('ledger credit');
    expect(credit.attributes).toMatchObject({ [ATTR.LEDGER_RESULT]: 'credited', [ATTR.LEDGER_AMOUNT]: 165 });
    await expectLedger(h.app.store, alice.id, { paid: 165 });
    expect(await metric(h, 'tracegram_payments_stars_total{package="s150"}')).toBe(starsBefore + 150);
  });

  test('the same successful_payment delivered again credits nothing and says nothing', async () => {
    const bob = newUser('Bob');
    await topUp(bob, '50 ⭐ → 50 credits');
    const paid = h.standIn.updates.findLast(
      (u) => u.message?.successful_payment && u.message.chat.id === bob.id,
    );
    const messagesBefore = h.standIn.messages(bob.id).length;

    const again = await h.act(async () => h.standIn.redeliver(paid as Update));

    expect(again).toMatchObject({ reasonCode: 'DUPLICATE_PAYMENT', outcome: 'noop' });
    expect(h.standIn.messages(bob.id)).toHaveLength(messagesBefore);
    await expectLedger(h.app.store, bob.id, { paid: 50 });
  });

  test.each([
    {
      name: 'a wrong amount',
      payload: 'topup.s150.165',
      amount: 100,
      code: 'PAYMENT_MISMATCH',
      detail: 'amount',
    },
    {
      name: 'promised credits that differ',
      payload: 'topup.s150.999',
      amount: 150,
      code: 'PAYMENT_MISMATCH',
      detail: 'credits',
    },
    {
      name: 'an unknown package',
      payload: 'topup.s999.10',
      amount: 999,
      code: 'UNKNOWN_PACKAGE',
      detail: 'package not offered',
    },
    {
      name: 'a payload that is not ours',
      payload: 'order-7',
      amount: 50,
      code: 'PAYMENT_MISMATCH',
      detail: 'payload not ours',
    },
  ])(
    'pre-checkout with $name is refused with a clear error and nothing is charged',
    async ({ payload, amount, code, detail }) => {
      const carol = newUser('Carol');
      // An invoice made before the prices changed, or by someone else: sent straight through the Bot API.
      const api = new Api(TEST_TOKEN, { apiRoot: h.standIn.apiRoot });
      const invoice = await api.sendInvoice(carol.id, 'Top-up', 'Old invoice', payload, 'XTR', [
        { label: 'credits', amount },
      ]);

      const refused = await h.act(() => carol.pay(invoice));

      expect(refused).toMatchObject({
        updateType: 'pre_checkout_query',
        outcome: 'rejected',
        reasonCode: code,
        detail,
      });
      const answer = preCheckoutAnswers(h).at(-1);
      expect(answer?.ok).toBe(false);
      expect(answer?.error_message).toMatch(/no longer/);
      // No successful_payment follows a refused pre-checkout.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(
        h.standIn.updates.some((u) => u.message?.successful_payment && u.message.chat.id === carol.id),
      ).toBe(false);
      await expectLedger(h.app.store, carol.id, { paid: 0 });
    },
  );

  test('a blocked user cannot pay', async () => {
    const dave = newUser('Dave');
    const balance = await openBalance(dave);
    await h.act(() => dave.press(balance, '50 ⭐ → 50 credits'));
    await h.app.store.users.setBlocked(dave.id, true);

    const refused = await h.act(() => dave.pay(invoiceIn(h, dave.id)));

    expect(refused).toMatchObject({ reasonCode: 'USER_BLOCKED', outcome: 'rejected' });
    expect(preCheckoutAnswers(h).at(-1)).toMatchObject({
      ok: false,
      error_message: expect.stringContaining('/paysupport'),
    });
    await expectLedger(h.app.store, dave.id, { paid: 0 });
  });

  test.runIf(!postgres)(
    'a credit the store fails is an error with the charge id logged and counted, never silent',
    async () => {
      const mona = newUser('Mona');
      const errorsBefore = await metric(
        h,
        'tracegram_ledger_operations_total{operation="credit",result="error"}',
      );
      const balance = await openBalance(mona);
      await h.act(() => mona.press(balance, '50 ⭐ → 50 credits'));
      // The store breaks between the pre-checkout and the payment (this harness's own PGlite).
      await h.app.store.db.exec('ALTER TABLE payments RENAME TO payments_away', { operation: 'ALTER' });
      try {
        const both = h.waitForOutcomes(2);
        await mona.pay(invoiceIn(h, mona.id));
        const [, payment] = await both;
        expect(payment).toMatchObject({ outcome: 'error', reasonCode: 'DB_ERROR' });
      } finally {
        await h.app.store.db.exec('ALTER TABLE payments_away RENAME TO payments', { operation: 'ALTER' });
      }
      const paid = h.standIn.updates.findLast(
        (u) => u.message?.chat.id === mona.id && u.message.successful_payment,
      );
      const failed = h.logLines().findLast((line) => line.event === 'PAYMENT_CREDIT_FAILED');
      expect(failed).toMatchObject({
        telegram_payment_charge_id: paid?.message?.successful_payment?.telegram_payment_charge_id,
        package: 's50',
        stars: 50,
      });
      expect(h.standIn.lastMessage(mona.id)?.text).toMatch(/Support code/);
      // The first attempt and its three retries, each refused by the store.
      expect(await metric(h, 'tracegram_ledger_operations_total{operation="credit",result="error"}')).toBe(
        errorsBefore + 4,
      );
      const retries = h
        .logLines()
        .filter((l) => l.event === 'PAYMENT_CREDIT_RETRY' && l.trace_id === failed?.trace_id);
      expect(retries.map((l) => l.delay_ms)).toEqual([250, 1000, 3000]);
      await expectLedger(h.app.store, mona.id, { paid: 0 });
    },
  );

  test.runIf(!postgres)(
    'a store blip during the credit is retried: the payment is credited once, the retry is on record',
    async () => {
      const nina = newUser('Nina');
      const balance = await openBalance(nina);
      await h.act(() => nina.press(balance, '50 ⭐ → 50 credits'));
      const retriesBefore = h.logLines().filter((l) => l.event === 'PAYMENT_CREDIT_RETRY').length;
      // The store fails the first attempt and is back before the retry (the first wait is 250 ms).
      await h.app.store.db.exec('ALTER TABLE payments RENAME TO payments_away', { operation: 'ALTER' });
      const restored = (async () => {
        await vi.waitFor(
          () =>
            expect(h.logLines().filter((l) => l.event === 'PAYMENT_CREDIT_RETRY').length).toBeGreaterThan(
              retriesBefore,
            ),
          { timeout: 10_000, interval: 5 },
        );
        await h.app.store.db.exec('ALTER TABLE payments_away RENAME TO payments', { operation: 'ALTER' });
      })();
      const both = h.waitForOutcomes(2);
      await nina.pay(invoiceIn(h, nina.id));
      const [, payment] = await both;
      await restored;
      expect(payment).toMatchObject({ outcome: 'success', reasonCode: 'SUCCESS' });
      const retry = h.logLines().findLast((l) => l.event === 'PAYMENT_CREDIT_RETRY');
      expect(retry).toMatchObject({ attempt: 1, delay_ms: 250, trace_id: payment?.traceId });
      expect(
        h.logLines().some((l) => l.event === 'PAYMENT_CREDIT_FAILED' && l.trace_id === payment?.traceId),
      ).toBe(false);
      await expectLedger(h.app.store, nina.id, { paid: 50 });
      expect(h.standIn.lastMessage(nina.id)?.text).toContain('50 credits');
    },
  );

  test('/paysupport answers', async () => {
    const erin = newUser('Erin');
    const summary = await h.act(() => erin.sendCommand('/paysupport'));
    expect(summary).toMatchObject({ reasonCode: 'SUCCESS', handler: 'payments' });
    expect(h.standIn.lastMessage(erin.id)?.text).toContain('Something wrong with a payment?');
  });

  test('an admin refunds Stars once: Telegram returns them, the ledger takes the credits back', async () => {
    const frank = newUser('Frank');
    await topUp(frank, '50 ⭐ → 50 credits');
    const chargeId = h.standIn.updates.findLast(
      (u) => u.message?.chat.id === frank.id && u.message.successful_payment,
    )?.message?.successful_payment?.telegram_payment_charge_id as string;
    const admin = h.standIn.user({ id: adminId, first_name: 'Admin', language_code: 'en' });

    const notAdmin = await h.act(() => frank.sendCommand(`/refund ${chargeId}`));
    expect(notAdmin).toMatchObject({ reasonCode: 'FORBIDDEN' });
    expect(h.standIn.starPayment(chargeId)?.refunded).toBe(false);

    const refunded = await h.act(() => admin.sendCommand(`/refund ${chargeId}`));
    expect(refunded).toMatchObject({ reasonCode: 'SUCCESS', handler: 'payments' });
    expect(h.standIn.lastMessage(adminId)?.text).toContain('Refunded 50 ⭐');
    expect(h.standIn.starPayment(chargeId)?.refunded).toBe(true);
    const [entry] = await h.app.store.ledger.entries(frank.id);
    expect(entry).toMatchObject({ kind: 'stars_refund', available: -50, cid: refunded.traceId });
    await expectLedger(h.app.store, frank.id, { paid: 0 });

    const twice = await h.act(() => admin.sendCommand(`/refund ${chargeId}`));
    expect(twice).toMatchObject({ reasonCode: 'REFUND_REFUSED', detail: 'already refunded' });
    const unknown = await h.act(() => admin.sendCommand('/refund no-such-charge'));
    expect(unknown).toMatchObject({ reasonCode: 'REFUND_REFUSED', detail: 'unknown payment' });
    expect(h.standIn.calls.filter((c) => c.method === 'refundStarPayment')).toHaveLength(1);
    expect(
      await metric(
        h,
        'tracegram_ledger_operations_total{operation="stars_refund",result="already_refunded"}',
      ),
    ).toBeGreaterThanOrEqual(1);
  });

  test('Telegram refusing a refund leaves the payment and the credits as they were', async () => {
    const gina = newUser('Gina');
    await topUp(gina, '50 ⭐ → 50 credits');
    const chargeId = h.standIn.updates.findLast(
      (u) => u.message?.chat.id === gina.id && u.message.successful_payment,
    )?.message?.successful_payment?.telegram_payment_charge_id as string;
    const admin = h.standIn.user({ id: adminId, first_name: 'Admin', language_code: 'en' });
    h.standIn.failNext('refundStarPayment', { error_code: 400, description: 'Bad Request: USER_ID_INVALID' });

    const refundsBefore = await metric(
      h,
      'tracegram_ledger_operations_total{operation="stars_refund",result="refunded"}',
    );
    const failed = await h.act(() => admin.sendCommand(`/refund ${chargeId}`));

    expect(failed).toMatchObject({ outcome: 'error', reasonCode: 'INTERNAL_ERROR' });
    expect(h.standIn.starPayment(chargeId)?.refunded).toBe(false);
    await expect(h.app.store.ledger.findPayment(chargeId)).resolves.toMatchObject({ refunded: false });
    await expectLedger(h.app.store, gina.id, { paid: 50 });
    // The refund was rolled back, so it is not counted as one.
    expect(
      await metric(h, 'tracegram_ledger_operations_total{operation="stars_refund",result="refunded"}'),
    ).toBe(refundsBefore);
  });

  test('promo codes: an admin makes one, each user redeems it once, each refusal has its reason', async () => {
    const admin = h.standIn.user({ id: adminId, first_name: 'Admin', language_code: 'en' });
    const code = `SPRING${postgres ? 'PG' : 'LITE'}${Date.now() % 100000}`;
    expect(await h.act(() => admin.sendCommand(`/newpromo ${code} 15 2`))).toMatchObject({
      reasonCode: 'SUCCESS',
    });
    const [hana, ivan, jack] = [newUser('Hana'), newUser('Ivan'), newUser('Jack')];

    expect(await h.act(() => hana.sendCommand(`/promo ${code.toLowerCase()}`))).toMatchObject({
      reasonCode: 'SUCCESS',
    });
    expect(h.standIn.lastMessage(hana.id)?.text).toContain('+15 credits. Balance: 15 credits');
    expect(await h.act(() => hana.sendCommand(`/promo ${code}`))).toMatchObject({
      reasonCode: 'PROMO_ALREADY_USED',
    });
    expect(h.standIn.lastMessage(hana.id)?.text).toBe('You have already used this promo code.');
    await h.act(() => ivan.sendCommand(`/promo ${code}`));
    expect(await h.act(() => jack.sendCommand(`/promo ${code}`))).toMatchObject({
      reasonCode: 'PROMO_EXHAUSTED',
    });
    expect(await h.act(() => jack.sendCommand('/promo NOSUCHCODE'))).toMatchObject({
      reasonCode: 'PROMO_UNKNOWN',
    });
    expect(await h.act(() => jack.sendCommand('/promo'))).toMatchObject({ reasonCode: 'VALIDATION_FAILED' });
    await h.app.store.promoCodes.upsert({
      code: `${code}X`,
      credits: 5,
      maxUses: 9,
      expiresAt: new Date(Date.now() - 1),
    });
    expect(await h.act(() => jack.sendCommand(`/promo ${code}X`))).toMatchObject({
      reasonCode: 'PROMO_EXPIRED',
    });
    expect(await h.act(() => jack.sendCommand(`/newpromo FREE 1000 1000`))).toMatchObject({
      reasonCode: 'FORBIDDEN',
    });

    await expectLedger(h.app.store, hana.id, { paid: 0, bonus: 15 });
    await expectLedger(h.app.store, ivan.id, { paid: 0, bonus: 15 });
    await expectLedger(h.app.store, jack.id, { paid: 0 });
  });

  test('a referral link attributes a new user once and credits the referrer once', async () => {
    const kate = newUser('Kate');
    const balance = await openBalance(kate);
    const link = /https:\/\/t\.me\/\w+\?start=(ref_[a-z2-7]+)/.exec(balance.text ?? '');
    expect(link, 'the Balance screen shows an invitation link').not.toBeNull();
    const [leo, known] = [newUser('Leo'), newUser('Known')];
    await h.act(() => known.sendCommand('/start'));

    await h.act(() => leo.sendCommand(`/start ${link?.[1]}`));
    await h.act(() => leo.sendCommand(`/start ${link?.[1]}`));
    await h.act(() => known.sendCommand(`/start ${link?.[1]}`));

    await expectLedger(h.app.store, kate.id, { paid: 0, bonus: 10 });
    await expectLedger(h.app.store, leo.id, { paid: 0 });
    const started = h.logLines().filter((line) => line.event === 'USER_STARTED');
    expect(started.slice(-3).map((line) => line.referral)).toEqual(['attributed', 'not_new', 'not_new']);
  });
});

describe('a payment delivered to two instances at once', () => {
  const SECRET = 'payments-race-secret';
  let first: Harness;
  let second: Harness;

  beforeAll(async () => {
    const env = { BOT_MODE: 'webhook', WEBHOOK_SECRET: SECRET, PUBLIC_URL: 'http://127.0.0.1:9' } as const;
    first = await startHarness({ postgres: true, env });
    second = await startHarness({ postgres: true, env, standIn: first.standIn });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  test('is credited exactly once', async () => {
    const userId = freshUserId();
    first.standIn.user({ id: userId, first_name: 'Race', language_code: 'en' });
    const from = { id: userId, is_bot: false, first_name: 'Race', language_code: 'en' };
    // Four distinct updates carrying one payment: redelivery of one update_id is deduplicated before any
    // journey sees it, so only the ledger's key on the charge id can make these exactly-once.
    const firstUpdateId = 100_000_000 + Math.floor(Math.random() * 1_000_000_000);
    const update = {
      message: {
        message_id: 1,
        date: Math.floor(Date.now() / 1000),
        chat: { id: userId, type: 'private', first_name: 'Race' },
        from,
        successful_payment: {
          currency: 'XTR',
          total_amount: 150,
          invoice_payload: 'topup.s150.165',
          telegram_payment_charge_id: `race-charge-${userId}`,
          provider_payment_charge_id: `race-provider-${userId}`,
        },
      },
    } as Omit<Update, 'update_id'>;
    let delivered = 0;
    const post = (h: Harness) =>
      fetch(`${h.httpUrl}/telegram/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: firstUpdateId + delivered++, ...update }),
      });

    const outcomes = Promise.all([first.waitForOutcomes(2), second.waitForOutcomes(2)]);
    const responses = await Promise.all([post(first), post(second), post(first), post(second)]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const all = (await outcomes).flat();

    expect(all.map((o) => o.reasonCode).sort()).toEqual([
      'DUPLICATE_PAYMENT',
      'DUPLICATE_PAYMENT',
      'DUPLICATE_PAYMENT',
      'SUCCESS',
    ]);
    const confirmations = first.standIn.messages(userId).filter((m) => m.text?.includes('Payment received'));
    expect(confirmations).toHaveLength(1);
    await expectLedger(first.app.store, userId, { paid: 165 });
  });
});
