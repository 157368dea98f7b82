/**
 * End to end with a real Prometheus (Debian's package, started here on a free loopback port): it scrapes the
 * real bot's /metrics and evaluates the alert rules generated from grafana/as-code. The bot is driven through
 * the Bot API stand-in into errors (sendMessage failing with a network error → INTERNAL_ERROR), the critical
 * error-ratio alert goes firing (and the warning, a band below it, does not), then both stay quiet once
 * updates succeed again. The same run checks that /metrics serves exactly the families conventions.ts names,
 * and that the "Failure logs" panel's filter keeps the bot's warn and error log records as Loki stores them.
 *
 * Shortened, and only here: the rules are the same expressions with every window and `for` divided by 20
 * (5m → 15s), and Prometheus scrapes and evaluates every second. promtool.test.ts checks the real durations.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeverityNumber } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { prometheusRules } from '../../grafana/as-code/alerts.js';
import { DASHBOARD_UID } from '../../grafana/as-code/dashboard-uids.js';
import { dashboardPath } from '../../grafana/as-code/outputs.js';
import { EVENT, LOG_FIELD, METRIC } from '../../src/telemetry/conventions.js';
import { oneGeneration } from '../generation/support.js';
import { freshUserId, type Harness, startHarness } from '../support/harness.js';
import {
  type DashboardJson,
  exposedFamilies,
  familyOf,
  logqlKeeps,
  lokiMetadata,
  readJson,
  renderTemplate,
  requireTool,
} from './support.js';

const TIME_SCALE = 20;
const WARNING = 'TracegramErrorRatioHigh';
const CRITICAL = 'TracegramErrorRatioCritical';
const ERROR_ALERTS = [WARNING, CRITICAL];
const PROM_NAMES = Object.values(METRIC)
  .map((m) => m.promName)
  .sort();

interface PromAlert {
  labels: { alertname: string; severity: string };
  state: 'pending' | 'firing';
  value: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('error-ratio alert against a real Prometheus scraping the real bot', () => {
  const prometheusBin = requireTool('prometheus');
  let h: Harness;
  let prometheus: ChildProcess | undefined;
  let promUrl: string;
  let promLog = '';
  const dir = mkdtempSync(join(tmpdir(), 'tracegram-prometheus-'));

  async function alerts(): Promise<PromAlert[]> {
    const response = await fetch(`${promUrl}/api/v1/alerts`);
    const body = (await response.json()) as { data: { alerts: PromAlert[] } };
    return body.data.alerts;
  }

  async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return ((await response.json()) as { data: { result: never[] } }).data.result;
  }

  /** One /start; `fail` makes the bot's sendMessage fail with a network error, so the update ends in error. */
  async function start(fail: boolean): Promise<string> {
    const user = h.standIn.user({ id: freshUserId(), first_name: 'Eve', language_code: 'en' });
    if (fail) h.standIn.failNext('sendMessage', { kind: 'network' });
    const done = h.waitForOutcomes(1);
    await user.sendCommand('/start');
    const [summary] = await done;
    return summary?.outcome ?? 'none';
  }

  /** Sends updates every 250 ms until `until()` holds, for at most `ms`. */
  async function driveUntil(fail: boolean, until: () => Promise<boolean>, ms: number, what: string) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      expect(await start(fail)).toBe(fail ? 'error' : 'success');
      if (await until()) return;
      await sleep(250);
    }
    throw new Error(`${what} within ${ms / 1000}s. Alerts: ${JSON.stringify(await alerts())}\n${promLog}`);
  }

  beforeAll(async () => {
    h = await startHarness({ env: { LOCAL_PROVIDER_DELAY_MS: '10' } });
    // One generation, so the job histograms have series too.
    await oneGeneration(h, h.standIn.user({ id: freshUserId(), first_name: 'Gen', language_code: 'en' }));
    const target = new URL(h.metricsUrl).host;
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, 'rules.yaml'), stringify(prometheusRules({ timeScale: TIME_SCALE })));
    writeFileSync(
      join(dir, 'prometheus.yaml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(dir, 'rules.yaml')],
        scrape_configs: [
          { job_name: 'tracegram', metrics_path: '/metrics', static_configs: [{ targets: [target] }] },
        ],
      }),
    );
    prometheus = spawn(
      prometheusBin,
      [
        `--config.file=${join(dir, 'prometheus.yaml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (chunk) => {
      promLog += String(chunk);
    });
    prometheus.stderr?.on('data', (chunk) => {
      promLog += String(chunk);
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (prometheus.exitCode !== null)
        throw new Error(`prometheus exited ${prometheus.exitCode}:\n${promLog}`);
      try {
        if ((await fetch(`${promUrl}/-/ready`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`prometheus not ready after 20s:\n${promLog}`);
      await sleep(200);
    }
  }, 60_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
    }
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  test('errors fire the error-ratio alerts, recovery resolves them', async () => {
    // Healthy traffic first: the success series exist and Prometheus has scraped the bot.
    await driveUntil(
      false,
      async () =>
        (await query(`up{job="tracegram"} == 1`)).length === 1 &&
        (await query(METRIC.UPDATES.promName)).length > 0,
      20_000,
      'Prometheus did not scrape the bot',
    );
    expect((await alerts()).filter((a) => ERROR_ALERTS.includes(a.labels.alertname))).toEqual([]);

    // Every update fails: pending, then firing once the (shortened) `for` has passed.
    await driveUntil(
      true,
      async () => (await alerts()).some((a) => a.labels.alertname === CRITICAL && a.state === 'firing'),
      90_000,
      'the critical error-ratio alert did not fire',
    );
    const now = await alerts();
    const critical = now.find((a) => a.labels.alertname === CRITICAL);
    expect(critical).toMatchObject({ state: 'firing', labels: { severity: 'critical' } });
    expect(Number(critical?.value)).toBeGreaterThan(0.2);
    // The warning is a band below the critical threshold: one incident, one alert.
    expect(now.filter((a) => a.labels.alertname === WARNING)).toEqual([]);

    // Updates succeed again: the errors leave the window and both alerts resolve.
    await driveUntil(
      false,
      async () => (await alerts()).every((a) => !ERROR_ALERTS.includes(a.labels.alertname)),
      90_000,
      'the error-ratio alerts did not resolve',
    );
  }, 240_000);

  // /metrics must name families exactly as Prometheus's OTLP receiver does (UnderscoreEscapingWithSuffixes,
  // recorded as promName in conventions.ts), or the dashboards only work on one of the two paths: the same
  // set, no family missing and none extra.
  test('/metrics serves exactly the tracegram_* families conventions.ts names (promName)', async () => {
    const exposition = await (await fetch(`${h.metricsUrl}/metrics`)).text();
    expect(exposedFamilies(exposition, 'tracegram_')).toEqual(PROM_NAMES);
  });

  test('every tracegram_* series Prometheus scraped belongs to one of those families, and each has series', async () => {
    const families = new Set(PROM_NAMES);
    const scraped = [...new Set((await query('{job="tracegram"}')).map((s) => s.metric.__name__ as string))]
      .filter((name) => name.startsWith('tracegram_'))
      .sort();
    expect(scraped.filter((name) => familyOf(name, families) === undefined)).toEqual([]);
    expect([...new Set(scraped.map((name) => familyOf(name, families)))].sort()).toEqual(PROM_NAMES);
  });

  test('"Failure logs" keeps every warn/error record the bot exported, as Loki stores them, and no info record', () => {
    const panel = readJson<DashboardJson>(dashboardPath(DASHBOARD_UID.OVERVIEW)).panels.find(
      (p) => p.title === 'Failure logs',
    );
    const logql = renderTemplate(panel?.targets?.[0]?.expr ?? '', 'logql');
    const records = h.otel.logs.getFinishedLogRecords();
    const kept = records.filter((r) => logqlKeeps(logql, lokiMetadata(r)));
    const atLeastWarn = records.filter((r) => (r.severityNumber ?? 0) >= SeverityNumber.WARN);
    const line = (r: (typeof records)[number]) =>
      `${r.severityText} ${String(r.attributes[LOG_FIELD.EVENT])}`;
    expect(kept.map(line)).toEqual(atLeastWarn.map(line));
    const events = new Set(kept.map((r) => String(r.attributes[LOG_FIELD.EVENT])));
    // The failures driven above: the failed sendMessage and the update that ended in error.
    expect([...events]).toEqual(expect.arrayContaining([EVENT.BOTAPI_ERROR, EVENT.DISPATCH_FAIL]));
    expect(kept.some((r) => r.severityNumber === SeverityNumber.INFO)).toBe(false);
  });
});

describe('the family check bites', () => {
  test('an exposition without the unit suffix (`tracegram_update_duration_bucket`) is not the promName set', () => {
    const text = PROM_NAMES.map((name) =>
      name === METRIC.UPDATE_DURATION.promName
        ? '# TYPE tracegram_update_duration histogram'
        : `# TYPE ${name} counter`,
    ).join('\n');
    expect(exposedFamilies(text, 'tracegram_')).not.toEqual(PROM_NAMES);
    expect(
      exposedFamilies(
        `${PROM_NAMES.map((n) => `# TYPE ${n} counter`).join('\n')}\n# TYPE tracegram_extra gauge`,
        'tracegram_',
      ),
    ).not.toEqual(PROM_NAMES);
  });
});
