import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, test } from 'vitest';
import { QUEUE_SPAN, SPAN } from '../../src/telemetry/conventions.js';
import { freshUserId, type Harness, startHarness } from '../support/harness.js';
import { credit, expectMoneyConserved, logEvents, placeOrder, sdxlOrder, settled } from './support.js';

const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
});

async function start(env: Record<string, string> = {}): Promise<Harness> {
  const h = await startHarness({ env: { LOCAL_PROVIDER_DELAY_MS: '50', ...env } });
  running.push(h);
  return h;
}

function userOf(h: Harness) {
  return h.standIn.user({ id: freshUserId(), first_name: 'Gen', language_code: 'en' });
}

describe('a generation on the embedded defaults (PGlite, the built-in provider)', () => {
  test('enqueue → worker → provider → callback → photo, charged once, every step in the Generate trace', async () => {
    const h = await start();
    const user = userOf(h);
    await credit(h, user.id, 10);

    const { result, cid } = await placeOrder(h, sdxlOrder(user));
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
    const { result } = await placeOrder(h, sdxlOrder(user));
    expect(result).toEqual({ ok: false, reasonCode: 'INSUFFICIENT_FUNDS' });
    await expectMoneyConserved(h, user.id, { credited: 1, delivered: 0 });
  });
});
