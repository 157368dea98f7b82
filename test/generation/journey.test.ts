import type { Message } from 'grammy/types';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { jobStore } from '../../src/generation/job-store.js';
import { QUEUE_SPAN, SPAN } from '../../src/telemetry/conventions.js';
import type { SimulatedUser } from '../../tools/telegram-stand-in/index.js';
import { freshUserId, type Harness, startHarness } from '../support/harness.js';
import { isolatedPostgres } from '../support/isolated-db.js';
import { credit, expectMoneyConserved, settled } from './support.js';

// Each test starts a bot (PGlite, pg-boss) and waits for a job: on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 60_000 });

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const engines = {
  PGlite: async () => startHarness({ env: { LOCAL_PROVIDER_DELAY_MS: '50' } }),
  PostgreSQL: async () => {
    const db = await isolatedPostgres('journey');
    cleanups.push(() => db.dispose());
    return startHarness({
      env: { LOCAL_PROVIDER_DELAY_MS: '50', DATABASE_URL: db.databaseUrl },
      queueSchema: db.queueSchema,
    });
  },
};

/** Spans that belong to a generation's later steps (not the Generate update's own stages). */
const GENERATION_SPANS = [
  SPAN.JOB_ENQUEUE,
  QUEUE_SPAN.SEND,
  QUEUE_SPAN.PROCESS,
  SPAN.PROVIDER_SUBMIT,
  SPAN.PROVIDER_CALLBACK,
  SPAN.JOB_DELIVER,
  SPAN.PROVIDER_RESULT,
  'botapi sendChatAction',
  'botapi sendPhoto',
  'ledger reserve',
  'ledger charge',
];

/** /start → Images → SDXL → parameters → prompt → Continue: the chat stands on CONFIRM. */
async function toConfirm(h: Harness, prompt: string) {
  return toConfirmAs(
    h,
    h.standIn.user({ id: freshUserId(), first_name: 'Gina', language_code: 'en' }),
    prompt,
  );
}

async function toConfirmAs(h: Harness, user: SimulatedUser, prompt: string) {
  const last = () => h.standIn.lastMessage(user.id) as Message;
  await h.act(() => user.sendCommand('/start'));
  await h.act(() => user.press(last(), '🖼 Images'));
  await h.act(() => user.press(last(), 'Stable Diffusion XL · 2 cr'));
  await h.act(() => user.press(last(), '⚙️ Set parameters'));
  await h.act(() => user.sendText(prompt));
  await h.act(() => user.press(last(), '➡️ Continue'));
  expect(last().text).toContain('Check your order: Stable Diffusion XL, 2 credits.');
  return { user, last };
}

describe.each(Object.keys(engines) as Array<keyof typeof engines>)('Generate on %s', (engine) => {
  test('Generate → queued at once → photo delivered, charged once, every generation span in the Generate trace', async () => {
    const h = await engines[engine]();
    cleanups.push(() => h.stop());
    // The file's tests share one span exporter: start this one's count from zero.
    h.otel.spans.reset();
    const { user, last } = await toConfirm(h, 'a lighthouse at dawn');
    await credit(h, user.id, 10);

    const confirm = last();
    const pressed = await h.act(() => user.press(confirm, '✨ Generate · 2 cr'));
    expect(pressed).toMatchObject({ reasonCode: 'SUCCESS', screenId: 'QUEUED', handler: 'generate' });
    // The confirm message itself became the "queued" line, at once.
    const queued = h.standIn.messages(user.id).find((m) => m.message_id === confirm.message_id);
    expect(queued?.text).toBe('⏳ Stable Diffusion XL: queued. Your result arrives here.');

    await h.standIn.waitFor({ method: 'sendPhoto' }, 15_000);
    const photo = last();
    expect(photo.photo?.length).toBeGreaterThan(0);
    expect(photo.caption).toBe('Stable Diffusion XL');
    const [job] = (
      await h.app.store.db.query<{ id: string }>('SELECT id FROM jobs WHERE user_id = $1', [user.id], {
        operation: 'SELECT',
        table: 'jobs',
      })
    ).rows;
    expect((await settled(h, job?.id ?? '')).state).toBe('delivered');
    await expectMoneyConserved(h, user.id, { credited: 10, delivered: 2 });

    // One cid shows the whole generation: every generation span is in the Generate update's trace.
    const cid = pressed.traceId;
    expect((await jobStore.get(h.app.store.db, job?.id ?? ''))?.cid).toBe(cid);
    await expect
      .poll(() => h.finishedSpans().filter((s) => s.name === SPAN.JOB_DELIVER).length)
      .toBeGreaterThan(0);
    const inTrace = h.finishedSpans().filter((span) => span.spanContext().traceId === cid);
    for (const name of GENERATION_SPANS)
      expect(
        inTrace.map((s) => s.name),
        name,
      ).toContain(name);
    const elsewhere = h
      .finishedSpans()
      .filter((span) => GENERATION_SPANS.includes(span.name) && span.spanContext().traceId !== cid);
    expect(elsewhere.map((s) => s.name)).toEqual([]);
  }, 60_000);
});

