import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { QUEUE_SPAN, SPAN } from '../../src/telemetry/conventions.js';
import { freshUserId, type Harness, startHarness } from '../support/harness.js';
import { isolatedPostgres } from '../support/isolated-db.js';
import { createInUpdate, credit, expectMoneyConserved, logEvents, placeOrder, settled } from './support.js';

// Each test starts a bot (PGlite, pg-boss) and waits for a job: on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 60_000 });

/** The message that tells a user their job failed and was refunded. */
const REFUND_MESSAGE = {
  method: 'sendMessage',
  where: (call: { params: Record<string, unknown> }) => String(call.params.text).includes('refunded'),
};

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(env: Record<string, string> = {}): Promise<Harness> {
  const h = await startHarness({ env: { LOCAL_PROVIDER_DELAY_MS: '50', ...env } });
  cleanups.push(() => h.stop());
  return h;
}

/** `count` bot processes on one PostgreSQL database (and one Bot API), each with its own workers. */
async function startOnPostgres(count: number, env: Record<string, string> = {}): Promise<Harness[]> {
  const db = await isolatedPostgres('gen');
  cleanups.push(() => db.dispose());
  const first = await startHarness({
    env: { LOCAL_PROVIDER_DELAY_MS: '50', DATABASE_URL: db.databaseUrl, ...env },
    queueSchema: db.queueSchema,
  });
  cleanups.push(() => first.stop());
  const all = [first];
  for (let i = 1; i < count; i += 1) {
    const next = await startHarness({
      env: { LOCAL_PROVIDER_DELAY_MS: '50', DATABASE_URL: db.databaseUrl, ...env },
      queueSchema: db.queueSchema,
      standIn: first.standIn,
    });
    cleanups.push(() => next.stop());
    all.push(next);
  }
  return all;
}

function userOf(h: Harness) {
  return h.standIn.user({ id: freshUserId(), first_name: 'Gen', language_code: 'en' });
}

