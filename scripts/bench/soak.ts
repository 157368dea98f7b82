import { rm } from 'node:fs/promises';
import { BotProcess, buildCheckout, REPO_ROOT, type Sample } from './bot-process.js';
import { startFakeBotApi } from './fake-bot-api.js';
import { createTarget, drive } from './load.js';
import { startOtlpCounter } from './otlp-counter.js';
import { type BenchOptions, botEnv, freePort, resetSchemas } from './run.js';
import { seededRandom } from './workload.js';

export interface SoakPhase {
  collector: 'up' | 'black-holed';
  seconds: number;
  updatesPerSecond: number;
  failed: number;
  /** RSS every few seconds through the phase (MiB). */
  rssMiB: number[];
  heapUsedMiB: number[];
  /** (max − min) / first: "flat ±10%" means at most 0.10 either way. */
  rssSpread: number;
  rssChange: number;
  spansReceived: number;
}

export interface SoakReport {
  setup: string;
  phases: SoakPhase[];
}

const SAMPLE_EVERY_MS = 5_000;

/**
 * Memory under sustained load: one bot at full load for `soakMs` with the collector answering, then as
 * long again with it black-holed (requests accepted, never answered), sampling RSS and heap throughout.
 * Bounded exporter queues should keep RSS flat in both phases.
 */
export async function runSoak(options: BenchOptions & { soakMs: number }): Promise<SoakReport> {
  const setup = options.setups[0];
  if (!setup) throw new Error('soak: no setup');
  const api = await startFakeBotApi();
  const otlp = await startOtlpCounter();
  const random = seededRandom(options.seed);
  let bot: BotProcess | undefined;
  let dataDir: string | undefined;
  try {
    if (setup.store === 'postgres') await resetSchemas(options.databaseUrl, [setup]);
    const port = await freePort();
    const token = `9100:soak-${setup.name}`;
    const env = await botEnv(setup, { token, port, apiUrl: api.url, otlp, databaseUrl: options.databaseUrl });
    dataDir = env.dataDir;
    buildCheckout(REPO_ROOT);
    bot = new BotProcess({ env: env.env, autoInstrumentations: setup.telemetry === 'auto' });
    await bot.ready();
    const chatIds = Array.from({ length: options.chats }, (_, i) => 100_000 + i);
    const target = createTarget(
      token,
      `http://127.0.0.1:${port}/telegram/webhook`,
      env.secret,
      chatIds,
      options.concurrency,
    );
    options.log(`soak: warming up ${setup.name}…`);
    await drive(target, api, { concurrency: options.concurrency, durationMs: options.warmupMs, random });

    const phases: SoakPhase[] = [];
    for (const collector of ['up', 'black-holed'] as const) {
      otlp.setBlackHole(collector === 'black-holed');
      const spansBefore = otlp.counts(setup.name).spans;
      const running = bot;
      const samples: Sample[] = [await running.sample()];
      const sampler = setInterval(() => {
        void running.sample().then((sample) => samples.push(sample));
      }, SAMPLE_EVERY_MS);
      options.log(`soak: ${options.soakMs / 1000} s with the collector ${collector}…`);
      const result = await drive(target, api, {
        concurrency: options.concurrency,
        durationMs: options.soakMs,
        random,
      });
      clearInterval(sampler);
      samples.push(await running.sample());
      const rss = samples.map((s) => s.rss / 2 ** 20);
      const first = rss[0] as number;
      phases.push({
        collector,
        seconds: result.elapsedMs / 1000,
        updatesPerSecond: result.updates / (result.elapsedMs / 1000),
        failed: result.failed,
        rssMiB: rss,
        heapUsedMiB: samples.map((s) => s.heapUsed / 2 ** 20),
        rssSpread: (Math.max(...rss) - Math.min(...rss)) / first,
        rssChange: ((rss.at(-1) as number) - first) / first,
        spansReceived: otlp.counts(setup.name).spans - spansBefore,
      });
    }
    target.agent.destroy();
    return { setup: setup.name, phases };
  } finally {
    await bot?.stop(5_000).catch(() => undefined);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await api.close();
    await otlp.close();
  }
}

export function formatSoak(report: SoakReport): string {
  const mib = (values: number[]) => values.map((v) => v.toFixed(0)).join(' ');
  return [
    `Soak of ${report.setup}: RSS and heap sampled every ${SAMPLE_EVERY_MS / 1000} s at full load.`,
    '',
    '| collector | seconds | updates/s | RSS MiB (samples) | RSS end vs start | RSS spread | heap MiB (samples) | spans received |',
    '|---|---:|---:|---|---:|---:|---|---:|',
    ...report.phases.map(
      (p) =>
        `| ${p.collector} | ${p.seconds.toFixed(0)} | ${p.updatesPerSecond.toFixed(0)} | ${mib(p.rssMiB)} | ` +
        `${(p.rssChange * 100).toFixed(1)}% | ${(p.rssSpread * 100).toFixed(1)}% | ${mib(p.heapUsedMiB)} | ${p.spansReceived} |`,
    ),
    '',
  ].join('\n');
}
