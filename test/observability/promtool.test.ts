/**
 * `promtool check rules` and `promtool test rules` (Debian's prometheus package) on the committed rules file,
 * with input series that must fire each alert and series that must not, and the dashboard expressions that
 * must answer 0 rather than "No data" on a healthy bot. Fails, never skips, without promtool.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import {
  MIN_JOBS_FOR_RATIO,
  MIN_UPDATES_FOR_RATIO,
  STUCK_QUEUE_AGE_S,
} from '../../grafana/as-code/alerts.js';
import { DASHBOARD_UID } from '../../grafana/as-code/dashboard-uids.js';
import { dashboardPath, OUTPUT_PATH } from '../../grafana/as-code/outputs.js';
import { BOTAPI_OK_CODE, LABEL, METRIC } from '../../src/telemetry/conventions.js';
import { SCREEN } from '../../src/ui/registry.js';
import {
  type DashboardJson,
  readJson,
  readYaml,
  renderTemplate,
  repoPath,
  requireTool,
  run,
} from './support.js';

const promtool = requireTool('promtool');
const rulesFile = repoPath(OUTPUT_PATH.PROMETHEUS_RULES);
const dir = mkdtempSync(join(tmpdir(), 'tracegram-promtool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RuleYaml {
  alert: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const rules = readYaml<{ groups: { rules: RuleYaml[] }[] }>(OUTPUT_PATH.PROMETHEUS_RULES).groups.flatMap(
  (g) => g.rules,
);

/** The alert promtool should report: the rule's labels (plus the series' own), annotations rendered with `value`. */
function firing(alertname: string, value: string, seriesLabels: Record<string, string> = {}) {
  const rule = rules.find((r) => r.alert === alertname);
  if (rule === undefined) throw new Error(`no rule ${alertname}`);
  const annotations = Object.fromEntries(
    Object.entries(rule.annotations).map(([k, v]) => [k, v.replace(/\{\{ \$value \| \w+ \}\}/, value)]),
  );
  return { exp_labels: { ...seriesLabels, ...rule.labels }, exp_annotations: annotations };
}

const update = (outcome: string, reason: string) =>
  `${METRIC.UPDATES.promName}{${LABEL.UPDATE_TYPE}="message", ${LABEL.HANDLER}="menu", ${LABEL.OUTCOME}="${outcome}", ${LABEL.REASON_CODE}="${reason}"}`;
const success = update('success', 'SUCCESS');
const failure = update('error', 'INTERNAL_ERROR');
const role = `${METRIC.INSTANCE_ROLE.promName}{${LABEL.ROLE}="active"}`;
const silent = `${METRIC.SILENT_UPDATES.promName}{${LABEL.UPDATE_TYPE}="message", ${LABEL.HANDLER}="menu"}`;
/** The bot SDK's batch span processor finishing spans: ok, or dropped for a full queue. */
const processedSpans = (errorType?: string) =>
  `otel_sdk_processor_span_processed_total{otel_component_type="batching_span_processor", otel_component_name="batching_span_processor/0"${errorType ? `, error_type="${errorType}"` : ''}}`;
const botapiOk = `${METRIC.BOTAPI_CALLS.promName}{${LABEL.METHOD}="sendMessage", ${LABEL.ERROR_CODE}="${BOTAPI_OK_CODE}"}`;
const collectorUp = 'up{job="otel-collector", instance="otel-collector:8888"}';
const ledgerCredit = (result: string) =>
  `${METRIC.LEDGER_OPERATIONS.promName}{${LABEL.OPERATION}="credit", ${LABEL.RESULT}="${result}"}`;
const jobs = (outcome: string, reason: string) =>
  `${METRIC.JOBS.promName}{${LABEL.MODEL}="sdxl", ${LABEL.OUTCOME}="${outcome}", ${LABEL.REASON_CODE}="${reason}"}`;
const jobDelivered = jobs('success', 'SUCCESS');
const jobFailed = jobs('error', 'PROVIDER_ERROR');
const jobBlocked = jobs('rejected', 'BOT_BLOCKED');
const oldestQueued = METRIC.JOB_QUEUE_OLDEST_AGE.promName;