describe('a generation on the embedded defaults (PGlite, the built-in provider)', () => {
  test('enqueue → worker → provider → callback → photo, charged once, every step in the Generate trace', async () => {
    const h = await start();
    const user = userOf(h);
    await credit(h, user.id, 10);

    const { result, cid } = await placeOrder(h, user);
    if (!result.ok) throw new Error('order refused');
    const job = await settled(h, result.job.id);

    expect(job.state).toBe('delivered');
    const photo = h.standIn.lastMessage(user.id);
    expect(photo?.photo?.length).toBeGreaterThan(0);
    expect(photo?.caption).toBe('Stable Diffusion XL');
    // The file itself was uploaded (Telegram cannot fetch a URL on this machine), not a URL.
    const sent = h.standIn.calls.filter((call) => call.method === 'sendPhoto');
    expect(sent).toHaveLength(1);
    const upload = (sent[0]?.params.photo as { upload?: { filename: string; size: number } } | undefined)
      ?.upload;
    expect(upload?.filename).toBe('result.png');
    expect(upload?.size).toBeGreaterThan(500);
    await expectMoneyConserved(h, user.id, { credited: 10, delivered: 2 });

    const inTrace = h.finishedSpans().filter((span) => span.spanContext().traceId === cid);
    const names = inTrace.map((span) => span.name);
    for (const name of [
      SPAN.JOB_ENQUEUE,
      QUEUE_SPAN.SEND,
      QUEUE_SPAN.PROCESS,
      SPAN.PROVIDER_SUBMIT,
      SPAN.PROVIDER_CALLBACK,
      SPAN.JOB_DELIVER,
      SPAN.PROVIDER_RESULT,
      'botapi sendPhoto',
      'ledger reserve',
      'ledger charge',
    ]) {
      expect(names, `${name} in the Generate trace`).toContain(name);
    }
    const callback = inTrace.find((span) => span.name === SPAN.PROVIDER_CALLBACK);
    expect(callback?.kind).toBe(SpanKind.SERVER);
    expect(inTrace.every((span) => span.status.code !== SpanStatusCode.ERROR)).toBe(true);
    // The job's story in the logs, in order, all under the same cid.
    expect(logEvents(h, job.id)).toEqual([
      'JOB_ENQUEUED',
      'JOB_STARTED',
      'PROVIDER_SUBMITTED',
      'PROVIDER_CALLBACK',
      'RESULT_DELIVERED',
    ]);
    const jobLines = h.logLines().filter((line) => line.job_id === job.id);
    expect(jobLines.every((line) => line.trace_id === cid)).toBe(true);
  });

  test('too few credits: nothing reserved, no job', async () => {
    const h = await start();
    const user = userOf(h);
    await credit(h, user.id, 1);
    const { result } = await placeOrder(h, user);
    expect(result).toEqual({ ok: false, reasonCode: 'INSUFFICIENT_FUNDS' });
    await expectMoneyConserved(h, user.id, { credited: 1, delivered: 0 });
  });

  test('provider error: the job fails with PROVIDER_ERROR, is refunded once, and the user is told with the support code', async () => {
    const h = await start({ LOCAL_PROVIDER_FAULT: 'error' });
    const user = userOf(h);
    await credit(h, user.id, 10);
    const { result, cid } = await placeOrder(h, user);
    if (!result.ok) throw new Error('order refused');

    const job = await settled(h, result.job.id);
    expect(job).toMatchObject({ state: 'failed', reasonCode: 'PROVIDER_ERROR' });
    await expectMoneyConserved(h, user.id, { credited: 10, delivered: 0 });
    await h.standIn.waitFor(REFUND_MESSAGE, 5000);
    const told = h.standIn.lastMessage(user.id);
    expect(told?.text).toContain('failed at the provider. Your 2 credits were refunded.');
    expect(told?.text).toContain(`Support code: ${cid}`);
    expect(told?.entities).toContainEqual(expect.objectContaining({ type: 'code' }));
    expect(logEvents(h, job.id)).toEqual(
      expect.arrayContaining(['PROVIDER_CALLBACK', 'JOB_FAILED', 'REFUNDED']),
    );
    const failed = await finishedSpan(h, SPAN.JOB_FAIL, cid);
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(
      h
        .finishedSpans()
        .find((span) => span.name === 'ledger refund')
        ?.spanContext().traceId,
    ).toBe(cid);
  });

  test('provider timeout: a submit that gets no answer fails with DOWNSTREAM_TIMEOUT and is refunded', async () => {
    const h = await start({ LOCAL_PROVIDER_FAULT: 'timeout', JOB_TIMEOUT_S: '2' });
    const user = userOf(h);
    await credit(h, user.id, 10);
    const { result, cid } = await placeOrder(h, user);
    if (!result.ok) throw new Error('order refused');

    const job = await settled(h, result.job.id);
    expect(job).toMatchObject({ state: 'failed', reasonCode: 'DOWNSTREAM_TIMEOUT' });
    await expectMoneyConserved(h, user.id, { credited: 10, delivered: 0 });
    await h.standIn.waitFor(REFUND_MESSAGE, 5000);
    expect(h.standIn.lastMessage(user.id)?.text).toContain('took too long and was cancelled');
    const submit = await finishedSpan(h, SPAN.PROVIDER_SUBMIT, cid);
    expect(submit.attributes['error.type']).toBe('timeout');
  });

  test('no callback before the deadline: the sweep fails the job in a trace of its own, linked to the job', async () => {
    const h = await start({ LOCAL_PROVIDER_FAULT: 'no-callback', JOB_TIMEOUT_S: '2' });
    const user = userOf(h);
    await credit(h, user.id, 10);
    const { result, cid } = await placeOrder(h, user);
    if (!result.ok) throw new Error('order refused');

    const job = await settled(h, result.job.id);
    expect(job).toMatchObject({ state: 'failed', reasonCode: 'DOWNSTREAM_TIMEOUT' });
    await expectMoneyConserved(h, user.id, { credited: 10, delivered: 0 });
    const sweep = await finishedSpan(h, SPAN.JOB_SWEEP);
    expect(sweep.parentSpanContext).toBeUndefined();
    expect(sweep.spanContext().traceId).not.toBe(cid);
    expect(sweep.links.map((link) => link.context.traceId)).toEqual([cid]);
    expect(logEvents(h, job.id)).toEqual(
      expect.arrayContaining(['PROVIDER_SUBMITTED', 'JOB_EXPIRED', 'REFUNDED']),
    );
    await h.standIn.waitFor(REFUND_MESSAGE, 5000);
    expect(h.standIn.lastMessage(user.id)?.text).toContain(`Support code: ${cid}`);
  });

  test('a duplicate callback delivers and charges once', async () => {
    const h = await start({ LOCAL_PROVIDER_FAULT: 'double-callback' });
    const user = userOf(h);
    await credit(h, user.id, 10);
    const { result } = await placeOrder(h, user);
    if (!result.ok) throw new Error('order refused');

    expect((await settled(h, result.job.id)).state).toBe('delivered');
    await h.standIn.waitFor({ method: 'sendPhoto' }, 5000);
    await waitForLog(h, result.job.id, 'PROVIDER_CALLBACK_DUPLICATE');
    expect(h.standIn.calls.filter((call) => call.method === 'sendPhoto')).toHaveLength(1);
    await expectMoneyConserved(h, user.id, { credited: 10, delivered: 2 });
  });

  test('a forged callback signature is refused with 401 and a log line; the job is refunded at its deadline', async () => {
    const h = await start({ LOCAL_PROVIDER_FAULT: 'bad-signature', JOB_TIMEOUT_S: '2' });
    const user = userOf(h);
    await credit(h, user.id, 10);
    const { result } = await placeOrder(h, user);
    if (!result.ok) throw new Error('order refused');

    const job = await settled(h, result.job.id);
    expect(job).toMatchObject({ state: 'failed', reasonCode: 'DOWNSTREAM_TIMEOUT' });
    const rejected = h.logLines().filter((line) => line.event === 'PROVIDER_CALLBACK_REJECTED');
    expect(rejected).toContainEqual(expect.objectContaining({ reason: 'signature wrong', status: 401 }));
    expect(h.standIn.calls.filter((call) => call.method === 'sendPhoto')).toHaveLength(0);
    await expectMoneyConserved(h, user.id, { credited: 10, delivered: 0 });
  });

  test('delivery 403 (the user blocked the bot): undeliverable, refunded, one attempt, nobody messaged', async () => {
    const h = await start({ LOCAL_PROVIDER_DELAY_MS: '1500' });
    const user = userOf(h);
    await credit(h, user.id, 10);
    const { result } = await placeOrder(h, user);
    if (!result.ok) throw new Error('order refused');
    // Blocked after pressing Generate, before the result is ready.
    user.blockBot();
    const sentBefore = h.standIn.calls.filter((call) => call.method === 'sendMessage').length;

    const job = await settled(h, result.job.id);
    expect(job).toMatchObject({ state: 'undeliverable', reasonCode: 'BOT_BLOCKED' });
    await expectMoneyConserved(h, user.id, { credited: 10, delivered: 0 });
    expect(h.standIn.calls.filter((call) => call.method === 'sendPhoto')).toHaveLength(1);
    expect(h.standIn.calls.filter((call) => call.method === 'sendMessage')).toHaveLength(sentBefore);
    expect(h.logLines()).toContainEqual(
      expect.objectContaining({
        event: 'JOB_UNDELIVERABLE',
        job_id: job.id,
        error_code: 403,
        description: 'Forbidden: bot was blocked by the user',
      }),
    );
  });
});

