import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { BotProcess, buildCheckout, REPO_ROOT, type Sample } from './bot-process.js';
import { startFakeBotApi } from './fake-bot-api.js';
import { createTarget, drive, percentile, type Target } from './load.js';
import { type OtlpCounter, startOtlpCounter } from './otlp-counter.js';
import { type ProfileSummary, summariseProfile } from './profile-summary.js';
import { seededRandom, UPDATE_KINDS, type UpdateKind } from './workload.js';

export interface BenchSetup {
  /** Short name, also the OTLP path prefix and the Postgres schema suffix. */
  name: string;
  store: 'postgres' | 'pglite';
  /** `none`: not Tracegram but a floor bot (`entry`), which has no telemetry at all. */
  telemetry: 'otlp' | 'disabled' | 'auto' | 'none';
  description: string;
  /** A script run instead of the bot, from the repository root (the floor bots). */
  entry?: string;
  /** Run the code of another checkout (e.g. main, to compare a change in alternating rounds). */
  checkout?: string;
  /** Extra environment, e.g. OTEL_TRACES_EXPORTER=none to see what one part of the telemetry costs. */
  env?: Record<string, string>;
}

const FLOOR_BOT = 'scripts/bench/floor-bot.ts';

/** The configurations measured side by side, in alternating rounds of one run. */
export const SETUPS: readonly BenchSetup[] = [
  { name: 'otlp', store: 'postgres', telemetry: 'otlp', description: 'full telemetry, OTLP export' },
  { name: 'disabled', store: 'postgres', telemetry: 'disabled', description: 'OTEL_SDK_DISABLED=true' },
  {
    name: 'auto',
    store: 'postgres',
    telemetry: 'auto',
    description: 'full telemetry + @opentelemetry/auto-instrumentations-node',
  },
  { name: 'pglite', store: 'pglite', telemetry: 'otlp', description: 'full telemetry, OTLP export, PGlite' },
  {
    name: 'plain',
    store: 'postgres',
    telemetry: 'none',
    description: 'a plain grammY webhook bot: one Bot API call per update, no store',
    entry: FLOOR_BOT,
    env: { FLOOR_STORE: 'none' },
  },
  {
    name: 'floor',
    store: 'postgres',
    telemetry: 'none',
    description: "the plain bot + Tracegram's store round trips (claim with session read, session write)",
    entry: FLOOR_BOT,
    env: { FLOOR_STORE: 'pg' },
  },
];

export interface BenchOptions {
  setups: readonly BenchSetup[];
  rounds: number;
  roundMs: number;
  warmupMs: number;
  chats: number;
  concurrency: number;
  databaseUrl: string;
  seed: number;
  /**
   * Bot processes per setup. The same code in two processes differs by up to ~10% for a whole run (heap
   * layout, JIT decisions), which no number of rounds averages out; each round's figure for a setup is
   * that of all its processes together.
   */
  processes: number;
  /** Directory for V8 CPU profiles (one per bot process), or undefined for none. */
  cpuProfileDir: string | undefined;
  log: (line: string) => void;
}

export interface RoundFigures {
  round: number;
  setup: string;
  updates: number;
  failed: number;
  updatesPerSecond: number;
  cpuMicrosPerUpdate: number;
  kernelMicrosPerUpdate: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of the benchmark process itself (load, fake Bot API, OTLP receiver) per update. */
  driverCpuMicrosPerUpdate: number;
}

export interface SetupFigures {
  setup: BenchSetup;
  rounds: number;
  updates: number;
  failed: number;
  /** Medians over the rounds. */
  updatesPerSecond: number;
  cpuMicrosPerUpdate: number;
  kernelMicrosPerUpdate: number;
  driverCpuMicrosPerUpdate: number;
  /** Over every measured update of every round. */
  p50Ms: number;
  p99Ms: number;
  rssMiB: number;
  heapUsedMiB: number;
  spansPerUpdate: number;
  otlpLogRecordsPerUpdate: number;
  stdoutLinesPerUpdate: number;
  byKind: Record<UpdateKind, number>;
  profile?: ProfileSummary;
}

export interface Ratio {
  name: string;
  of: string;
  over: string;
  /** Medians over rounds of the per-round ratio of updates/s, and of the per-round CPU difference. */
  throughputRatio: number;
  cpuRatio: number;
  cpuDeltaMicros: number;
  /**
   * The spread of the per-round CPU ratios and how many rounds `of` used less CPU than `over`: what tells
   * a difference from this machine's noise (the same code ranges ±10% against itself from round to round).
   */
  cpuRatioLowest: number;
  cpuRatioHighest: number;
  roundsLower: number;
  roundsPaired: number;
}