/** A running bot whose collector is up, as every case starts (else the bot/collector-down alerts fire). */
function running(minutes: number) {
  return [
    { series: role, values: `1x${minutes}` },
    { series: collectorUp, values: `1x${minutes}` },
    { series: silent, values: `0x${minutes}` },
    { series: processedSpans(), values: `0+50x${minutes}` },
  ];
}

const ALL_ALERTS = rules.map((r) => r.alert);
/** Labels an alert keeps from the series it fires on (the others aggregate them away). */
const SERIES_LABELS: Record<string, Record<string, string>> = {
  TracegramCollectorDown: { job: 'otel-collector', instance: 'otel-collector:8888' },
};
/** Asserts exactly `firingAlerts` fire at `at`; every other alert is asserted not to fire. */
function expectAt(at: string, firingAlerts: Record<string, string>) {
  return ALL_ALERTS.map((alertname) => ({
    eval_time: at,
    alertname,
    exp_alerts:
      alertname in firingAlerts
        ? [firing(alertname, firingAlerts[alertname] as string, SERIES_LABELS[alertname])]
        : [],
  }));
}

interface Case {
  name: string;
  input_series: { series: string; values: string }[];
  alert_rule_test?: unknown[];
  promql_expr_test?: unknown[];
}

const cases: Case[] = [
  {
    name: 'a payment whose credit failed pages at once and clears 15 minutes later; duplicates do not',
    input_series: [
      ...running(40),
      { series: success, values: '0+10x40' },
      { series: ledgerCredit('credited'), values: '0+1x40' },
      { series: ledgerCredit('duplicate'), values: '0+2x40' },
      { series: ledgerCredit('error'), values: '0x10 1x30' },
    ],
    alert_rule_test: [
      ...expectAt('9m', {}),
      ...expectAt('12m', { TracegramPaymentNotCredited: '1' }),
      ...expectAt('30m', {}),
    ],
  },
  {
    name: 'a payment for an invoice that is not ours (PAYMENT_UNMATCHED) pages',
    input_series: [
      ...running(40),
      { series: success, values: '0+10x40' },
      { series: update('error', 'PAYMENT_UNMATCHED'), values: '0x10 1x30' },
    ],
    alert_rule_test: [...expectAt('9m', {}), ...expectAt('12m', { TracegramPaymentNotCredited: '1' })],
  },
  {
    name: 'healthy traffic (1% errors, updates flowing): nothing fires',
    input_series: [
      ...running(40),
      { series: success, values: '0+99x40' },
      { series: failure, values: '0+1x40' },
      { series: botapiOk, values: '0+100x40' },
    ],
    alert_rule_test: [...expectAt('15m', {}), ...expectAt('40m', {})],
  },
  {
    name: '10% errors: the warning fires after 5 minutes, the critical one does not',
    input_series: [
      ...running(40),
      { series: success, values: '0+9x40' },
      { series: failure, values: '0+1x40' },
    ],
    alert_rule_test: [
      // The ratio crosses 5% at once, but `for: 5m` holds it pending.
      ...expectAt('4m', {}),
      ...expectAt('15m', { TracegramErrorRatioHigh: '10%' }),
    ],
  },
  {
    name: '50% errors: only the critical alert fires (the warning is a band below it); recovery clears it',
    input_series: [
      ...running(40),
      { series: success, values: '0+5x20 100+50x20' },
      { series: failure, values: '0+5x20 100x20' },
    ],
    alert_rule_test: [...expectAt('15m', { TracegramErrorRatioCritical: '50%' }), ...expectAt('35m', {})],
  },
  {
    name: `a third of very few updates failing (under ${MIN_UPDATES_FOR_RATIO} in 5m) fires nothing`,
    input_series: [
      ...running(40),
      { series: success, values: '0+1x40' },
      { series: failure, values: '0+0.5x40' },
    ],
    alert_rule_test: [...expectAt('15m', {}), ...expectAt('40m', {})],
  },
  {
    name: `the same third failing with enough updates (at least ${MIN_UPDATES_FOR_RATIO} in 5m) is critical`,
    input_series: [
      ...running(40),
      { series: success, values: '0+4x40' },
      { series: failure, values: '0+2x40' },
    ],
    alert_rule_test: [...expectAt('15m', { TracegramErrorRatioCritical: '33.33%' })],
  },
  {
    name: 'a silent update fires at once (its series exists at 0 from start-up) and resolves 10m later',
    input_series: [
      ...running(40).filter((s) => s.series !== silent),
      { series: success, values: '0+10x40' },
      { series: silent, values: '0x20 1x20' },
    ],
    alert_rule_test: [
      ...expectAt('19m', {}),
      ...expectAt('22m', { TracegramSilentUpdate: '1' }),
      ...expectAt('32m', {}),
    ],
  },
  {
    name: 'an 8-minute metrics gap with the silent counter stuck at 1 fires nothing; a real increment after it does',
    input_series: [
      { series: role, values: '1x10 _x8 1x30' },
      { series: collectorUp, values: '1x48' },
      { series: success, values: '0+10x10 _x8 200+10x30' },
      // At 1 before the gap (an old silent update), still 1 after it, then one new silent update at 29m.
      { series: silent, values: '1x10 _x8 1x10 2x20' },
    ],
    alert_rule_test: [
      ...expectAt('20m', {}),
      ...expectAt('27m', {}),
      ...expectAt('28m', {}),
      ...expectAt('30m', { TracegramSilentUpdate: '1' }),
    ],
  },
  {
    name: 'no updates for 30m on a bot that had traffic today fires a warning',
    input_series: [...running(130), { series: success, values: '0+10x60 600x70' }],
    alert_rule_test: [
      ...expectAt('50m', {}),
      ...expectAt('92m', {}),
      ...expectAt('100m', { TracegramNoUpdates: '0' }),
    ],
  },
  {
    name: 'an idle stack that never handled an update fires nothing',
    input_series: [...running(130), { series: success, values: '0x130' }],
    alert_rule_test: [...expectAt('40m', {}), ...expectAt('130m', {})],
  },
  {
    name: 'the bot stops (its role and updates vanish, the collector is up): bot down fires, no-updates does not',
    input_series: [
      { series: collectorUp, values: '1x80' },
      { series: role, values: '1x40' },
      { series: success, values: '0+10x40' },
    ],
    alert_rule_test: [...expectAt('45m', {}), ...expectAt('55m', { TracegramBotDown: '1' })],
  },
  {
    name: 'the collector dies (the bot metrics it carried stop too): collector down fires, bot down does not',
    input_series: [
      { series: collectorUp, values: '1x20 0x40' },
      { series: role, values: '1x20' },
      { series: success, values: '0+10x20' },
    ],
    alert_rule_test: [
      ...expectAt('15m', {}),
      ...expectAt('21m', {}),
      ...expectAt('24m', { TracegramCollectorDown: '0' }),
      ...expectAt('55m', { TracegramCollectorDown: '0' }),
    ],
  },
  ...(
    [
      [
        'the collector failing to send spans',
        'otelcol_exporter_send_failed_spans_total{exporter="otlp_grpc/tempo"}',
      ],
      [
        'a full sending queue dropping logs',
        'otelcol_exporter_enqueue_failed_log_records_total{exporter="otlp_http/loki"}',
      ],
      [
        'the collector refusing metric points',
        'otelcol_receiver_refused_metric_points_total{receiver="otlp", transport="http"}',
      ],
      ['the bot dropping spans from a full queue', processedSpans('queue_full')],
      [
        'the bot failing to export log records',
        'otel_sdk_processor_log_processed_total{otel_component_type="batching_log_processor", otel_component_name="batching_log_processor/0", error_type="OTLPExporterError"}',
      ],
    ] as const
  ).map(([what, series]) => ({
    name: `${what} fires the telemetry alert`,
    input_series: [
      ...running(40).filter((s) => s.series !== series),
      { series: success, values: '0+10x40' },
      { series, values: '0x10 0+6x30' },
    ],
    alert_rule_test: [...expectAt('10m', {}), ...expectAt('25m', { TracegramTelemetryDropping: '60' })],
  })),
  {
    name: 'a third of generation jobs failing fires the job-failure alert; users blocking the bot do not count',
    input_series: [
      ...running(40),
      { series: success, values: '0+10x40' },
      { series: jobDelivered, values: '0+2x40' },
      { series: jobFailed, values: '0x10 0+2x30' },
      { series: jobBlocked, values: '0+2x40' },
      { series: oldestQueued, values: '0x40' },
    ],
    alert_rule_test: [...expectAt('10m', {}), ...expectAt('30m', { TracegramJobFailureRatioHigh: '33.33%' })],
  },
  {
    name: `failing jobs below the volume floor (under ${MIN_JOBS_FOR_RATIO} in 15m) fire nothing`,
    input_series: [
      ...running(40),
      { series: success, values: '0+10x40' },
      { series: jobDelivered, values: '0x40' },
      { series: jobFailed, values: '0x10 1x10 2x20' },
    ],
    alert_rule_test: [...expectAt('30m', {})],
  },
  {
    name: `a queued job waiting over ${STUCK_QUEUE_AGE_S} s for 2 minutes is a stuck queue; a short wait is not`,
    input_series: [
      ...running(40),
      { series: success, values: '0+10x40' },
      { series: oldestQueued, values: '0x5 30 90 0x5 0+60x20' },
    ],
    alert_rule_test: [...expectAt('10m', {}), ...expectAt('20m', { TracegramJobQueueStuck: '360' })],
  },
];

