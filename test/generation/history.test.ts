import type { Message } from 'grammy/types';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { jobRef } from '../../src/generation/job-ref.js';
import { type Job, jobStore } from '../../src/generation/job-store.js';
import { ATTR, SPAN } from '../../src/telemetry/conventions.js';
import { encodeCallbackData } from '../../src/ui/callback-data.js';
import type { SimulatedUser } from '../../tools/telegram-stand-in/index.js';
import { freshUserId, type Harness, startHarness } from '../support/harness.js';
import { isolatedPostgres } from '../support/isolated-db.js';
import { credit, expectMoneyConserved, placeOrder, settled } from './support.js';

// Each test starts a bot (PGlite or PostgreSQL, pg-boss) and waits for jobs.
vi.setConfig({ testTimeout: 90_000 });

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function harness(env: Record<string, string> = {}, engine: 'PGlite' | 'PostgreSQL' = 'PGlite') {
  let h: Harness;
  if (engine === 'PostgreSQL') {
    const db = await isolatedPostgres('history');
    cleanups.push(() => db.dispose());
    h = await startHarness({
      env: { LOCAL_PROVIDER_DELAY_MS: '50', DATABASE_URL: db.databaseUrl, ...env },
      queueSchema: db.queueSchema,
    });
  } else {
    h = await startHarness({ env: { LOCAL_PROVIDER_DELAY_MS: '50', ...env } });
  }
  cleanups.push(() => h.stop());
  return h;
}

function newUser(h: Harness): SimulatedUser {
  return h.standIn.user({ id: freshUserId(), first_name: 'Hana', language_code: 'en' });
}

/** The bot's message in the chat whose keyboard has a button with this label. */
function withButton(h: Harness, user: SimulatedUser, label: string): Message {
  const found = h.standIn
    .messages(user.id)
    .findLast((m) => m.reply_markup?.inline_keyboard.flat().some((b) => b.text === label));
  if (!found) throw new Error(`no message with a "${label}" button`);
  return found;
}

function labels(message: Message | undefined): string[] {
  return message?.reply_markup?.inline_keyboard.flat().map((b) => b.text) ?? [];
}

async function openHistory(h: Harness, user: SimulatedUser) {
  await h.act(() => user.sendCommand('/start'));
  return h.act(() => user.press(h.standIn.lastMessage(user.id) as Message, '🕘 History'));
}

/** A finished job of the user's, written as the job's own steps would leave it (for paging). */
async function pastJob(h: Harness, userId: number, n: number): Promise<Job> {
  const id = crypto.randomUUID();
  await h.app.store.db.transaction(async (tx) => {
    await jobStore.create(tx, {
      id,
      userId,
      chatId: userId,
      model: 'sdxl',
      input: { prompt: `picture ${n}`, options: { aspect: '1x1', style: 'photo' } },
      price: 2,
      locale: 'en',
      traceparent: `00-${'3'.repeat(32)}-${'4'.repeat(16)}-01`,
      cid: '3'.repeat(32),
      deadlineAt: new Date(Date.now() + 60_000),
    });
    // Spread over time so the order is the creation order.
    await tx.query(
      `UPDATE jobs SET state = 'failed', reason_code = 'PROVIDER_ERROR',
         created_at = now() - make_interval(mins => $2) WHERE id = $1`,
      [id, 100 - n],
      { operation: 'UPDATE', table: 'jobs' },
    );
  });
  return (await jobStore.get(h.app.store.db, id)) as Job;
}