export interface BenchReport {
  startedAt: string;
  machine: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    node: string;
    loadBefore: number[];
    loadAfter: number[];
  };
  options: Omit<BenchOptions, 'log' | 'setups' | 'databaseUrl'> & { setups: string[] };
  rounds: RoundFigures[];
  setups: SetupFigures[];
  ratios: Ratio[];
  /** Whether OTEL_SDK_DISABLED=true stopped all export (spans counted at the receiver). */
  sdkDisabledTookEffect: boolean | undefined;
}

const WEBHOOK_SECRET = 'bench-webhook-secret';

/** The environment `npm start` gets for one setup: webhook mode, the fake Bot API, its own OTLP prefix and store. */
export async function botEnv(
  setup: BenchSetup,
  at: { token: string; port: number; apiUrl: string; otlp: OtlpCounter; databaseUrl: string },
): Promise<{ env: Record<string, string>; secret: string; dataDir: string | undefined }> {
  const dataDir = setup.store === 'pglite' ? await mkdtemp(join(tmpdir(), 'tracegram-bench-')) : undefined;
  const env: Record<string, string> = {
    BOT_TOKEN: at.token,
    TELEGRAM_API_ROOT: at.apiUrl,
    BOT_MODE: 'webhook',
    PORT: String(at.port),
    // Several bots run side by side: each metrics listener takes a free port instead of 9464.
    METRICS_PORT: '0',
    PUBLIC_URL: `http://127.0.0.1:${at.port}`,
    WEBHOOK_SECRET,
    OTEL_EXPORTER_OTLP_ENDPOINT: at.otlp.endpoint(setup.name),
    ...(setup.store === 'postgres'
      ? { DATABASE_URL: withSearchPath(at.databaseUrl, schemaOf(setup)) }
      : { DATA_DIR: dataDir as string }),
    ...(setup.telemetry === 'disabled' ? { OTEL_SDK_DISABLED: 'true' } : {}),
    // The default ("all") includes cloud detectors that call metadata servers off this machine.
    ...(setup.telemetry === 'auto' ? { OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process' } : {}),
    ...setup.env,
  };
  return { env, secret: WEBHOOK_SECRET, dataDir };
}

interface Running {
  setup: BenchSetup;
  /** The process's own name: the setup's, with `_2`, `_3`… for its further processes (OTLP prefix, schema). */
  instance: BenchSetup;
  bot: BotProcess;
  target: Target;
  updates: number;
  stdoutAtStart: number;
  dataDir: string | undefined;
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  const random = seededRandom(options.seed);
  const api = await startFakeBotApi();
  const otlp = await startOtlpCounter();
  const running: Running[] = [];
  const instances = options.setups.flatMap((setup) =>
    Array.from({ length: options.processes }, (_, i) => ({
      setup,
      instance: i === 0 ? setup : { ...setup, name: `${setup.name}_${i + 1}` },
    })),
  );
  try {
    await resetSchemas(
      options.databaseUrl,
      instances.map(({ instance }) => instance),
    );
    const checkouts = new Set(options.setups.filter((s) => !s.entry).map((s) => s.checkout ?? REPO_ROOT));
    for (const checkout of checkouts) buildCheckout(checkout);
    options.log(`starting ${instances.length} bot processes…`);
    for (const [index, { setup, instance }] of instances.entries()) {
      const port = await freePort();
      const token = `${9000 + index}:bench-${instance.name}`;
      const { env, dataDir } = await botEnv(instance, {
        token,
        port,
        apiUrl: api.url,
        otlp,
        databaseUrl: options.databaseUrl,
      });
      const bot = new BotProcess({
        env,
        autoInstrumentations: setup.telemetry === 'auto',
        cwd: setup.checkout,
        entry: setup.entry,
      });
      const chatIds = Array.from({ length: options.chats }, (_, i) => 100_000 + i);
      const target = createTarget(
        token,
        `http://127.0.0.1:${port}/telegram/webhook`,
        WEBHOOK_SECRET,
        chatIds,
        options.concurrency,
      );
      running.push({ setup, instance, bot, target, updates: 0, stdoutAtStart: 0, dataDir });
    }
    await Promise.all(running.map((run) => run.bot.ready()));

    for (const run of running) run.stdoutAtStart = run.bot.stdoutLines;
    const slices = warmupSlices(options.warmupMs, options.roundMs);
    if (slices.length > 0) options.log(`warming up: ${slices.length} slices per setup, in round order…`);
    for (const [index, durationMs] of slices.entries()) {
      for (const run of roundOrder(running, index + 1)) {
        const warm = await drive(run.target, api, { concurrency: options.concurrency, durationMs, random });
        run.updates += warm.updates;
      }
    }

    // Profiles cover the measured rounds only: start-up and warm-up (module compilation, JIT) stay out.
    if (options.cpuProfileDir) await Promise.all(running.map((run) => run.bot.startProfile()));
    const rounds: RoundFigures[] = [];
    const latencies = new Map<string, number[]>();
    const byKind = new Map<string, Record<UpdateKind, number>>();
    for (let round = 1; round <= options.rounds; round += 1) {
      const parts = new Map<string, ProcessRound[]>();
      for (const run of roundOrder(running, round)) {
        const before = await run.bot.sample();
        const driverBefore = process.cpuUsage();
        const result = await drive(run.target, api, {
          concurrency: options.concurrency,
          durationMs: options.roundMs,
          random,
        });
        const ended = performance.now();
        // The round's spans and log records are exported now, on its CPU, not during the next setup's round.
        await run.bot.flush();
        const after = await run.bot.sample();
        const driver = process.cpuUsage(driverBefore);
        run.updates += result.updates;
        latencies.set(run.setup.name, [...(latencies.get(run.setup.name) ?? []), ...result.latenciesMs]);
        const kinds = byKind.get(run.setup.name) ?? emptyKinds();
        for (const kind of UPDATE_KINDS) kinds[kind] += result.byKind[kind];
        byKind.set(run.setup.name, kinds);
        const part: ProcessRound = {
          updates: result.updates,
          failed: result.failed,
          seconds: (ended - before.at) / 1000,
          cpuMicros: after.cpuMicros - before.cpuMicros,
          kernelMicros: after.kernelMicros - before.kernelMicros,
          driverMicros: driver.user + driver.system,
          latenciesMs: result.latenciesMs,
        };
        parts.set(run.setup.name, [...(parts.get(run.setup.name) ?? []), part]);
        const figures = roundFigures(round, run.instance.name, [part]);
        options.log(
          `round ${round} ${run.instance.name.padEnd(8)} ${figures.updatesPerSecond.toFixed(0).padStart(6)} updates/s ` +
            `${figures.cpuMicrosPerUpdate.toFixed(0).padStart(6)} µs/update  p99 ${figures.p99Ms.toFixed(1)} ms` +
            (figures.failed ? `  ${figures.failed} FAILED (${failureStatuses(result.failedByStatus)})` : ''),
        );
        // Tracegram logs why on stdout (read by a shipper, not here); a peer bot's grammY prints it on stderr.
        if (result.failed && run.bot.stderr())
          options.log(`  its stderr ends: ${run.bot.stderr().slice(-1500)}`);
      }
      for (const [setup, of] of parts) rounds.push(roundFigures(round, setup, of));
    }

    // One profile per process; the table summarises each setup's first.
    const profiles = new Map<string, ProfileSummary>();
    if (options.cpuProfileDir) {
      for (const run of running) {
        const path = join(options.cpuProfileDir, `${run.instance.name}.cpuprofile`);
        await run.bot.stopProfile(path);
        if (run.instance === run.setup) profiles.set(run.setup.name, await summariseProfile(path));
      }
    }
    // Before the bots stop: their shutdown lines are not the rounds' work.
    const atEnd = new Map<Running, { sample: Sample; stdoutLines: number }>();
    for (const run of running) {
      atEnd.set(run, {
        sample: await run.bot.sample(),
        stdoutLines: run.bot.stdoutLines - run.stdoutAtStart,
      });
    }
    options.log('stopping the bots (they flush their telemetry)…');
    await Promise.all(running.map((run) => run.bot.stop()));
    // The last export requests are answered before the bots exit; give the receiver a beat to finish counting.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const setups: SetupFigures[] = options.setups.map((setup) => {
      const name = setup.name;
      const mine = rounds.filter((r) => r.setup === name);
      const sorted = (latencies.get(name) ?? []).sort((a, b) => a - b);
      const processes = running.filter((run) => run.setup === setup);
      const total = (pick: (run: Running) => number) => processes.reduce((sum, run) => sum + pick(run), 0);
      const updates = total((run) => run.updates);
      const end = (run: Running) => atEnd.get(run) as { sample: Sample; stdoutLines: number };
      const mean = (pick: (sample: Sample) => number) =>
        total((run) => pick(end(run).sample)) / processes.length;
      const profile = profiles.get(name);
      return {
        setup,
        rounds: mine.length,
        updates: mine.reduce((sum, r) => sum + r.updates, 0),
        failed: mine.reduce((sum, r) => sum + r.failed, 0),
        updatesPerSecond: median(mine.map((r) => r.updatesPerSecond)),
        cpuMicrosPerUpdate: median(mine.map((r) => r.cpuMicrosPerUpdate)),
        kernelMicrosPerUpdate: median(mine.map((r) => r.kernelMicrosPerUpdate)),
        driverCpuMicrosPerUpdate: median(mine.map((r) => r.driverCpuMicrosPerUpdate)),
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        rssMiB: mean((sample) => sample.rss) / 2 ** 20,
        heapUsedMiB: mean((sample) => sample.heapUsed) / 2 ** 20,
        spansPerUpdate: total((run) => otlp.counts(run.instance.name).spans) / updates,
        otlpLogRecordsPerUpdate: total((run) => otlp.counts(run.instance.name).logRecords) / updates,
        stdoutLinesPerUpdate: total((run) => end(run).stdoutLines) / updates,
        byKind: byKind.get(name) ?? emptyKinds(),
        ...(profile ? { profile } : {}),
      };
    });

    const ratios: Ratio[] = [];
    const pair = (name: string, of: string, over: string) => {
      if (!running.some((r) => r.setup.name === of) || !running.some((r) => r.setup.name === over)) return;
      ratios.push({ name, of, over, ...pairRounds(rounds, of, over) });
    };
    pair('telemetry on / off', 'otlp', 'disabled');
    pair('auto-instrumentations / off', 'auto', 'disabled');
    pair('PGlite / PostgreSQL (telemetry on)', 'pglite', 'otlp');
    const baselineStore = running.find((r) => r.setup.name === 'baseline')?.setup.store;
    pair('this checkout / baseline checkout', baselineStore === 'pglite' ? 'pglite' : 'otlp', 'baseline');
    pair('Tracegram with full telemetry / floor', 'otlp', 'floor');
    pair('Tracegram with telemetry off / floor', 'disabled', 'floor');
    pair('floor / plain', 'floor', 'plain');
    // `--variant`s (full telemetry with some environment changed): what the part they change costs.
    for (const setup of options.setups) {
      if (setup.telemetry !== 'otlp' || !setup.env) continue;
      pair(`${setup.name} / full telemetry`, setup.name, 'otlp');
      pair(`${setup.name} / off`, setup.name, 'disabled');
    }

    const disabled = running.filter((r) => r.setup.telemetry === 'disabled');
    return {
      startedAt,
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        loadBefore,
        loadAfter: loadavg(),
      },
      options: {
        setups: options.setups.map((s) => s.name),
        rounds: options.rounds,
        roundMs: options.roundMs,
        warmupMs: options.warmupMs,
        chats: options.chats,
        concurrency: options.concurrency,
        seed: options.seed,
        processes: options.processes,
        cpuProfileDir: options.cpuProfileDir,
      },
      rounds,
      setups,
      ratios,
      sdkDisabledTookEffect:
        disabled.length > 0 ? disabled.every((run) => otlp.counts(run.instance.name).spans === 0) : undefined,
    };
  } finally {
    await Promise.all(running.map((run) => run.bot.stop().catch(() => undefined)));
    for (const run of running) run.target.agent.destroy();
    await Promise.all(
      running.map((run) => (run.dataDir ? rm(run.dataDir, { recursive: true, force: true }) : undefined)),
    );
    await api.close();
    await otlp.close();
  }
}