/** The committed dashboards' PromQL for one panel, as Grafana would send it (template variables filled in). */
function panelExpr(title: string): string {
  for (const uid of Object.values(DASHBOARD_UID)) {
    const panel = readJson<DashboardJson>(dashboardPath(uid)).panels.find((p) => p.title === title);
    const expr = panel?.targets?.[0]?.expr;
    if (expr !== undefined) return renderTemplate(expr, 'promql');
  }
  throw new Error(`no panel "${title}"`);
}

const screenViews = (screen: string) => `${METRIC.SCREEN_VIEWS.promName}{${LABEL.SCREEN_ID}="${screen}"}`;

const panelCases: Case[] = [
  {
    name: 'a healthy bot without a single error series shows an error ratio of 0, and a conversion of 0, not "No data"',
    input_series: [
      { series: success, values: '0+10x60' },
      { series: screenViews(SCREEN.MAIN_MENU), values: '0+3x60' },
    ],
    promql_expr_test: [
      { expr: panelExpr('Error ratio'), eval_time: '30m', exp_samples: [{ labels: '{}', value: 0 }] },
      {
        expr: panelExpr('Start → confirm conversion'),
        eval_time: '60m',
        exp_samples: [{ labels: '{}', value: 0 }],
      },
    ],
  },
];