describe.each(['PGlite', 'PostgreSQL'] as const)('History and Repeat on %s', (engine) => {
  test('a delivered result is in History, opens again from Telegram’s copy, and Repeat generates it again under its own cid', async () => {
    const h = await harness({}, engine);
    const user = newUser(h);
    await credit(h, user.id, 10);
    const { result } = await placeOrder(h, user, 'a lighthouse at dawn');
    if (!result.ok) throw new Error('order refused');
    const first = await settled(h, result.job.id);
    expect(first.state).toBe('delivered');

    // The result carries its Repeat button; its file_id is kept for History.
    const [delivery] = await h.standIn.waitFor({ method: 'sendPhoto' });
    const resultMessage = h.standIn.messages(user.id).find((m) => m.photo !== undefined) as Message;
    expect(labels(resultMessage)).toEqual(['🔁 Repeat']);
    const fileId = resultMessage.photo?.at(-1)?.file_id;
    expect(first.resultFile).toEqual({ fileId, kind: 'photo' });
    expect(delivery?.params.reply_markup).toBeDefined();

    // History lists it: model, status, price, time.
    const opened = await openHistory(h, user);
    expect(opened).toMatchObject({ reasonCode: 'SUCCESS', handler: 'history', screenId: 'HISTORY' });
    const list = h.standIn.lastMessage(user.id) as Message;
    expect(list.text).toMatch(
      /^🕘 Your generations, page 1:\n1\. ✅ Stable Diffusion XL · 2 cr · \w+ \d+, \d\d:\d\d UTC$/,
    );
    expect(labels(list)).toEqual(['1. Stable Diffusion XL', '⬅️ Back']);

    // Opening the entry re-sends the same file (no provider call), with a fresh Repeat button.
    const photosBefore = h.standIn.calls.filter((c) => c.method === 'sendPhoto').length;
    const reopened = await h.act(() => user.press(list, '1. Stable Diffusion XL'));
    expect(reopened).toMatchObject({ reasonCode: 'SUCCESS', handler: 'history', screenId: 'RESULT' });
    const resent = h.standIn.calls.filter((c) => c.method === 'sendPhoto').slice(photosBefore);
    expect(resent.map((c) => c.params.photo)).toEqual([fileId]);
    expect(labels(h.standIn.lastMessage(user.id))).toEqual(['🔁 Repeat']);
    // The list is still the live screen: its buttons keep working.
    expect(labels(h.standIn.messages(user.id).find((m) => m.message_id === list.message_id))).toContain(
      '1. Stable Diffusion XL',
    );

    // Repeat on the original result: the same model and input, a new job in the Repeat press's trace.
    const repeated = await h.act(() => user.press(resultMessage, '🔁 Repeat'));
    expect(repeated).toMatchObject({ reasonCode: 'SUCCESS', handler: 'generate', screenId: 'QUEUED' });
    expect(h.standIn.lastMessage(user.id)?.text).toBe(
      '⏳ Stable Diffusion XL: queued. Your result arrives here.',
    );
    const { rows } = await h.app.store.db.query<{ id: string }>(
      'SELECT id FROM jobs WHERE cid = $1',
      [repeated.traceId],
      { operation: 'SELECT', table: 'jobs' },
    );
    const second = await settled(h, rows[0]?.id ?? '');
    expect(second).toMatchObject({
      state: 'delivered',
      model: 'sdxl',
      input: first.input,
      repeatOf: first.id,
    });
    await h.standIn.waitFor({ method: 'sendPhoto', count: photosBefore + 2 });
    const enqueue = h
      .finishedSpans()
      .find((s) => s.name === SPAN.JOB_ENQUEUE && s.spanContext().traceId === repeated.traceId);
    expect(enqueue?.attributes[ATTR.JOB_REPEAT_OF]).toBe(first.id);
    await expectMoneyConserved(h, user.id, { credited: 10, delivered: 4 });

    // History now shows both, newest first.
    await openHistory(h, user);
    expect(labels(h.standIn.lastMessage(user.id))).toEqual([
      '1. Stable Diffusion XL',
      '2. Stable Diffusion XL',
      '⬅️ Back',
    ]);
  });
});

test('a double tap on Repeat queues and charges one job; the second press is told it is already queued', async () => {
  // A slow provider keeps the first repeat open while the second press arrives.
  const h = await harness({ LOCAL_PROVIDER_DELAY_MS: '3000' });
  const user = newUser(h);
  await credit(h, user.id, 10);
  const { result } = await placeOrder(h, user);
  if (!result.ok) throw new Error('order refused');
  await settled(h, result.job.id);
  const resultMessage = withButton(h, user, '🔁 Repeat');

  const presses = h.waitForOutcomes(2);
  await user.press(resultMessage, '🔁 Repeat');
  await user.press(resultMessage, '🔁 Repeat');
  const outcomes = (await presses).map((s) => [s.reasonCode, s.detail]);
  expect(outcomes).toEqual([
    ['SUCCESS', undefined],
    ['STATE_MISMATCH', 'a repeat of this result is already queued'],
  ]);
  const answer = h.standIn.calls.filter((c) => c.method === 'answerCallbackQuery').at(-1);
  expect(answer?.params.text).toBe('Already queued: the result arrives here.');
  const jobs = await h.app.store.db.query('SELECT id FROM jobs WHERE repeat_of = $1', [result.job.id], {
    operation: 'SELECT',
    table: 'jobs',
  });
  expect(jobs.rowCount).toBe(1);
  const repeatJob = (jobs.rows[0] as { id: string }).id;
  await settled(h, repeatJob);
  await expectMoneyConserved(h, user.id, { credited: 10, delivered: 4 });

  // Once that repeat is delivered, the same result can be repeated again.
  const again = await h.act(() => user.press(resultMessage, '🔁 Repeat'));
  expect(again.reasonCode).toBe('SUCCESS');
});

