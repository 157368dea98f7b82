/**
 * The alert logic, written once. Each rule is a PromQL value, a comparison and a duration; it is emitted
 * both as Grafana-managed provisioned alert rules (grafana/provisioning/alerting) and as a Prometheus rules
 * file (otel/rules/tracegram.rules.yaml), so the two can never disagree.
 */
import { LABEL } from '../../src/telemetry/conventions.js';
import { GRAFANA_DATASOURCE } from '../../src/telemetry/grafana.js';
import { DASHBOARD_UID } from './dashboard-uids.js';
import { eventsInWindow, ext, sel, sumIncrease, sumRate } from './promql.js';
import { envRef, GRAFANA_ENV } from './provisioning.js';

export type Severity = 'warning' | 'critical';

export interface AlertRule {
  /** Prometheus `alertname` and Grafana rule title. */
  name: string;
  /** Grafana rule uid (at most 40 characters). */
  uid: string;
  severity: Severity;
  /** The measured value; `window` is the range its rates look back over. */
  query: (window: string) => string;
  window: string;
  op: '>' | '<';
  threshold: number;
  /** How long the condition must hold before the alert fires. */
  for: string;
  valueFormat: 'percent' | 'number';
  summary: string;
  /** What the admin should do: the first thing to look at and the usual causes. */
  action: string;
  dashboard: { uid: string; panel: string };
}

/** Error ratio thresholds: the share of updates that ended with outcome `error`. */
export const ERROR_RATIO = { warning: 0.05, critical: 0.2 } as const;

/** Fraction of updates that ended in a real failure (outcome `error`) over `window`. */
export function errorRatio(window: string): string {
  return `${sumRate(sel('UPDATES', { [LABEL.OUTCOME]: 'error' }), window)} / ${sumRate(sel('UPDATES'), window)}`;
}

const errorRatioRule = (severity: Severity): AlertRule => ({
  name: severity === 'critical' ? 'TracegramErrorRatioCritical' : 'TracegramErrorRatioHigh',
  uid: `tracegram-error-ratio-${severity}`,
  severity,
  query: errorRatio,
  window: '5m',
  op: '>',
  threshold: ERROR_RATIO[severity],
  for: '5m',
  valueFormat: 'percent',
  summary: `More than ${ERROR_RATIO[severity] * 100}% of updates end in an error`,
  action:
    'Open "Reason codes" on Bot overview to see which reason code dominates, then click through to its traces. ' +
    'INTERNAL_ERROR with Bot API errors: Telegram or the network is failing (check "Bot API errors"); ' +
    'DB_ERROR: Postgres; DOWNSTREAM_TIMEOUT: a provider. A recent deploy is the usual suspect.',
  dashboard: { uid: DASHBOARD_UID.OVERVIEW, panel: 'Error ratio' },
});

export const ALERT_RULES: readonly AlertRule[] = [
  errorRatioRule('warning'),
  errorRatioRule('critical'),
  {
    name: 'TracegramSilentUpdate',
    uid: 'tracegram-silent-update',
    severity: 'warning',
    query: (window) => eventsInWindow(sel('SILENT_UPDATES'), window),
    window: '10m',
    op: '>',
    threshold: 0,
    for: '0s',
    valueFormat: 'number',
    summary: 'An update ended without any outcome or reply (a silent update)',
    action:
      'A handler returned without recording a reason code: the user saw nothing. "Silent updates" on Bot overview ' +
      'names the handler; its traces show the last stage reached. Fix the handler so every path ends with a reason code.',
    dashboard: { uid: DASHBOARD_UID.OVERVIEW, panel: 'Silent updates' },
  },
  {
    name: 'TracegramNoUpdates',
    uid: 'tracegram-no-updates',
    severity: 'critical',
    // Gated on an instance reporting its role: the process is up and exporting, yet nothing arrives.
    query: (window) =>
      `(${sumIncrease(sel('UPDATES'), window)} or vector(0)) and on() (count(${sel('INSTANCE_ROLE')}) > 0)`,
    window: '30m',
    op: '<',
    threshold: 1,
    for: '5m',
    valueFormat: 'number',
    summary: 'The bot is running but has handled no update for 30 minutes',
    action:
      'Check "Instance roles" (is any instance polling or receiving the webhook?) and the bot logs for ' +
      'WEBHOOK_REJECTED or Bot API errors on getUpdates. In webhook mode check PUBLIC_URL and WEBHOOK_SECRET; ' +
      'in polling mode, another process polling with the same token steals the updates.',
    dashboard: { uid: DASHBOARD_UID.OVERVIEW, panel: 'Instance roles' },
  },
  {
    name: 'TracegramTelemetryDropping',
    uid: 'tracegram-telemetry-dropping',
    severity: 'warning',
    query: (window) =>
      [
        eventsInWindow(sel('TELEMETRY_EXPORT_FAILURES'), window),
        `(${sumIncrease(ext('otelcol_exporter_send_failed_spans_total'), window)} or vector(0))`,
        `(${sumIncrease(ext('otelcol_exporter_send_failed_log_records_total'), window)} or vector(0))`,
        `(${sumIncrease(ext('otelcol_exporter_send_failed_metric_points_total'), window)} or vector(0))`,
        `(${sumIncrease(ext('otelcol_receiver_refused_spans_total'), window)} or vector(0))`,
      ].join(' + '),
    window: '10m',
    op: '>',
    threshold: 0,
    for: '5m',
    valueFormat: 'number',
    summary: 'Telemetry is being dropped between the bot, the collector and the backends',
    action:
      '"Telemetry health" on Bot overview shows which signal fails and where. Bot-side export failures: the ' +
      'collector is down or unreachable (OTEL_EXPORTER_OTLP_ENDPOINT). Collector send failures: Tempo, Loki or ' +
      'Prometheus is down or rejecting. Refused spans: the collector memory_limiter is shedding load.',
    dashboard: { uid: DASHBOARD_UID.OVERVIEW, panel: 'Telemetry health' },
  },
];