/**
 * Compares setup `of` with setup `over` round by round (a round's two figures share the machine's state of
 * that moment): the medians of the per-round ratios and CPU differences, and the spread of the CPU ratios.
 */
export function pairRounds(
  rounds: readonly RoundFigures[],
  of: string,
  over: string,
): Omit<Ratio, 'name' | 'of' | 'over'> {
  const pairs: Array<[RoundFigures, RoundFigures]> = [];
  for (const a of rounds) {
    if (a.setup !== of) continue;
    const b = rounds.find((r) => r.round === a.round && r.setup === over);
    if (b) pairs.push([a, b]);
  }
  const cpuRatios = pairs.map(([a, b]) => a.cpuMicrosPerUpdate / b.cpuMicrosPerUpdate);
  return {
    throughputRatio: median(pairs.map(([a, b]) => a.updatesPerSecond / b.updatesPerSecond)),
    cpuRatio: median(cpuRatios),
    cpuDeltaMicros: median(pairs.map(([a, b]) => a.cpuMicrosPerUpdate - b.cpuMicrosPerUpdate)),
    cpuRatioLowest: cpuRatios.length ? Math.min(...cpuRatios) : Number.NaN,
    cpuRatioHighest: cpuRatios.length ? Math.max(...cpuRatios) : Number.NaN,
    roundsLower: cpuRatios.filter((ratio) => ratio < 1).length,
    roundsPaired: pairs.length,
  };
}

