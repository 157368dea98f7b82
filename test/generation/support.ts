import { randomUUID } from 'node:crypto';
import { SpanKind, trace } from '@opentelemetry/api';
import type { Message } from 'grammy/types';
import { expect } from 'vitest';
import type { SessionData } from '../../src/bot/context.js';
import type { CreateResult } from '../../src/generation/generation.js';
import { FINAL_STATES, type Job, jobStore } from '../../src/generation/job-store.js';
import { encodeCallbackData } from '../../src/ui/callback-data.js';
import type { SimulatedUser } from '../../tools/telegram-stand-in/index.js';
import type { Harness } from '../support/harness.js';

/**
 * Presses the real Generate button for an SDXL order: the chat is put on CONFIRM with the order in its
 * session (as the catalogue steps leave it; journey.test.ts walks them), then Generate is pressed on the
 * live message. `cid` is the trace id of that update: the job's cid.
 */
export async function placeOrder(
  h: Harness,
  user: SimulatedUser,
  prompt = 'a lighthouse at dawn',
): Promise<{ result: CreateResult; cid: string }> {
  await h.act(() => user.sendCommand('/start'));
  const live = h.standIn.lastMessage(user.id) as Message;
  const session: SessionData = {
    screen: 'CONFIRM',
    liveMessageId: live.message_id,
    category: 'image',
    model: 'sdxl',
    options: { aspect: '1x1', style: 'photo' },
    prompt,
  };
  await h.app.store.sessions<SessionData>().write(String(user.id), session);
  const pressed = await h.act(() => user.pressData(live, encodeCallbackData('CONFIRM', 'GENERATE', [])));
  const { rows } = await h.app.store.db.query<{ id: string }>(
    'SELECT id FROM jobs WHERE cid = $1',
    [pressed.traceId],
    {
      operation: 'SELECT',
      table: 'jobs',
    },
  );
  const job = rows[0] ? await jobStore.get(h.app.store.db, rows[0].id) : undefined;
  if (pressed.reasonCode === 'SUCCESS' && job) return { result: { ok: true, job }, cid: pressed.traceId };
  if (pressed.reasonCode === 'INSUFFICIENT_FUNDS' && !job) {
    return { result: { ok: false, reasonCode: 'INSUFFICIENT_FUNDS' }, cid: pressed.traceId };
  }
  throw new Error(`Generate ended ${pressed.reasonCode} (job ${job?.id ?? 'none'})`);
}

/** Creates a job directly, inside a root span standing in for a Generate update (for races between processes). */
export async function createInUpdate(h: Harness, user: SimulatedUser, prompt: string): Promise<Job> {
  return trace
    .getTracer('generation-test')
    .startActiveSpan('update callback_query', { kind: SpanKind.CONSUMER, root: true }, async (span) => {
      try {
        const result = await h.app.generation.create({
          userId: user.id,
          chatId: user.id,
          model: 'sdxl',
          input: { prompt, options: { aspect: '1x1', style: 'photo' } },
          price: 2,
          locale: 'en',
        });
        if (!result.ok) throw new Error(`order refused: ${result.reasonCode}`);
        return result.job;
      } finally {
        span.end();
      }
    });
}

export async function credit(h: Harness, userId: number, amount: number): Promise<void> {
  const granted = await h.app.store.ledger.grantBonus({
    userId,
    amount,
    key: `test:${randomUUID()}`,
    cid: randomUUID().replaceAll('-', ''),
  });
  expect(granted.status).toBe('granted');
}

/** Resolves with the job once it reaches a final state (delivered, failed, undeliverable). */
export async function settled(h: Harness, jobId: string, timeoutMs = 15_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await jobStore.get(h.app.store.db, jobId);
    if (job && (FINAL_STATES as readonly string[]).includes(job.state)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job?.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Money conservation for one user: nothing held once every job settled, the spendable balance is what
 * was credited minus the price of delivered work, the cache agrees with the ledger, and each job is
 * reserved once and settled once.
 */
export async function expectMoneyConserved(
  h: Harness,
  userId: number,
  expected: { credited: number; delivered: number },
): Promise<void> {
  const balance = await h.app.store.ledger.balance(userId);
  expect(balance).toEqual({ available: expected.credited - expected.delivered, held: 0 });
  expect(await h.app.store.ledger.audit()).toEqual([]);
  const entries = await h.app.store.ledger.entries(userId, { limit: 500 });
  const perJob = new Map<string, string[]>();
  for (const entry of entries) {
    if (entry.jobId) perJob.set(entry.jobId, [...(perJob.get(entry.jobId) ?? []), entry.kind].sort());
  }
  for (const kinds of perJob.values())
    expect([
      ['charge', 'reserve'],
      ['refund', 'reserve'],
    ]).toContainEqual(kinds);
}

export function logEvents(h: Harness, jobId: string): string[] {
  return h
    .logLines()
    .filter((line) => line.job_id === jobId)
    .map((line) => String(line.event));
}

/** One delivered generation, so every job metric (histograms included) has a series. */
export async function oneGeneration(h: Harness, user: SimulatedUser): Promise<Job> {
  await credit(h, user.id, 2);
  const { result } = await placeOrder(h, user);
  if (!result.ok) throw new Error(`order refused: ${result.reasonCode}`);
  return settled(h, result.job.id);
}
