/**
 * `npm run bench`: the real bot in webhook mode, side by side with telemetry on, OTEL_SDK_DISABLED=true,
 * auto-instrumentations, and PGlite, in alternating rounds of one run. `--smoke` is a seconds-long run
 * for CI; `--cpu-prof` writes a V8 profile per bot process and summarises each setup's first; `--soak <seconds>` watches memory
 * at full load with the collector up, then black-holed. See docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './bot-process.js';
import { formatReport } from './report.js';
import { type BenchSetup, runBench, SETUPS } from './run.js';
import { formatSoak, runSoak } from './soak.js';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    'round-seconds': { type: 'string' },
    'warmup-seconds': { type: 'string' },
    chats: { type: 'string' },
    concurrency: { type: 'string' },
    setups: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string' },
    baseline: { type: 'string' },
    'baseline-store': { type: 'string', default: 'postgres' },
    soak: { type: 'string' },
    variant: { type: 'string', multiple: true },
    pin: { type: 'boolean', default: false },
    processes: { type: 'string' },
  },
});

const smoke = values.smoke;
// `--pin`: the bots on core 0, this process (load, fake Bot API, receiver) on core 1. On a 2-core machine
// the bot otherwise shares its core with PostgreSQL and the load, and its profile charges their time to
// whatever it was doing when it was pre-empted (mostly the socket write that woke them).
if (values.pin) {
  execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  process.env.BENCH_BOT_CPUS = '0';
}
const number = (value: string | undefined, fallback: number) =>
  value === undefined ? fallback : Number(value);
const wanted = values.setups?.split(',');
const chosen = wanted ? SETUPS.filter((s) => wanted.includes(s.name)) : SETUPS;
// Another checkout (say a worktree of main) as one more setup, to measure a change in alternating rounds.
const setups: BenchSetup[] = values.baseline
  ? [
      ...chosen,
      {
        name: 'baseline',
        store: values['baseline-store'] === 'pglite' ? ('pglite' as const) : ('postgres' as const),
        telemetry: 'otlp' as const,
        description: `full telemetry, OTLP export, ${values['baseline-store']}, code of ${values.baseline}`,
        checkout: values.baseline,
      },
    ]
  : [...chosen];
// `--variant name:KEY=VALUE,KEY=VALUE`: full telemetry on PostgreSQL with some environment changed.
for (const variant of values.variant ?? []) {
  const [name = '', assignments = ''] = variant.split(':');
  const env = Object.fromEntries(
    assignments
      .split(',')
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  setups.push({
    name,
    store: 'postgres',
    telemetry: 'otlp',
    description: `full telemetry, ${assignments}`,
    env,
  });
}
if (setups.length === 0) throw new Error(`--setups: pick from ${SETUPS.map((s) => s.name).join(', ')}`);

const outDir = values.out ?? join(REPO_ROOT, 'bench-results');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const cpuProfileDir = values['cpu-prof'] ? join(outDir, `profiles-${stamp}`) : undefined;
await mkdir(outDir, { recursive: true });
if (cpuProfileDir) await mkdir(cpuProfileDir, { recursive: true });

const benchOptions = {
  setups,
  rounds: number(values.rounds, smoke ? 1 : 5),
  roundMs: number(values['round-seconds'], smoke ? 1 : 8) * 1000,
  // Each bot's CPU per update falls by ~25% over its first 15–20 s at full load (JIT, heap sizing; PGlite's
  // longer): a shorter warm-up charges that to the first rounds, and to the slower-warming setups more.
  warmupMs: number(values['warmup-seconds'], smoke ? 0.3 : 15) * 1000,
  chats: number(values.chats, smoke ? 50 : 5000),
  concurrency: number(values.concurrency, smoke ? 4 : 32),
  databaseUrl:
    process.env.BENCH_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/test',
  seed: 20261129,
  // Two processes per setup: one process's luck (heap layout, JIT) moves a setup by up to ~10% for a whole run.
  processes: number(values.processes, smoke ? 1 : 2),
  cpuProfileDir,
  log: (line: string) => process.stderr.write(`${line}\n`),
};

if (values.soak !== undefined) {
  // Memory under sustained load, one setup (the first named; default: full telemetry on PostgreSQL). From a
  // cold start V8 sizes its heap for ~25 s at full load (docs/benchmarks.md), so the soak warms up for 30 s
  // unless told otherwise: what it measures is whether memory stays bounded at full load.
  const soak = await runSoak({
    ...benchOptions,
    warmupMs: number(values['warmup-seconds'], 30) * 1000,
    setups: wanted ? chosen : chosen.slice(0, 1),
    soakMs: Number(values.soak) * 1000,
  });
  const markdown = formatSoak(soak);
  await writeFile(join(outDir, `soak-${stamp}.json`), `${JSON.stringify(soak, null, 2)}\n`);
  process.stdout.write(`${markdown}\nWritten to ${join(outDir, `soak-${stamp}.json`)}\n`);
} else {
  const report = await runBench(benchOptions);
  const markdown = formatReport(report);
  await writeFile(join(outDir, `bench-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(outDir, `bench-${stamp}.md`), `${markdown}\n`);
  process.stdout.write(`${markdown}\nWritten to ${join(outDir, `bench-${stamp}.md`)} (and .json)\n`);
}