test('a failed job in History says why, that it was refunded, and its support code', async () => {
  const h = await harness({ LOCAL_PROVIDER_FAULT: 'error' });
  const user = newUser(h);
  await credit(h, user.id, 10);
  const { result, cid } = await placeOrder(h, user);
  if (!result.ok) throw new Error('order refused');
  expect((await settled(h, result.job.id)).state).toBe('failed');

  await openHistory(h, user);
  const list = h.standIn.lastMessage(user.id) as Message;
  expect(list.text).toMatch(/\n1\. ❌ Stable Diffusion XL · 2 cr · .+ UTC · refunded$/);
  const opened = await h.act(() => user.press(list, '1. Stable Diffusion XL'));
  expect(opened).toMatchObject({ reasonCode: 'SUCCESS', screenId: 'RESULT' });
  const told = h.standIn.lastMessage(user.id);
  expect(told?.text).toBe(
    `The Stable Diffusion XL generation failed at the provider. Your 2 credits were refunded. Support code: ${cid}`,
  );
  // The support code is one tap to copy.
  expect(told?.entities).toContainEqual(expect.objectContaining({ type: 'code' }));
  // A failed result has nothing to repeat.
  expect(labels(told)).toEqual([]);
  await expectMoneyConserved(h, user.id, { credited: 10, delivered: 0 });
});

test('History pages five jobs at a time, newest first, with ◀ ▶', async () => {
  const h = await harness();
  const user = newUser(h);
  for (let n = 1; n <= 7; n++) await pastJob(h, user.id, n);

  await openHistory(h, user);
  const list = h.standIn.lastMessage(user.id) as Message;
  expect(labels(list)).toEqual([
    '1. Stable Diffusion XL',
    '2. Stable Diffusion XL',
    '3. Stable Diffusion XL',
    '4. Stable Diffusion XL',
    '5. Stable Diffusion XL',
    '▶',
    '⬅️ Back',
  ]);
  const next = await h.act(() => user.press(list, '▶'));
  expect(next).toMatchObject({ reasonCode: 'SUCCESS', screenId: 'HISTORY' });
  const page2 = h.standIn.messages(user.id).find((m) => m.message_id === list.message_id) as Message;
  expect(page2.text?.split('\n')[0]).toBe('🕘 Your generations, page 2:');
  expect(labels(page2)).toEqual(['6. Stable Diffusion XL', '7. Stable Diffusion XL', '◀', '⬅️ Back']);
  // Entry 7 is the oldest job.
  await h.act(() => user.press(page2, '7. Stable Diffusion XL'));
  expect(h.standIn.lastMessage(user.id)?.text).toContain('failed at the provider');
  await h.act(() => user.press(page2, '◀'));
  expect(labels(h.standIn.messages(user.id).find((m) => m.message_id === list.message_id))).toContain('▶');
});

test('a new user’s History is empty; forged or foreign job buttons open nothing; Repeat checks the balance', async () => {
  const h = await harness();
  const owner = newUser(h);
  await credit(h, owner.id, 2);
  const { result } = await placeOrder(h, owner);
  if (!result.ok) throw new Error('order refused');
  await settled(h, result.job.id);

  const stranger = newUser(h);
  await openHistory(h, stranger);
  const list = h.standIn.lastMessage(stranger.id) as Message;
  expect(list.text).toBe('🕘 No generations yet. Pick a category in the menu to make your first.');
  expect(labels(list)).toEqual(['⬅️ Back']);

  // Someone else's job id, and one that is no job at all: nothing is read out or re-sent.
  for (const ref of [jobRef(result.job.id), 'f'.repeat(32)]) {
    const pressed = await h.act(() =>
      stranger.pressData(list, encodeCallbackData('HISTORY', 'HISTORY_JOB', [ref])),
    );
    expect(pressed).toMatchObject({ reasonCode: 'UNKNOWN_ACTION', detail: 'no such job of this user' });
    const repeat = await h.act(() => stranger.pressData(list, encodeCallbackData('RESULT', 'REPEAT', [ref])));
    expect(repeat).toMatchObject({ reasonCode: 'UNKNOWN_ACTION', detail: 'no such job of this user' });
  }
  expect(h.standIn.messages(stranger.id).some((m) => m.photo)).toBe(false);

  // The owner spent everything: Repeat refuses with the top-up hint and reserves nothing.
  const pressed = await h.act(() => owner.press(withButton(h, owner, '🔁 Repeat'), '🔁 Repeat'));
  expect(pressed.reasonCode).toBe('INSUFFICIENT_FUNDS');
  const answer = h.standIn.calls.filter((c) => c.method === 'answerCallbackQuery').at(-1);
  expect(answer?.params.text).toBe('Not enough credits for this generation. Top up your balance first.');
  await expectMoneyConserved(h, owner.id, { credited: 2, delivered: 2 });
});
