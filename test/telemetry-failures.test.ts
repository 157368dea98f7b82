import type { Message } from 'grammy/types';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { freshUserId, type Harness, startHarness, testTelemetry } from './support/harness.js';

/**
 * Telemetry never breaks the bot: with the collector dead and a span processor that throws on every
 * span, users get exactly the replies they get with healthy telemetry, and the loss is counted.
 */
/**
 * A port nothing listens on: tcpmux, privileged and unused. A free port picked by listening and closing
 * could be taken by another test file's server before the export, which then answers 404 instead of
 * refusing (seen in a full run).
 */
const DEAD_PORT = 1;

let h: Harness;
const stderrLines: string[] = [];

beforeAll(async () => {
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk, ...rest) => {
    stderrLines.push(
      ...String(chunk)
        .split('\n')
        .filter((line) => line.startsWith('{')),
    );
    return write(chunk as string, ...(rest as []));
  });
  const endpoint = `http://127.0.0.1:${DEAD_PORT}`;
  // The OTLP exporters read the standard variables themselves, as in production.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '500';
  // Tiny batch queues (read through OTEL_BSP_*/OTEL_BLRP_*, as in production): while one export is in
  // flight, the spans and log records of an update no longer fit and are dropped.
  for (const prefix of ['OTEL_BSP', 'OTEL_BLRP']) {
    process.env[`${prefix}_MAX_QUEUE_SIZE`] = '2';
    process.env[`${prefix}_MAX_EXPORT_BATCH_SIZE`] = '2';
  }
  testTelemetry({
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
    spanProcessors: [
      {
        onStart: () => {
          throw new Error('hook exploded on start');
        },
        onEnd: () => {
          throw new Error('hook exploded on end');
        },
        forceFlush: () => Promise.reject(new Error('flush exploded')),
        shutdown: () => Promise.resolve(),
      },
    ],
  });
  h = await startHarness();
});
afterAll(() => h.stop());

test('a dead collector and a throwing span hook change no reply', async () => {
  const user = h.standIn.user({ id: freshUserId(), first_name: 'Quinn', language_code: 'en' });
  const act = h.act;
  expect((await act(() => user.sendCommand('/start')))?.reasonCode).toBe('SUCCESS');
  expect(h.standIn.lastMessage(user.id)?.text).toContain('Pick a category');
  expect(
    (await act(() => user.press(h.standIn.lastMessage(user.id) as Message, '🎵 Audio')))?.reasonCode,
  ).toBe('SUCCESS');
  expect(h.standIn.lastMessage(user.id)?.text).toContain('Audio: choose a model');
  expect(
    (await act(() => user.pressData(h.standIn.lastMessage(user.id) as Message, 'junk')))?.reasonCode,
  ).toBe('UNKNOWN_ACTION');
  // The healthy in-memory exporter beside the broken ones still saw everything.
  expect(h.finishedSpans().filter((s) => s.name.startsWith('update '))).toHaveLength(3);
});

test('dropped (queue full) and failed exports are counted on /metrics, where the telemetry-health alert reads them', async () => {
  await h.otel.telemetry.flush();
  const counted = (signal: 'span' | 'log', errorType: RegExp) =>
    new RegExp(
      `^otel_sdk_processor_${signal}_processed_total\\{[^}]*error_type="${errorType.source}"[^}]*\\} [1-9]`,
      'm',
    );
  const expected = [
    counted('span', /queue_full/),
    counted('log', /queue_full/),
    // The collector is dead: the batches that were sent failed.
    counted('span', /(?!queue_full)\w+/),
    counted('log', /(?!queue_full)\w+/),
  ];
  const deadline = Date.now() + 15_000;
  let metrics = '';
  while (Date.now() < deadline) {
    metrics = await (await fetch(`${h.metricsUrl}/metrics`)).text();
    if (expected.every((pattern) => pattern.test(metrics))) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  for (const pattern of expected) expect(metrics).toMatch(pattern);
});

test('a failing export is one readable TELEMETRY_ERROR line: what failed in msg, the error in detail, no stack', async () => {
  await h.otel.telemetry.flush();
  const deadline = Date.now() + 15_000;
  const errors = () =>
    stderrLines
      .map((line) => JSON.parse(line) as Record<string, string>)
      .filter((line) => line.event === 'TELEMETRY_ERROR');
  while (!errors().some((l) => /ECONNREFUSED/.test(l.detail ?? '')) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(errors().length).toBeGreaterThan(0);
  for (const line of errors()) {
    expect(line.msg, JSON.stringify(line)).not.toMatch(/^\{|\bat .+:\d+:\d+/);
    expect(line.detail).not.toMatch(/\n|\bat .+:\d+:\d+/);
  }
  // Every line about an error names it in `detail`; the SDK's own notices (queue full) say it all in `msg`.
  for (const line of errors().filter((l) => l.level === 'error')) {
    expect(line.detail, JSON.stringify(line)).toMatch(/\w+: .+/);
  }
  // The address that refused is named, so the operator knows which endpoint to look at.
  expect(errors().some((l) => /ECONNREFUSED 127\.0\.0\.1:\d+/.test(l.detail ?? ''))).toBe(true);
});
