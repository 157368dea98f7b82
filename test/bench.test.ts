import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
import { type OtlpCounter, startOtlpCounter } from '../scripts/bench/otlp-counter.js';
import { type BenchReport, pairRounds, type RoundFigures, roundOrder } from '../scripts/bench/run.js';
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

/** `npm run bench -- --smoke`: every setup starts, takes updates through the whole mix, and gets a row. */
describe('npm run bench -- --smoke', () => {
  const out = mkdtempSync(join(tmpdir(), 'tracegram-bench-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test('prints a table row per setup, from updates the bots handled without failing', {
    timeout: 240_000,
  }, async () => {
    const [, ...args] = packageJson.scripts.bench.split(' ');
    const child = spawn(process.execPath, [...args, '--smoke', '--out', out], {
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

    for (const setup of ['otlp', 'disabled', 'auto', 'pglite', 'plain', 'floor']) {
      const row = stdout.split('\n').find((line) => line.startsWith(`| ${setup} (`));
      expect(row, `no table row for ${setup}:\n${stdout}`).toBeDefined();
      const updatesPerSecond = Number(row?.split('|')[3]);
      expect(updatesPerSecond).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(/OTEL_SDK_DISABLED=true (took effect|did NOT take effect)/);

    const json = readdirSync(out).find((file) => file.endsWith('.json')) as string;
    const report = JSON.parse(readFileSync(join(out, json), 'utf8')) as BenchReport;
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
    const db = new pg.Client({ connectionString: POSTGRES_URL });
    await db.connect();
    try {
      const { rows } = await db.query<{ chats: string }>(
        'SELECT count(*) AS chats FROM bench_floor.floor_sessions',
      );
      expect(Number(rows[0]?.chats)).toBeGreaterThan(0);
    } finally {
      await db.end();
    }
  });
});
