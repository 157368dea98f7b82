import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BotApiStandIn, startBotApiStandIn } from '../tools/telegram-stand-in/index.js';
import {
  BotProcess,
  type OtlpReceiver,
  resourcesOf,
  spansOf,
  startBot,
  startOtlpReceiver,
} from './support/bot-process.js';

/**
 * The standard OpenTelemetry variables, as an operator sets them on the real process: each must do what
 * the spec says (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/).
 * Every run is a user's /start answered, then SIGTERM, then a look at what reached the OTLP receiver.
 */
interface Run {
  bot: BotProcess;
  receiver: OtlpReceiver;
  replied: boolean;
}

let standIn: BotApiStandIn;
const dataDirs: string[] = [];
let nextUser = 515_000;

beforeAll(async () => {
  standIn = await startBotApiStandIn({ token: '123456789:AAH-test_token_value_that_must_never_leak' });
});
afterAll(async () => {
  await standIn.stop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

async function runWith(env: (receiverUrl: string) => Record<string, string>): Promise<Run> {
  const receiver = await startOtlpReceiver();
  const dataDir = mkdtempSync(join(tmpdir(), 'tracegram-otel-env-'));
  dataDirs.push(dataDir);
  const setUpCalls = standIn.calls.filter((c) => c.method === 'setMyCommands').length;
  const bot = new BotProcess(startBot(standIn, dataDir, env(receiver.url)));
  try {
    await standIn.waitFor({ method: 'setMyCommands', count: setUpCalls + 1 }, 45_000).catch((error) => {
      throw new Error(`${error}\nstdout: ${bot.stdout}\nstderr: ${bot.stderr}`);
    });
    nextUser += 1;
    const user = standIn.user({ id: nextUser, first_name: 'Otto', language_code: 'en' });
    await user.sendCommand('/start');
    const deadline = Date.now() + 15_000;
    while (!standIn.lastMessage(user.id) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const replied = standIn.lastMessage(user.id)?.text?.includes('Pick a category') ?? false;
    expect(await bot.stop(), bot.stderr).toBe(0);
    return { bot, receiver, replied };
  } finally {
    await bot.stop();
    await receiver.close();
  }
}

const signalsReceived = (run: Run) => [...new Set(run.receiver.requests.map((r) => r.signal))].sort();
const telemetryErrors = (run: Run) => run.bot.stderr.split('\n').filter((l) => l.includes('TELEMETRY_ERROR'));

describe('standard OTEL_* variables on the running bot', () => {
  test('OTEL_SDK_DISABLED=true with an endpoint set: no span, log record or metric leaves; the bot still answers', async () => {
    const run = await runWith((url) => ({
      OTEL_SDK_DISABLED: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    }));
    expect(run.replied).toBe(true);
    expect(run.receiver.requests).toEqual([]);
    expect(run.bot.lines().map((l) => l.event)).toContain('DISPATCH_OK');
  }, 120_000);

  test('no endpoint and no OTEL_*_EXPORTER (the embedded default): nothing is sent, no connection errors', async () => {
    const run = await runWith(() => ({}));
    expect(run.replied).toBe(true);
    expect(telemetryErrors(run)).toEqual([]);
  }, 120_000);

  test('OTEL_TRACES_EXPORTER=console, OTEL_LOGS_EXPORTER=none, OTEL_METRICS_EXPORTER=otlp: each signal goes its own way', async () => {
    const run = await runWith((url) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_TRACES_EXPORTER: 'console',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'otlp',
    }));
    expect(run.replied).toBe(true);
    expect(signalsReceived(run)).toEqual(['metrics']);
    // ConsoleSpanExporter prints each span with console.dir.
    expect(run.bot.stdout).toMatch(/name: 'update message'/);
  }, 120_000);

  test('a per-signal endpoint, headers, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', async () => {
    const run = await runWith((url) => ({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${url}/v1/traces`,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=blue',
      OTEL_SERVICE_NAME: 'tracegram-eu',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=e2e,service.namespace=bots',
    }));
    expect(run.replied).toBe(true);
    // Only traces have an endpoint, so only traces are exported.
    expect(signalsReceived(run)).toEqual(['traces']);
    expect(run.receiver.requests.every((r) => r.headers['x-tenant'] === 'blue')).toBe(true);
    expect(spansOf(run.receiver.bodies.traces).map((s) => s.name)).toContain('update message');
    for (const resource of resourcesOf(run.receiver.bodies.traces)) {
      expect(resource).toMatchObject({
        'service.name': 'tracegram-eu',
        'service.namespace': 'bots',
        'deployment.environment.name': 'e2e',
      });
    }
  }, 120_000);

  test('OTEL_TRACES_SAMPLER=parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0: no trace is kept, logs still flow', async () => {
    const run = await runWith((url) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
    }));
    expect(run.replied).toBe(true);
    expect(spansOf(run.receiver.bodies.traces)).toEqual([]);
    expect(JSON.stringify(run.receiver.bodies.logs)).toContain('DISPATCH_OK');
  }, 120_000);
});