/** What one bot process did in one round. */
interface ProcessRound {
  updates: number;
  failed: number;
  seconds: number;
  cpuMicros: number;
  kernelMicros: number;
  driverMicros: number;
  latenciesMs: readonly number[];
}

/** A setup's figures for one round: those of all its processes together. */
export function roundFigures(round: number, setup: string, parts: readonly ProcessRound[]): RoundFigures {
  const sum = (pick: (part: ProcessRound) => number) => parts.reduce((total, part) => total + pick(part), 0);
  const updates = sum((part) => part.updates);
  const sorted = parts.flatMap((part) => part.latenciesMs).sort((a, b) => a - b);
  return {
    round,
    setup,
    updates,
    failed: sum((part) => part.failed),
    updatesPerSecond: updates / sum((part) => part.seconds),
    cpuMicrosPerUpdate: sum((part) => part.cpuMicros) / updates,
    kernelMicrosPerUpdate: sum((part) => part.kernelMicros) / updates,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    driverCpuMicrosPerUpdate: sum((part) => part.driverMicros) / updates,
  };
}

/**
 * The warm-up, cut into slices no longer than a round, that the setups take in turn in round order. Warmed
 * one after another, the setups measured 845, 809 and 767 µs per update with the same code, in the order
 * they were warmed: a setup's place in the warm-up stayed with it through every round (docs/benchmarks.md).
 */
