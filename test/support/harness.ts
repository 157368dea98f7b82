import { randomInt } from 'node:crypto';
import { InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { type App, createApp } from '../../src/app.js';
import { parseConfig, type RawEnv } from '../../src/config.js';
import type { UpdateSummary } from '../../src/telemetry/grammy/index.js';
import { startTelemetry, type Telemetry, type TelemetryOptions } from '../../src/telemetry/sdk.js';
import { type BotApiStandIn, startBotApiStandIn } from '../../tools/telegram-stand-in/index.js';
import { POSTGRES_URL } from './store-engines.js';

export { POSTGRES_URL };

export const TEST_TOKEN = '123456789:AAH-test_token_value_that_must_never_leak';
/** The pseudonym key every harness bot uses, so tests can compute the pseudonyms telemetry carries. */
export const TEST_PSEUDONYM_KEY = 'test-pseudonym-key-0123456789abcdef0123456789abcdef';

export interface TestTelemetry {
  telemetry: Telemetry;
  spans: InMemorySpanExporter;
  logs: InMemoryLogRecordExporter;
  metrics: InMemoryMetricExporter;
  metricReader: PeriodicExportingMetricReader;
}

let shared: TestTelemetry | undefined;

/**
 * The app's own telemetry start-up with in-memory exporters added, once per test file (vitest runs each
 * file in its own worker, and OTel providers are process globals).
 */
export function testTelemetry(
  overrides: { env?: RawEnv; spanProcessors?: TelemetryOptions['spanProcessors'] } = {},
): TestTelemetry {
  if (shared) return shared;
  const spans = new InMemorySpanExporter();
  const logs = new InMemoryLogRecordExporter();
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const metricReader = new PeriodicExportingMetricReader({
    exporter: metrics,
    exportIntervalMillis: 3_600_000,
  });
  const telemetry = startTelemetry({
    // The telemetry variables as main.ts reads them; none set: the embedded mode.
    config: parseConfig({ BOT_TOKEN: TEST_TOKEN, ...overrides.env }).telemetry,
    serviceVersion: '0.0.0-test',
    spanProcessors: [...(overrides.spanProcessors ?? []), new SimpleSpanProcessor({ exporter: spans })],
    logProcessors: [new SimpleLogRecordProcessor({ exporter: logs })],
    metricReaders: [metricReader],
  });
  shared = { telemetry, spans, logs, metrics, metricReader };
  return shared;
}

export interface Harness {
  standIn: BotApiStandIn;
  app: App;
  httpUrl: string;
  /** Where `/metrics` is served (its own loopback listener). */
  metricsUrl: string;
  otel: TestTelemetry;
  /** Every JSON line the app logged, parsed. */
  logLines: () => Array<Record<string, unknown>>;
  /** Outcomes of finished updates, in order. */
  outcomes: UpdateSummary[];
  /** Resolves once `count` more updates than now have finished. */
  waitForOutcomes: (count: number, timeoutMs?: number) => Promise<UpdateSummary[]>;
  /** Performs one user action and resolves with the outcome of the update it caused. */
  act: (action: () => Promise<unknown>) => Promise<UpdateSummary>;
  finishedSpans: () => ReadableSpan[];
  stop: () => Promise<void>;
}

export interface HarnessOptions {
  env?: RawEnv;
  /** Use the machine's real Postgres instead of in-memory PGlite. */
  postgres?: boolean;
  now?: () => number;
  onFatal?: (reason: string) => void;
  botApiDeadlineMs?: number;
  webhookTimeoutMs?: number;
  /** Share another harness's Bot API stand-in (a second instance of the same bot); not stopped by stop(). */
  standIn?: BotApiStandIn;
}

/**
 * A first update id no other stand-in of this or an earlier run uses: Postgres keeps the ids of handled
 * updates (deduplication), and every stand-in counts from its own start.
 */
export function uniqueUpdateId(): number {
  return randomInt(1, 2 ** 40);
}

let nextUserId = 7_000_000 + (process.pid % 1000) * 1000;
/** A user id no other test in this run uses, so Postgres session rows never collide. */
export function freshUserId(): number {
  nextUserId += 1;
  return nextUserId;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const otel = testTelemetry();
  const standIn =
    options.standIn ?? (await startBotApiStandIn({ token: TEST_TOKEN, firstUpdateId: uniqueUpdateId() }));
  const config = parseConfig({
    BOT_TOKEN: TEST_TOKEN,
    TELEGRAM_API_ROOT: standIn.apiRoot,
    PORT: '0',
    METRICS_PORT: '0',
    DATA_DIR: 'memory://',
    PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
    LOG_LEVEL: 'debug',
    ...(options.postgres ? { DATABASE_URL: POSTGRES_URL } : {}),
    ...options.env,
  });
  const lines: string[] = [];
  const outcomes: UpdateSummary[] = [];
  const waiters: Array<() => void> = [];
  // One SDK serves every harness of a test file: an app's stop flushes it instead of shutting it down.
  const telemetry = { ...otel.telemetry, shutdown: () => otel.telemetry.flush() };
  const app = createApp(config, telemetry, {
    logDestination: { write: (line: string) => void lines.push(line) },
    onUpdateEnd: (summary) => {
      outcomes.push(summary);
      for (const wake of waiters.splice(0)) wake();
    },
    ...(options.now ? { now: options.now } : {}),
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
    ...(options.botApiDeadlineMs ? { botApiDeadlineMs: options.botApiDeadlineMs } : {}),
    ...(options.webhookTimeoutMs ? { webhookTimeoutMs: options.webhookTimeoutMs } : {}),
  });
  await app.start();

  const waitForOutcomes = async (count: number, timeoutMs = 10_000) => {
    const target = outcomes.length + count;
    const deadline = Date.now() + timeoutMs;
    while (outcomes.length < target) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `expected ${target} finished updates, saw ${outcomes.length}: ${JSON.stringify(outcomes)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return outcomes.slice(target - count, target);
  };

  return {
    standIn,
    app,
    httpUrl: (app.httpUrl ?? '').replace('0.0.0.0', '127.0.0.1'),
    metricsUrl: app.metricsUrl ?? '',
    otel,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    outcomes,
    waitForOutcomes,
    async act(action) {
      const done = waitForOutcomes(1);
      await action();
      const [summary] = await done;
      return summary as UpdateSummary;
    },
    finishedSpans: () => otel.spans.getFinishedSpans(),
    async stop() {
      await app.stop();
      if (!options.standIn) await standIn.stop();
    },
  };
}