test('a new user tops up with Stars, generates, receives the photo; the ledger holds the payment, the reservation and the charge', async () => {
  const h = await engines.PGlite();
  cleanups.push(() => h.stop());
  h.otel.spans.reset();
  const user = h.standIn.user({ id: freshUserId(), first_name: 'Stella', language_code: 'en' });
  const last = () => h.standIn.lastMessage(user.id) as Message;

  // Balance → 50 ⭐ → the invoice → Pay (pre-checkout, then successful_payment).
  await h.act(() => user.sendCommand('/start'));
  await h.act(() => user.press(last(), '💰 Balance'));
  await h.act(() => user.press(last(), '50 ⭐ → 50 credits'));
  const invoice = h.standIn.messages(user.id).findLast((m) => m.invoice !== undefined) as Message;
  const paid = h.waitForOutcomes(2);
  await user.pay(invoice);
  expect((await paid).map((s) => s.reasonCode)).toEqual(['SUCCESS', 'SUCCESS']);
  expect(await h.app.store.ledger.balance(user.id)).toEqual({ available: 50, held: 0 });

  // Then the order, and Generate.
  const { last: confirm } = await toConfirmAs(h, user, 'a fox in the snow');
  const pressed = await h.act(() => user.press(confirm(), '✨ Generate · 2 cr'));
  expect(pressed.reasonCode).toBe('SUCCESS');
  await h.standIn.waitFor({ method: 'sendPhoto' }, 15_000);
  expect(last().caption).toBe('Stable Diffusion XL');

  const [job] = (
    await h.app.store.db.query<{ id: string }>('SELECT id FROM jobs WHERE cid = $1', [pressed.traceId], {
      operation: 'SELECT',
      table: 'jobs',
    })
  ).rows;
  expect((await settled(h, job?.id ?? '')).state).toBe('delivered');
  const entries = await h.app.store.ledger.entries(user.id);
  expect(entries.map((e) => [e.kind, e.available, e.held, e.jobId ?? null]).reverse()).toEqual([
    ['payment', 50, 0, null],
    ['reserve', -2, 2, job?.id],
    ['charge', 0, -2, job?.id],
  ]);
  // The reservation and the charge are linked to the Generate press's cid.
  expect(entries.filter((e) => e.jobId).map((e) => e.cid)).toEqual([pressed.traceId, pressed.traceId]);
  expect(await h.app.store.ledger.balance(user.id)).toEqual({ available: 48, held: 0 });
  expect(await h.app.store.ledger.audit()).toEqual([]);
});

test('too few credits: INSUFFICIENT_FUNDS, the user is offered a top-up, nothing reserved', async () => {
  const h = await engines.PGlite();
  cleanups.push(() => h.stop());
  const { user, last } = await toConfirm(h, 'a lighthouse at dawn');
  await credit(h, user.id, 1);

  const confirm = last();
  const pressed = await h.act(() => user.press(confirm, '✨ Generate · 2 cr'));
  expect(pressed).toMatchObject({
    reasonCode: 'INSUFFICIENT_FUNDS',
    outcome: 'rejected',
    screenId: undefined,
  });
  const answer = h.standIn.calls.filter((call) => call.method === 'answerCallbackQuery').at(-1);
  expect(answer?.params.text).toBe('Not enough credits for this generation. Top up your balance first.');
  // The confirm screen stays, with its top-up offer.
  const still = h.standIn.messages(user.id).find((m) => m.message_id === confirm.message_id);
  expect(still?.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toContain('💰 Top up');
  expect(
    (
      await h.app.store.db.query('SELECT id FROM jobs WHERE user_id = $1', [user.id], {
        operation: 'SELECT',
        table: 'jobs',
      })
    ).rowCount,
  ).toBe(0);
  await expectMoneyConserved(h, user.id, { credited: 1, delivered: 0 });
});