export function warmupSlices(warmupMs: number, roundMs: number): number[] {
  if (warmupMs <= 0) return [];
  const count = Math.ceil(warmupMs / Math.max(roundMs, 1));
  return Array.from({ length: count }, () => warmupMs / count);
}

/**
 * The order the setups run in, in round `round` (from 1): a rotation that moves on every other round, run
 * forwards in odd rounds and backwards in even ones. Over 2n rounds each of n setups runs first twice and
 * last twice, spreading drift in the machine's load over every setup, and follows both of its neighbours
 * (the one before leaves GC and timers behind). Until 2026-11-30 the rotation moved every round and even
 * rounds reversed it, which undid it for two setups: the first setup of an A/B always ran first, and the
 * same code measured 1.08x against itself.
 */
export function roundOrder<T>(setups: readonly T[], round: number): T[] {
  const shift = Math.floor((round - 1) / 2);
  const rotated = setups.map((_, i) => setups[(i + shift) % setups.length] as T);
  return round % 2 === 0 ? rotated.reverse() : rotated;
}

function emptyKinds(): Record<UpdateKind, number> {
  return Object.fromEntries(UPDATE_KINDS.map((kind) => [kind, 0])) as Record<UpdateKind, number>;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function schemaOf(setup: BenchSetup): string {
  return `bench_${setup.name}`;
}

/** Each Postgres setup gets a fresh schema of its own, so their sessions tables start equal and never collide. */
export async function resetSchemas(databaseUrl: string, setups: readonly BenchSetup[]): Promise<void> {
  const postgres = setups.filter((s) => s.store === 'postgres');
  if (postgres.length === 0) return;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const setup of postgres) {
      await client.query(`DROP SCHEMA IF EXISTS ${schemaOf(setup)} CASCADE`);
      await client.query(`CREATE SCHEMA ${schemaOf(setup)}`);
    }
  } finally {
    await client.end();
  }
}

function withSearchPath(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** `500 ×3, no answer ×1`: what the failed deliveries of a round were answered. */
function failureStatuses(byStatus: ReadonlyMap<number, number>): string {
  return [...byStatus]
    .map(([status, count]) => `${status === 0 ? 'no answer' : status} ×${count}`)
    .join(', ');
}
