import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeverityNumber } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { SimpleSpanProcessor, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import packageJson from '../package.json' with { type: 'json' };
import { BotProcess, buildCheckout } from '../scripts/bench/bot-process.js';
import { startFakeBotApi } from '../scripts/bench/fake-bot-api.js';
import { createTarget, drive } from '../scripts/bench/load.js';
import { type OtlpCounter, startOtlpCounter } from '../scripts/bench/otlp-counter.js';
import {
  type BenchReport,
  pairRounds,
  type RoundFigures,
  roundFigures,
  roundOrder,
  warmupSlices,
} from '../scripts/bench/run.js';
import { POSTGRES_URL } from './support/harness.js';

/** The benchmark's figures are only as good as its receiver's counts: they must match what the SDK sent. */
describe('the benchmark OTLP receiver', () => {
  let counter: OtlpCounter;
  beforeAll(async () => {
    counter = await startOtlpCounter();
  });
  afterAll(() => counter.close());

  test.each([
    ['protobuf', (url: string) => new OTLPTraceExporter({ url })],
    ['JSON', (url: string) => new JsonTraceExporter({ url })],
  ])('counts every span the %s exporter sends', async (encoding, exporterFor) => {
    const prefix = `spans-${encoding}`;
    const exporter = exporterFor(`${counter.endpoint(prefix)}/v1/traces`) as SpanExporter;
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer('bench-test');
    for (let i = 0; i < 5; i += 1) tracer.startSpan(`span ${i}`, { attributes: { i } }).end();
    await provider.shutdown();
    expect(counter.counts(prefix).spans).toBe(5);
  });

  test('counts every log record the protobuf exporter sends', async () => {
    const exporter = new OTLPLogExporter({ url: `${counter.endpoint('logs')}/v1/logs` });
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    const logger = provider.getLogger('bench-test');
    for (let i = 0; i < 3; i += 1) logger.emit({ severityNumber: SeverityNumber.INFO, body: `line ${i}` });
    await provider.shutdown();
    expect(counter.counts('logs').logRecords).toBe(3);
  });
});

describe('the order of the setups in a round', () => {
  test.each([1, 2, 3, 4, 7])(
    'with %i setups, each runs first, and last, equally often over the rounds',
    (count) => {
      const setups = Array.from({ length: count }, (_, i) => i);
      const rounds = Array.from({ length: 2 * count }, (_, i) => roundOrder(setups, i + 1));
      for (const order of rounds) expect([...order].sort()).toEqual(setups);
      for (const setup of setups) {
        expect(rounds.filter((order) => order[0] === setup)).toHaveLength(2);
        expect(rounds.filter((order) => order.at(-1) === setup)).toHaveLength(2);
      }
    },
  );
});

describe('the warm-up', () => {
  test('is cut into equal slices no longer than a round, which add up to it', () => {
    expect(warmupSlices(15_000, 4_000)).toEqual([3_750, 3_750, 3_750, 3_750]);
    expect(warmupSlices(15_000, 8_000)).toEqual([7_500, 7_500]);
    expect(warmupSlices(3_000, 3_000)).toEqual([3_000]);
    expect(warmupSlices(0, 3_000)).toEqual([]);
  });
});

describe("a setup's round over several bot processes", () => {
  test('is all their updates over all their time and CPU, and the percentiles of all their deliveries', () => {
    const part = (updates: number, seconds: number, cpuMicros: number, latenciesMs: number[]) => ({
      updates,
      failed: 0,
      seconds,
      cpuMicros,
      kernelMicros: cpuMicros / 10,
      driverMicros: updates * 200,
      latenciesMs,
    });
    const figures = roundFigures(3, 'otlp', [
      part(3_000, 3, 2_400_000, [10, 10, 10]),
      part(1_000, 3, 1_200_000, [50]),
    ]);
    expect(figures).toMatchObject({
      round: 3,
      setup: 'otlp',
      updates: 4_000,
      updatesPerSecond: 4_000 / 6,
      // Weighted by updates: (2.4 s + 1.2 s) / 4,000, not the mean of 800 and 1,200.
      cpuMicrosPerUpdate: 900,
      kernelMicrosPerUpdate: 90,
      driverCpuMicrosPerUpdate: 200,
      p50Ms: 10,
      p99Ms: 50,
    });
  });
});

describe('comparing two setups round by round', () => {
  const round = (n: number, setup: string, cpu: number, rate: number): RoundFigures => ({
    round: n,
    setup,
    updates: 1_000,
    failed: 0,
    updatesPerSecond: rate,
    cpuMicrosPerUpdate: cpu,
    kernelMicrosPerUpdate: 0,
    p50Ms: 1,
    p99Ms: 2,
    driverCpuMicrosPerUpdate: 0,
  });

  test('pairs each round of one with the same round of the other, and reports how far the rounds spread', () => {
    const rounds = [
      round(1, 'b', 1_000, 500),
      round(1, 'a', 900, 550),
      round(2, 'a', 1_200, 400),
      round(2, 'b', 1_000, 500),
      round(3, 'b', 2_000, 250),
      round(3, 'a', 1_900, 260),
      // A round the other setup did not run (a smaller run, a crash) is left out, not paired with another.
      round(4, 'a', 100, 5_000),
    ];
    const ratio = pairRounds(rounds, 'a', 'b');
    expect(ratio.roundsPaired).toBe(3);
    expect(ratio.cpuRatio).toBeCloseTo(0.95);
    expect(ratio.cpuDeltaMicros).toBe(-100);
    expect(ratio.throughputRatio).toBeCloseTo(1.04);
    expect(ratio.cpuRatioLowest).toBeCloseTo(0.9);
    expect(ratio.cpuRatioHighest).toBeCloseTo(1.2);
    expect(ratio.roundsLower).toBe(2);
  });
});

describe('the load', () => {
  test('counts the deliveries a bot did not answer 200, by how it answered', async () => {
    let deliveries = 0;
    // Every third delivery fails, and every seventh gets no answer at all (its socket is destroyed).
    const webhook = createServer((request, response) => {
      deliveries += 1;
      if (deliveries % 7 === 0) return request.socket.destroy();
      response.writeHead(deliveries % 3 === 0 ? 500 : 200).end('{}');
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const api = await startFakeBotApi();
    try {
      const { port } = webhook.address() as AddressInfo;
      const target = createTarget('1:t', `http://127.0.0.1:${port}/`, 's', [1, 2, 3, 4], 2);
      const result = await drive(target, api, { concurrency: 2, durationMs: 300, random: () => 0.5 });
      target.agent.destroy();
      expect(result.updates).toBe(deliveries);
      expect(result.failedByStatus.get(500)).toBeGreaterThan(0);
      expect(result.failedByStatus.get(0)).toBeGreaterThan(0);
      expect(result.failed).toBe((result.failedByStatus.get(500) ?? 0) + (result.failedByStatus.get(0) ?? 0));
    } finally {
      webhook.closeAllConnections();
      await new Promise((resolve) => webhook.close(resolve));
      await api.close();
    }
  });
});

describe('a bot that cannot start', () => {
  test('fails the benchmark with the reason it logged on stdout', { timeout: 120_000 }, async () => {
    buildCheckout(new URL('..', import.meta.url).pathname);
    const bot = new BotProcess({
      env: {
        BOT_TOKEN: '123:bench-test',
        BOT_MODE: 'webhook',
        PUBLIC_URL: 'http://127.0.0.1:1',
        WEBHOOK_SECRET: 'bench-test-secret',
        PORT: '0',
        METRICS_PORT: '0',
        OTEL_SDK_DISABLED: 'true',
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
      },
      autoInstrumentations: false,
    });
    await expect(bot.ready()).rejects.toThrow(
      /bot exited before ready \(1\).*APP_START_FAILED.*ECONNREFUSED/s,
    );
  });
});

/** `npm run bench -- --smoke`: every setup starts, takes updates through the whole mix, and gets a row. */
describe('npm run bench -- --smoke', () => {
  const out = mkdtempSync(join(tmpdir(), 'tracegram-bench-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  /** Runs the benchmark with `--smoke` and `extra`; its stdout, stderr and the report it wrote to `dir`. */
  const runSmoke = async (dir: string, extra: string[]) => {
    const [, ...args] = packageJson.scripts.bench.split(' ');
    const child = spawn(process.execPath, [...args, '--smoke', '--out', dir, ...extra], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_DATABASE_URL: POSTGRES_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
    const json = readdirSync(dir).find((file) => file.endsWith('.json')) as string;
    const report = JSON.parse(readFileSync(join(dir, json), 'utf8')) as BenchReport;
    return { stdout, stderr, report };
  };
  const sessionRows = async (table: string) => {
    const db = new pg.Client({ connectionString: POSTGRES_URL });
    await db.connect();
    try {
      const { rows } = await db.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${table}`);
      return Number(rows[0]?.rows);
    } finally {
      await db.end();
    }
  };

  test('prints a table row per setup, from updates the bots handled without failing', {
    timeout: 240_000,
  }, async () => {
    const { stdout, report } = await runSmoke(out, []);

    for (const setup of ['otlp', 'disabled', 'auto', 'pglite', 'plain', 'floor']) {
      const row = stdout.split('\n').find((line) => line.startsWith(`| ${setup} (`));
      expect(row, `no table row for ${setup}:\n${stdout}`).toBeDefined();
      const updatesPerSecond = Number(row?.split('|')[3]);
      expect(updatesPerSecond).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(/OTEL_SDK_DISABLED=true (took effect|did NOT take effect)/);

    for (const figures of report.setups) {
      expect(figures.failed, figures.setup.name).toBe(0);
      // The floor bots log nothing: that is part of what makes them the floor.
      if (figures.setup.telemetry !== 'none') {
        expect(figures.stdoutLinesPerUpdate, figures.setup.name).toBeGreaterThan(0);
      }
      // The mix reached past the first screen: button presses and /start both arrived.
      expect(figures.byKind.press, figures.setup.name).toBeGreaterThan(0);
      expect(figures.byKind.start, figures.setup.name).toBeGreaterThan(0);
    }
    const exporting = report.setups.filter((figures) => ['otlp', 'auto'].includes(figures.setup.telemetry));
    for (const figures of exporting) expect(figures.spansPerUpdate, figures.setup.name).toBeGreaterThan(1);
    // The floor made Tracegram's store round trips: its sessions were saved, one row per chat it drew.
    expect(await sessionRows('bench_floor.floor_sessions')).toBeGreaterThan(0);
  });

  test('--processes 2: each setup runs in two bots, each with its own store, and its figures are theirs together', {
    timeout: 240_000,
  }, async () => {
    const dir = mkdtempSync(join(out, 'processes-'));
    const { stderr, report } = await runSmoke(dir, ['--processes', '2', '--setups', 'otlp,disabled']);
    expect(report.options.processes).toBe(2);
    expect(report.setups.map((figures) => figures.setup.name)).toEqual(['otlp', 'disabled']);
    for (const name of ['otlp', 'otlp_2', 'disabled', 'disabled_2']) {
      expect(stderr).toMatch(new RegExp(`^round 1 ${name} +\\d+ updates/s`, 'm'));
      expect(await sessionRows(`bench_${name}.sessions`), name).toBeGreaterThan(0);
    }
    // One row per setup and round: the second bots' figures are merged into their setup's, not rows of their own.
    expect(report.rounds.map((round) => round.setup).sort()).toEqual(['disabled', 'otlp']);
    const [otlp] = report.setups;
    // The spans of both bots over the updates of both: a full trace is ~9 spans, one bot's alone half that.
    expect(otlp?.spansPerUpdate).toBeGreaterThan(6);
    expect(report.sdkDisabledTookEffect).toBe(true);
  });

  test('--variant: a bot that logs only errors is measured too (it is asked whether it is ready)', {
    timeout: 240_000,
  }, async () => {
    const dir = mkdtempSync(join(out, 'variant-'));
    const { report } = await runSmoke(dir, ['--setups', 'otlp', '--variant', 'quiet:LOG_LEVEL=error']);
    const [otlp, quiet] = report.setups;
    expect(quiet?.setup.name).toBe('quiet');
    expect(quiet?.failed).toBe(0);
    expect(quiet?.updatesPerSecond).toBeGreaterThan(0);
    expect(quiet?.stdoutLinesPerUpdate).toBeLessThan((otlp?.stdoutLinesPerUpdate ?? 0) / 2);
    // What the variant's change costs, round by round against full telemetry.
    expect(report.ratios).toContainEqual(
      expect.objectContaining({ name: 'quiet / full telemetry', of: 'quiet', over: 'otlp' }),
    );
  });
});