function promtoolTest(name: string, tests: Case[], rulesPath = rulesFile) {
  const testFile = join(dir, `${name}.test.yaml`);
  writeFileSync(
    testFile,
    stringify({
      rule_files: [rulesPath],
      evaluation_interval: '1m',
      tests: tests.map(({ name: caseName, ...rest }) => ({ interval: '1m', ...rest, name: caseName })),
    }),
  );
  return run(promtool, ['test', 'rules', testFile]);
}

describe('promtool', () => {
  test('check rules: the rules file is valid', () => {
    const result = run(promtool, ['check', 'rules', rulesFile]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });

  test.each(cases.map((c) => [c.name, c] as const))('test rules: %s', (_name, c) => {
    const result = promtoolTest(`case-${cases.indexOf(c)}`, [c]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  test('no updates is a warning, not a page: a quiet bot is not an outage', () => {
    expect(rules.find((r) => r.alert === 'TracegramNoUpdates')?.labels.severity).toBe('warning');
  });

  test('dashboard panels answer 0, not "No data", when nothing failed', () => {
    const result = promtoolTest('panels', panelCases);
    expect(result.code, result.output).toBe(0);
  });

  test('test rules bites: a wrong expectation fails', () => {
    const wrong = {
      ...(cases[0] as Case),
      alert_rule_test: expectAt('15m', { TracegramErrorRatioHigh: '1%' }),
    };
    expect(promtoolTest('wrong', [wrong]).code).not.toBe(0);
  });
});
