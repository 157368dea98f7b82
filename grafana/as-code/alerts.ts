/**
 * The alert logic, written once. Each rule is a PromQL value, a comparison and a duration; it is emitted
 * both as Grafana-managed provisioned alert rules (grafana/provisioning/alerting) and as a Prometheus rules
 * file (otel/rules/tracegram.rules.yaml), so the two can never disagree.
 */
import { LABEL } from '../../src/telemetry/conventions.js';
import { GRAFANA_DATASOURCE } from '../../src/telemetry/grafana.js';
import { DASHBOARD_UID } from './dashboard-uids.js';
import { COLLECTOR_DROP_METRICS, SCRAPE_JOB, SDK_DROP_METRICS } from './external-metrics.js';
import { ext, orZero, sel, sumIncrease, sumRate } from './promql.js';
import { envRef, GRAFANA_ENV, verbatim } from './provisioning.js';

export type Severity = 'warning' | 'critical';

/** Maps a duration written in a rule to the one used: itself, or shortened by the end-to-end test. */
export type Duration = (duration: string) => string;

export interface AlertRule {
  /** Prometheus `alertname` and Grafana rule title. */
  name: string;
  /** Grafana rule uid (at most 40 characters). */
  uid: string;
  severity: Severity;
  /** The measured value; every range in it is written through `d`. */
  query: (d: Duration) => string;
  /** The longest range the query looks back over (Grafana's relative time range). */
  lookback: string;
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

const asWritten: Duration = (duration) => duration;

/** Error ratio thresholds: the share of updates that ended with outcome `error`. */
export const ERROR_RATIO = { warning: 0.05, critical: 0.2 } as const;
/** The window the error-ratio alerts (and the "Error ratio" panel) measure over. */
export const ERROR_RATIO_WINDOW = '5m';
/**
 * Fewer updates than this in the window and the ratio is noise (one failure in four updates is 25%):
 * the error-ratio alerts stay quiet. The one place this volume is set.
 */
export const MIN_UPDATES_FOR_RATIO = 10;

/**
 * Fraction of updates that ended in a real failure (outcome `error`) over `window`. `zeroWithoutErrors`
 * makes a window without any error series answer 0 instead of no data (panels; alerts keep no data).
 */
export function errorRatio(window: string, { zeroWithoutErrors = false } = {}): string {
  const errors = sumRate(sel('UPDATES', { [LABEL.OUTCOME]: 'error' }), window);
  return `${zeroWithoutErrors ? orZero(errors) : errors} / ${sumRate(sel('UPDATES'), window)}`;
}

/** `expr`, kept only while at least MIN_UPDATES_FOR_RATIO updates were handled in `window`. */
function withEnoughUpdates(expr: string, window: string): string {
  return `(${expr}) and on() (${sumIncrease(sel('UPDATES'), window)} >= ${MIN_UPDATES_FOR_RATIO})`;
}

const percent = (ratio: number) => `${ratio * 100}%`;

/** Job failure ratio thresholds: the share of generation jobs that ended in a failure of ours or the provider's. */
export const JOB_FAILURE_RATIO = { warning: 0.2 } as const;
export const JOB_FAILURE_WINDOW = '15m';
/** Fewer jobs than this in the window and one failure is not a trend. */
export const MIN_JOBS_FOR_RATIO = 5;
/** A queued job waiting longer than this for a worker means no worker is taking jobs. */
export const STUCK_QUEUE_AGE_S = 120;

/**
 * Share of generation jobs that ended with outcome `error` (PROVIDER_ERROR, DOWNSTREAM_TIMEOUT,
 * INTERNAL_ERROR) over `window`. A user who blocked the bot (BOT_BLOCKED, outcome `rejected`) is no failure.
 */
export function jobFailureRatio(window: string, { zeroWithoutErrors = false } = {}): string {
  const failed = sumIncrease(sel('JOBS', { [LABEL.OUTCOME]: 'error' }), window);
  return `${zeroWithoutErrors ? orZero(failed) : failed} / ${sumIncrease(sel('JOBS'), window)}`;
}

const ERROR_RATIO_ACTION =
  'Open "Reason codes" on Bot overview to see which reason code dominates, then click through to its traces. ' +
  'INTERNAL_ERROR with Bot API errors: Telegram or the network is failing (check "Bot API errors"); ' +
  'DB_ERROR: Postgres; DOWNSTREAM_TIMEOUT: a provider. A recent deploy is the usual suspect.';

/** Lost telemetry, summed: the bot SDK's drops and failed exports and every collector drop counter, 0 when absent. */
function droppedTelemetry(window: string): string {
  return [
    ...SDK_DROP_METRICS.map((m) => ext(m, { error_type: ['!=', ''] })),
    ...COLLECTOR_DROP_METRICS.map((m) => ext(m)),
  ]
    .map((selector) => orZero(sumIncrease(selector, window)))
    .join(' + ');
}

const collectorDown = `${ext('up', { job: SCRAPE_JOB.COLLECTOR })} == 0`;

export const ALERT_RULES: readonly AlertRule[] = [
  {
    // A band below the critical threshold, so one incident raises one alert, not a warning and a page.
    name: 'TracegramErrorRatioHigh',
    uid: 'tracegram-error-ratio-warning',
    severity: 'warning',
    query: (d) =>
      withEnoughUpdates(
        `(${errorRatio(d(ERROR_RATIO_WINDOW))}) <= ${ERROR_RATIO.critical}`,
        d(ERROR_RATIO_WINDOW),
      ),
    lookback: ERROR_RATIO_WINDOW,
    op: '>',
    threshold: ERROR_RATIO.warning,
    for: '5m',
    valueFormat: 'percent',
    summary: `Between ${percent(ERROR_RATIO.warning)} and ${percent(ERROR_RATIO.critical)} of updates end in an error`,
    action: ERROR_RATIO_ACTION,
    dashboard: { uid: DASHBOARD_UID.OVERVIEW, panel: 'Error ratio' },
  },
  {
    name: 'TracegramErrorRatioCritical',
    uid: 'tracegram-error-ratio-critical',
    severity: 'critical',
    query: (d) => withEnoughUpdates(errorRatio(d(ERROR_RATIO_WINDOW)), d(ERROR_RATIO_WINDOW)),
    lookback: ERROR_RATIO_WINDOW,
    op: '>',
    threshold: ERROR_RATIO.critical,
    for: '5m',
    valueFormat: 'percent',
    summary: `More than ${percent(ERROR_RATIO.critical)} of updates end in an error`,
    action: ERROR_RATIO_ACTION,
    dashboard: { uid: DASHBOARD_UID.OVERVIEW, panel: 'Error ratio' },
  },
  {
    // The series exist at 0 from start-up, so the first silent update is an increase like any other; a
    // counter that stands still across a gap in the metrics is not.
    name: 'TracegramSilentUpdate',
    uid: 'tracegram-silent-update',
    severity: 'warning',
    query: (d) => sumIncrease(sel('SILENT_UPDATES'), d('10m')),
    lookback: '10m',
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
    // Gated on an instance reporting its role (the process is up and exporting) and on updates in the last
    // day (users exist): an idle development stack that never saw an update stays quiet.
    name: 'TracegramNoUpdates',
    uid: 'tracegram-no-updates',
    severity: 'warning',
    query: (d) =>
      `${sumIncrease(sel('UPDATES'), d('30m'))} and on() (count(${sel('INSTANCE_ROLE')}) > 0) and on() (${sumIncrease(sel('UPDATES'), d('1d'))} >= 1)`,
    lookback: '1d',
    op: '<',
    threshold: 1,
    for: '5m',
    valueFormat: 'number',
    summary: 'The bot handled updates today but none for 30 minutes',
    action:
      'Check "Instance roles" (is any instance polling or receiving the webhook?) and the bot logs for ' +
      'WEBHOOK_REJECTED or Bot API errors on getUpdates. In webhook mode check PUBLIC_URL and WEBHOOK_SECRET; ' +
      'in polling mode, another process polling with the same token steals the updates. A quiet hour on a ' +
      'small bot also ends here: silence it if users are simply asleep.',
    dashboard: { uid: DASHBOARD_UID.OVERVIEW, panel: 'Instance roles' },
  },
  {
    // The bot pushes its metrics through the collector: while the collector is down, TracegramCollectorDown
    // says so and this one stays quiet instead of blaming the bot.
    name: 'TracegramBotDown',
    uid: 'tracegram-bot-down',
    severity: 'critical',
    query: (d) => `absent_over_time(${sel('INSTANCE_ROLE')}[${d('10m')}]) unless on() (${collectorDown})`,
    lookback: '10m',
    op: '>',
    threshold: 0,
    for: '2m',
    valueFormat: 'number',
    summary: 'No bot instance has reported for 10 minutes: the bot is down or its metrics do not arrive',
    action:
      'Check the bot process (`docker compose ps bot`, `docker compose logs bot`): POLLING_STOPPED, ' +
      'APP_START_FAILED or CONFIG_INVALID say why it stopped. If it runs, its metrics are lost on the way: ' +
      'look at "Telemetry health" and the TELEMETRY_ERROR lines on its stderr.',
    dashboard: { uid: DASHBOARD_UID.OVERVIEW, panel: 'Instance roles' },
  },
  {
    // The collector image cannot run a Docker healthcheck (docs/observability.md); this is its health check.
    name: 'TracegramCollectorDown',
    uid: 'tracegram-collector-down',
    severity: 'critical',
    query: () => ext('up', { job: SCRAPE_JOB.COLLECTOR }),
    lookback: '1m',
    op: '<',
    threshold: 1,
    for: '2m',
    valueFormat: 'number',
    summary:
      'Prometheus cannot scrape the OpenTelemetry Collector: traces, logs and metrics are not arriving',
    action:
      'The collector is down or unreachable (`docker compose ps otel-collector`, `docker compose logs ' +
      'otel-collector`): a config error stops it at start-up. Until it is back every other alert is blind ' +
      'and the bot counts failed exports in otel_sdk_processor_span_processed_total{error_type!=""}.',
    dashboard: { uid: DASHBOARD_UID.OVERVIEW, panel: 'Stack components up' },
  },
  {
    name: 'TracegramJobFailureRatioHigh',
    uid: 'tracegram-job-failure-ratio',
    severity: 'warning',
    query: (d) =>
      `(${jobFailureRatio(d(JOB_FAILURE_WINDOW))}) and on() (${sumIncrease(sel('JOBS'), d(JOB_FAILURE_WINDOW))} >= ${MIN_JOBS_FOR_RATIO})`,
    lookback: JOB_FAILURE_WINDOW,
    op: '>',
    threshold: JOB_FAILURE_RATIO.warning,
    for: '5m',
    valueFormat: 'percent',
    summary: `More than ${percent(JOB_FAILURE_RATIO.warning)} of generation jobs fail (and are refunded)`,
    action:
      '"Jobs by reason" on Generations says which: PROVIDER_ERROR (the provider refuses or fails tasks: its ' +
      'status page, PROVIDER_API_KEY, quota), DOWNSTREAM_TIMEOUT (submits time out or callbacks do not arrive: ' +
      'is PUBLIC_URL/provider/callback reachable from the provider? PROVIDER_CALLBACK_REJECTED lines mean a ' +
      'wrong PROVIDER_CALLBACK_SECRET), INTERNAL_ERROR (delivery to Telegram fails). Every failed job was refunded.',
    dashboard: { uid: DASHBOARD_UID.GENERATIONS, panel: 'Job failure ratio' },
  },
  {
    name: 'TracegramJobQueueStuck',
    uid: 'tracegram-job-queue-stuck',
    severity: 'critical',
    query: () => `max(${sel('JOB_QUEUE_OLDEST_AGE')})`,
    lookback: '5m',
    op: '>',
    threshold: STUCK_QUEUE_AGE_S,
    for: '2m',
    valueFormat: 'number',
    summary: `A generation job has waited more than ${STUCK_QUEUE_AGE_S} s for a worker: the queue is stuck`,
    action:
      'No worker is taking jobs. Check that a bot process runs (workers live in it) and its logs for ' +
      'QUEUE_ERROR (pg-boss cannot reach the database). "Queue depth by state" on Generations shows the backlog; ' +
      'WORKER_CONCURRENCY may be too low for the traffic. Queued jobs are refunded at their deadline (JOB_TIMEOUT_S).',
    dashboard: { uid: DASHBOARD_UID.GENERATIONS, panel: 'Oldest queued job' },
  },
  {
    name: 'TracegramTelemetryDropping',
    uid: 'tracegram-telemetry-dropping',
    severity: 'warning',
    query: (d) => droppedTelemetry(d('10m')),
    lookback: '10m',
    op: '>',
    threshold: 0,
    for: '5m',
    valueFormat: 'number',
    summary: 'Telemetry is being dropped between the bot, the collector and the backends',
    action:
      '"Telemetry health" on Bot overview shows which signal fails and where. Bot side, queue_full: the bot ' +
      'produces faster than it can export (a slow collector; raise OTEL_BSP_MAX_QUEUE_SIZE only if the collector ' +
      'keeps up); another error_type: the collector is down or unreachable (OTEL_EXPORTER_OTLP_ENDPOINT). Refused: the collector memory_limiter ' +
      'is shedding load. Queue full: a backend is too slow or down and the sending queue overflowed. Send ' +
      'failures: Tempo, Loki or Prometheus is down or rejecting.',
    dashboard: { uid: DASHBOARD_UID.OVERVIEW, panel: 'Telemetry health' },
  },
  {
    // Telegram has taken the Stars and will not deliver that successful_payment again: every one is a user owed.
    name: 'TracegramPaymentNotCredited',
    uid: 'tracegram-payment-not-credited',
    severity: 'critical',
    query: (d) =>
      `${orZero(sumIncrease(sel('LEDGER_OPERATIONS', { [LABEL.OPERATION]: 'credit', [LABEL.RESULT]: 'error' }), d('15m')))} + ${orZero(sumIncrease(sel('UPDATES', { [LABEL.REASON_CODE]: 'PAYMENT_UNMATCHED' }), d('15m')))}`,
    lookback: '15m',
    op: '>',
    threshold: 0,
    for: '0s',
    valueFormat: 'number',
    summary: 'A Telegram Stars payment was taken but not credited',
    action:
      'Open "Payments credited and duplicates" on Payments and the traces behind it. A credit that failed ' +
      '(DB_ERROR) left the user paid and uncredited; the user was shown a support code and the PAYMENT_CREDIT_FAILED ' +
      'log line holds the charge id. PAYMENT_UNMATCHED is a payment for an invoice this bot did not make. Either way ' +
      'refund the Stars (Bot API refundStarPayment with the user id and the charge id) or credit the user by hand, ' +
      'then answer them through /paysupport.',
    dashboard: { uid: DASHBOARD_UID.PAYMENTS, panel: 'Payments credited and duplicates' },
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
  const d: Duration = timeScale === 1 ? asWritten : (duration) => scaled(duration, timeScale);
  return `(${rule.query(d)}) ${rule.op} ${rule.threshold}`;
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
 * Grafana-managed alerting provisioning, as Grafana should read it. provisioning.ts writes a literal `$` as
 * `$$` where Grafana expands `$VAR` from its environment (titles, labels, contact point settings) and leaves
 * `verbatim` fields as they are: Grafana stores rule annotations and query models without interpolation,
 * so the Go template in a summary is written with a single `$`, and the dashboard link uses the template
 * function `externalURL` (Grafana's root_url, which always ends in `/`) instead of an env reference.
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
              relativeTimeRange: { from: durationSeconds(rule.lookback), to: 0 },
              datasourceUid: prom.uid,
              model: verbatim({
                refId: 'A',
                expr: rule.query(asWritten),
                instant: true,
                range: false,
                intervalMs: 60_000,
              }),
            },
            {
              refId: 'C',
              datasourceUid: '__expr__',
              model: verbatim({
                refId: 'C',
                type: 'threshold',
                expression: 'A',
                conditions: [{ evaluator: { type: GRAFANA_OP[rule.op], params: [rule.threshold] } }],
              }),
            },
          ],
          noDataState: 'OK',
          execErrState: 'Error',
          for: rule.for,
          labels: { severity: rule.severity, service: 'tracegram' },
          annotations: verbatim({
            summary: `${rule.summary} (now {{ ${rule.valueFormat === 'percent' ? 'humanizePercentage' : 'humanize'} $values.A.Value }})`,
            description: rule.action,
            // externalURL is GF_SERVER_ROOT_URL (docker-compose.yml), with its trailing slash.
            dashboard: `{{ externalURL }}${dashboardPath(rule).slice(1)}`,
            __dashboardUid__: rule.dashboard.uid,
            __panelId__: String(panelId(rule.dashboard.uid, rule.dashboard.panel)),
          }),
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
