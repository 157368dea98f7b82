import { randomUUID } from 'node:crypto';
import { SpanKind, trace } from '@opentelemetry/api';
import { expect } from 'vitest';
import type { CreateResult } from '../../src/generation/generation.js';
import { FINAL_STATES, type Job, jobStore } from '../../src/generation/job-store.js';
import type { SimulatedUser } from '../../tools/telegram-stand-in/index.js';
import type { Harness } from '../support/harness.js';

/** An order as CONFIRM would place it: sdxl (2 credits), a prompt and its options. */
export function sdxlOrder(user: SimulatedUser, prompt = 'a lighthouse at dawn') {
  return {
    userId: user.id,
    chatId: user.id,
    model: 'sdxl',
    input: { prompt, options: { aspect: '1x1', style: 'photo' } },
    price: 2,
    locale: 'en',
  };
}

/**
 * Places an order inside a stand-in for the Generate update's root span (the bot's button does the same
 * in its handler), so the job's trace id is known to the test.
 */
export async function placeOrder(
  h: Harness,
  order: ReturnType<typeof sdxlOrder>,
): Promise<{ result: CreateResult; cid: string }> {
  return trace
    .getTracer('generation-test')
    .startActiveSpan('update callback_query', { kind: SpanKind.CONSUMER, root: true }, async (span) => {
      try {
        const result = await h.app.generation.create(order);
        return { result, cid: span.spanContext().traceId };
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
  const { result } = await placeOrder(h, sdxlOrder(user));
  if (!result.ok) throw new Error(`order refused: ${result.reasonCode}`);
  return settled(h, result.job.id);
}