// ---------------------------------------------------------------------------------------------------------
// Emitters

export interface EmitOptions {
  /** Divides every window and `for` duration; the end-to-end test runs the same rules 20× faster. */
  timeScale?: number;
  /** Absolute Grafana URL used in the Prometheus rules' dashboard annotation. */
  grafanaUrl?: string;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

export function durationSeconds(duration: string): number {
  const match = /^(\d+)([smhd])$/.exec(duration);
  if (!match) throw new Error(`unsupported duration ${duration}`);
  return Number(match[1]) * (UNIT_SECONDS[match[2] as string] as number);
}

function scaled(duration: string, timeScale: number): string {
  const seconds = durationSeconds(duration);
  return seconds === 0 ? '0s' : `${Math.max(1, Math.round(seconds / timeScale))}s`;
}

export function promExpr(rule: AlertRule, timeScale = 1): string {
  const window = timeScale === 1 ? rule.window : scaled(rule.window, timeScale);
  return `(${rule.query(window)}) ${rule.op} ${rule.threshold}`;
}

function dashboardPath(rule: AlertRule): string {
  return `/d/${rule.dashboard.uid}`;
}

export function prometheusRules(options: EmitOptions = {}): unknown {
  const timeScale = options.timeScale ?? 1;
  const grafanaUrl = (options.grafanaUrl ?? 'http://localhost:3000').replace(/\/+$/, '');
  return {
    groups: [
      {
        name: 'tracegram',
        ...(timeScale === 1 ? {} : { interval: '1s' }),
        rules: ALERT_RULES.map((rule) => ({
          alert: rule.name,
          expr: promExpr(rule, timeScale),
          for: timeScale === 1 ? rule.for : scaled(rule.for, timeScale),
          labels: { severity: rule.severity, service: 'tracegram' },
          annotations: {
            summary: `${rule.summary} (now {{ $value ${rule.valueFormat === 'percent' ? '| humanizePercentage' : '| humanize'} }})`,
            description: rule.action,
            dashboard: `${grafanaUrl}${dashboardPath(rule)} (panel "${rule.dashboard.panel}")`,
          },
        })),
      },
    ],
  };
}

export const CONTACT_POINT = 'telegram-admins';
export const ALERT_FOLDER = 'Tracegram';

const GRAFANA_OP: Record<AlertRule['op'], string> = { '>': 'gt', '<': 'lt' };

/**
 * Grafana-managed alerting provisioning, as Grafana should read it: provisioning.ts writes every literal `$`
 * as `$$` (Grafana expands `$VAR` from its environment in these files) and `envRef`s as `${VAR}`.
 */
export function grafanaAlerting(panelId: (dashboardUid: string, panelTitle: string) => number): unknown {
  const prom = GRAFANA_DATASOURCE.PROMETHEUS;
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: 'tracegram',
        folder: ALERT_FOLDER,
        interval: '1m',
        rules: ALERT_RULES.map((rule) => ({
          uid: rule.uid,
          title: rule.name,
          condition: 'C',
          data: [
            {
              refId: 'A',
              relativeTimeRange: { from: durationSeconds(rule.window), to: 0 },
              datasourceUid: prom.uid,
              model: {
                refId: 'A',
                expr: rule.query(rule.window),
                instant: true,
                range: false,
                intervalMs: 60_000,
              },
            },
            {
              refId: 'C',
              datasourceUid: '__expr__',
              model: {
                refId: 'C',
                type: 'threshold',
                expression: 'A',
                conditions: [{ evaluator: { type: GRAFANA_OP[rule.op], params: [rule.threshold] } }],
              },
            },
          ],
          noDataState: 'OK',
          execErrState: 'Error',
          for: rule.for,
          labels: { severity: rule.severity, service: 'tracegram' },
          annotations: {
            summary: `${rule.summary} (now {{ ${rule.valueFormat === 'percent' ? 'humanizePercentage' : 'humanize'} $values.A.Value }})`,
            description: rule.action,
            // The root URL comes from Grafana's own environment (GF_SERVER_ROOT_URL, set in docker-compose.yml).
            dashboard: `${envRef(GRAFANA_ENV.ROOT_URL)}${dashboardPath(rule).slice(1)}`,
            __dashboardUid__: rule.dashboard.uid,
            __panelId__: String(panelId(rule.dashboard.uid, rule.dashboard.panel)),
          },
          isPaused: false,
        })),
      },
    ],
    contactPoints: [
      {
        orgId: 1,
        name: CONTACT_POINT,
        receivers: [
          {
            uid: CONTACT_POINT,
            type: 'telegram',
            disableResolveMessage: false,
            settings: {
              bottoken: envRef(GRAFANA_ENV.ALERT_BOT_TOKEN),
              chatid: envRef(GRAFANA_ENV.ALERT_CHAT_ID),
              parse_mode: 'HTML',
              disable_web_page_preview: true,
            },
          },
        ],
      },
    ],
    policies: [
      {
        orgId: 1,
        receiver: CONTACT_POINT,
        group_by: ['grafana_folder', 'alertname'],
        group_wait: '30s',
        group_interval: '5m',
        repeat_interval: '4h',
      },
    ],
  };
}
