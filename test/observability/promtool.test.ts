/**
 * `promtool check rules` and `promtool test rules` (Debian's prometheus package) on the committed rules file,
 * with input series that must fire each alert and series that must not. Fails, never skips, without promtool.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { OUTPUT_PATH } from '../../grafana/as-code/outputs.js';
import { BOTAPI_OK_CODE, LABEL, METRIC } from '../../src/telemetry/conventions.js';
import { readYaml, repoPath, requireTool, run } from './support.js';

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

/** The alert promtool should report: the rule's labels, and its annotations rendered with `value`. */
function firing(alertname: string, value: string) {
  const rule = rules.find((r) => r.alert === alertname);
  if (rule === undefined) throw new Error(`no rule ${alertname}`);
  const annotations = Object.fromEntries(
    Object.entries(rule.annotations).map(([k, v]) => [k, v.replace(/\{\{ \$value \| \w+ \}\}/, value)]),
  );
  return { exp_labels: rule.labels, exp_annotations: annotations };
}

const update = (outcome: string, reason: string) =>
  `${METRIC.UPDATES.promName}{${LABEL.UPDATE_TYPE}="message", ${LABEL.HANDLER}="menu", ${LABEL.OUTCOME}="${outcome}", ${LABEL.REASON_CODE}="${reason}"}`;
const role = `${METRIC.INSTANCE_ROLE.promName}{${LABEL.ROLE}="poller"}`;
const silent = `${METRIC.SILENT_UPDATES.promName}{${LABEL.UPDATE_TYPE}="message", ${LABEL.HANDLER}="menu"}`;
const botapiOk = `${METRIC.BOTAPI_CALLS.promName}{${LABEL.METHOD}="sendMessage", ${LABEL.ERROR_CODE}="${BOTAPI_OK_CODE}"}`;

const ALL_ALERTS = rules.map((r) => r.alert);
/** Asserts exactly `firingAlerts` fire at `at`; every other alert is asserted not to fire. */
function expectAt(at: string, firingAlerts: Record<string, string>) {
  return ALL_ALERTS.map((alertname) => ({
    eval_time: at,
    alertname,
    exp_alerts: alertname in firingAlerts ? [firing(alertname, firingAlerts[alertname] as string)] : [],
  }));
}

const cases = [
  {
    name: 'healthy traffic (1% errors, updates flowing): nothing fires',
    input_series: [
      { series: update('success', 'SUCCESS'), values: '0+99x40' },
      { series: update('error', 'INTERNAL_ERROR'), values: '0+1x40' },
      { series: role, values: '1x40' },
      { series: botapiOk, values: '0+100x40' },
    ],
    alert_rule_test: [...expectAt('15m', {}), ...expectAt('40m', {})],
  },
  {
    name: '10% errors: the warning fires after 5 minutes, the critical one does not',
    input_series: [
      { series: update('success', 'SUCCESS'), values: '0+9x40' },
      { series: update('error', 'INTERNAL_ERROR'), values: '0+1x40' },
      { series: role, values: '1x40' },
    ],
    alert_rule_test: [
      // The ratio crosses 5% at once, but `for: 5m` holds it pending.
      ...expectAt('4m', {}),
      ...expectAt('15m', { TracegramErrorRatioHigh: '10%' }),
    ],
  },
  {
    name: '50% errors: warning and critical fire; recovery clears both',
    input_series: [
      { series: update('success', 'SUCCESS'), values: '0+5x20 100+50x20' },
      { series: update('error', 'INTERNAL_ERROR'), values: '0+5x20 100x20' },
      { series: role, values: '1x40' },
    ],
    alert_rule_test: [
      ...expectAt('15m', { TracegramErrorRatioHigh: '50%', TracegramErrorRatioCritical: '50%' }),
      ...expectAt('35m', {}),
    ],
  },
  {
    name: 'a silent update fires at once, including the very first one (a series that starts at 1)',
    input_series: [
      { series: update('success', 'SUCCESS'), values: '0+10x40' },
      { series: silent, values: '_x20 1x10' },
      { series: role, values: '1x40' },
    ],
    alert_rule_test: [
      ...expectAt('19m', {}),
      ...expectAt('22m', { TracegramSilentUpdate: '1' }),
      // Ten minutes later without a new one, it resolves.
      ...expectAt('32m', {}),
    ],
  },
  {
    name: 'no updates while an instance reports its role: fires; with no instance at all: does not',
    input_series: [
      { series: update('success', 'SUCCESS'), values: '5x80' },
      { series: role, values: '1x40 _x40' },
    ],
    alert_rule_test: [
      ...expectAt('3m', {}),
      ...expectAt('35m', { TracegramNoUpdates: '0' }),
      ...expectAt('75m', {}),
    ],
  },
  {
    name: 'the collector failing to send spans fires the telemetry alert',
    input_series: [
      { series: update('success', 'SUCCESS'), values: '0+10x40' },
      { series: role, values: '1x40' },
      {
        series: 'otelcol_exporter_send_failed_spans_total{exporter="otlp_grpc/tempo"}',
        values: '0x10 0+6x20',
      },
    ],
    alert_rule_test: [...expectAt('10m', {}), ...expectAt('25m', { TracegramTelemetryDropping: '60' })],
  },
];

describe('promtool', () => {
  test('check rules: the rules file is valid', () => {
    const result = run(promtool, ['check', 'rules', rulesFile]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });

  test('test rules: each alert fires on the series that must fire it, and on no other', () => {
    const testFile = join(dir, 'tracegram.test.yaml');
    writeFileSync(
      testFile,
      stringify({
        rule_files: [rulesFile],
        evaluation_interval: '1m',
        tests: cases.map(({ name, ...rest }) => ({ interval: '1m', ...rest, name })),
      }),
    );
    const result = run(promtool, ['test', 'rules', testFile]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  test('test rules bites: a wrong expectation fails', () => {
    const testFile = join(dir, 'wrong.test.yaml');
    writeFileSync(
      testFile,
      stringify({
        rule_files: [rulesFile],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            ...cases[0],
            alert_rule_test: expectAt('15m', { TracegramErrorRatioHigh: '1%' }),
          },
        ],
      }),
    );
    expect(run(promtool, ['test', 'rules', testFile]).code).not.toBe(0);
  });
});