describe('generation on PostgreSQL', () => {
  test('two bot processes racing: each job is taken once, delivered once, charged once', async () => {
    const [a, b] = (await startOnPostgres(2, { WORKER_CONCURRENCY: '3' })) as [Harness, Harness];
    const user = userOf(a);
    await credit(a, user.id, 20);
    const jobs: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      jobs.push((await createInUpdate(i % 2 ? a : b, user, `prompt ${i}`)).id);
    }
    for (const id of jobs) expect((await settled(a, id, 30_000)).state).toBe('delivered');

    const started = [...a.logLines(), ...b.logLines()].filter((line) => line.event === 'JOB_STARTED');
    expect(started.map((line) => line.job_id).sort()).toEqual([...jobs].sort());
    expect(a.standIn.calls.filter((call) => call.method === 'sendPhoto')).toHaveLength(6);
    await expectMoneyConserved(a, user.id, { credited: 20, delivered: 12 });
  }, 60_000);
});

/** A finished span (of trace `traceId`, if given); spans end a moment after the effects a test waits for. */
async function finishedSpan(
  h: Harness,
  name: string,
  traceId?: string,
  timeoutMs = 5000,
): Promise<ReadableSpan> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const span = h
      .finishedSpans()
      .find(
        (candidate) => candidate.name === name && (!traceId || candidate.spanContext().traceId === traceId),
      );
    if (span) return span;
    if (Date.now() > deadline) throw new Error(`no finished span ${name} in trace ${traceId ?? 'any'}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function waitForLog(h: Harness, jobId: string, event: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!logEvents(h, jobId).includes(event)) {
    if (Date.now() > deadline)
      throw new Error(`no ${event} for job ${jobId}: ${logEvents(h, jobId).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
