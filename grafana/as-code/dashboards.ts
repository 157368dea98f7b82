/**
 * Dashboards as code. A dashboard is a list of sections, a section a list of panel specs; layout, ids,
 * datasources and trace links are derived. Adding a panel is one entry in one of the lists below, and its
 * queries can only name metrics the code emits (promql.ts checks names and labels as they are built).
 */
import { SeverityNumber } from '@opentelemetry/api';
import { ATTR, BOTAPI_OK_CODE, LABEL, METRIC_LABELS } from '../../src/telemetry/conventions.js';
import { exploreUrl, GRAFANA_DATASOURCE, LOKI_FIELD } from '../../src/telemetry/grafana.js';
import { ALL_OUTCOMES, ALL_REASON_CODES, type Outcome } from '../../src/telemetry/reason-codes.js';
import { SCREEN, type ScreenId } from '../../src/ui/registry.js';
import {
  ERROR_RATIO,
  ERROR_RATIO_WINDOW,
  errorRatio,
  JOB_FAILURE_RATIO,
  JOB_FAILURE_WINDOW,
  jobFailureRatio,
  STUCK_QUEUE_AGE_S,
} from './alerts.js';
import { DASHBOARD_UID } from './dashboard-uids.js';
import { COLLECTOR_DROP_METRICS, SDK_DROP_METRICS } from './external-metrics.js';
import { LOKI_OTLP_FIELD } from './loki.js';
import { ext, histogramQuantile, orZero, quantile, sel, sumIncrease, sumRate } from './promql.js';
import { grafanaVar } from './provisioning.js';

// ---------------------------------------------------------------------------------------------------------
// Trace links: from a metric label to the span attribute that carries the same value.

type LabelName = (typeof LABEL)[keyof typeof LABEL];
type AttrKey = (typeof ATTR)[keyof typeof ATTR];

/** Metric labels whose values are also span attributes of the update's trace. */
export const LABEL_ATTRIBUTE: Partial<Record<LabelName, AttrKey>> = {
  [LABEL.UPDATE_TYPE]: ATTR.UPDATE_TYPE,
  [LABEL.HANDLER]: ATTR.HANDLER,
  [LABEL.OUTCOME]: ATTR.OUTCOME,
  [LABEL.REASON_CODE]: ATTR.REASON_CODE,
  [LABEL.METHOD]: ATTR.BOTAPI_METHOD,
  [LABEL.SCREEN_ID]: ATTR.SCREEN_ID,
  [LABEL.PACKAGE]: ATTR.PAYMENT_PACKAGE,
  [LABEL.MODEL]: ATTR.JOB_MODEL,
};

/** Dashboard variable holding the OTel service.name (Loki's service_name stream label, Tempo's resource). */
export const SERVICE_VARIABLE = 'service';

export type TraceCondition = readonly [AttrKey | 'status' | 'duration', '=' | '=~' | '>', string];

/** TraceQL for the bot's spans matching every condition; string values are quoted, intrinsics are not. */
export function traceQuery(conditions: readonly TraceCondition[]): string {
  const parts = [`resource.service.name = "$${SERVICE_VARIABLE}"`];
  for (const [field, op, value] of conditions) {
    parts.push(
      field === 'status' || field === 'duration'
        ? `${field} ${op} ${value}`
        : `span.${field} ${op} "${value}"`,
    );
  }
  return `{ ${parts.join(' && ')} }`;
}

const FROM = '__tg_from__';
const TO = '__tg_to__';
const labelPlaceholder = (label: string) => `__tg_label_${label}__`;

/** An Explore link (relative to Grafana) to the traces of a TraceQL query over the dashboard's time range. */
function tracesLink(conditions: readonly TraceCondition[], seriesLabels: readonly string[] = []): string {
  // Grafana interpolates variables in link URLs before the browser decodes them, so they stay unencoded.
  const raw: Record<string, string> = {
    [FROM]: grafanaVar('__from'),
    [TO]: grafanaVar('__to'),
    [`$${SERVICE_VARIABLE}`]: grafanaVar(SERVICE_VARIABLE),
  };
  for (const label of seriesLabels) raw[labelPlaceholder(label)] = grafanaVar(`__field.labels.${label}`);
  return exploreUrl(
    '',
    { datasource: 'TEMPO', query: traceQuery(conditions), range: { from: FROM, to: TO } },
    raw,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Panel specs

export type Query =
  | {
      prom: string;
      legend?: string;
      instant?: boolean;
      /** Ask Prometheus for exemplars: only for metrics that carry them (external-metrics.ts `exemplars`). */
      exemplars?: boolean;
    }
  | { traceql: string }
  | { logql: string };

export interface PanelSpec {
  title: string;
  /** The question the panel answers (shown as the panel description). */
  answers: string;
  kind: 'timeseries' | 'stat' | 'bargauge' | 'traces' | 'logs';
  width: 6 | 8 | 12 | 16 | 24;
  height?: number;
  unit?: string;
  queries: readonly Query[];
  stacked?: boolean;
  thresholds?: readonly { value: number; color: string }[];
  /** Colour below the first threshold (default green). */
  baseColor?: string;
  /** The traces behind the whole panel, and per series by these metric labels (mapped by LABEL_ATTRIBUTE). */
  traces?: { where: readonly TraceCondition[]; bySeries?: readonly LabelName[] };
}

export interface SectionSpec {
  title: string;
  panels: readonly PanelSpec[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  sections: readonly SectionSpec[];
}

const outcome = (o: Outcome): Outcome => o;
/** Outcomes that end a journey without the user getting what they asked for. */
const DROP_OUTCOMES = ALL_OUTCOMES.filter((o) => o !== 'success' && o !== 'noop');
const DROP_RE = DROP_OUTCOMES.join('|');
/**
 * Every log line at warn or above, by the OTLP severity Loki stores with each record (loki.ts): not by
 * event name, which would miss new error events (and TELEMETRY_ERROR goes to stderr, never to Loki).
 */
export const FAILURE_LOG_FILTER = `${LOKI_OTLP_FIELD.SEVERITY_NUMBER} >= ${SeverityNumber.WARN}`;
const RI = '$__rate_interval';
const RANGE = '$__range';
const BOTAPI_FAILED = { [LABEL.ERROR_CODE]: ['!=', BOTAPI_OK_CODE] } as const;

const byLabels = (labels: readonly string[]) => labels.map((l) => `{{${l}}}`).join(' ');

/** `otel_sdk_processor_span_processed_total` → `spans`. */
function sdkDropLegend(metric: (typeof SDK_DROP_METRICS)[number]): string {
  return { span: 'spans', log: 'log records', metric_data_point: 'metric points' }[
    /^otel_sdk_(?:processor|exporter)_(\w+?)_(?:processed|exported)_total$/.exec(metric)?.[1] as
      | 'span'
      | 'log'
      | 'metric_data_point'
  ];
}

/** Legend of a collector drop counter: `otelcol_exporter_enqueue_failed_spans_total` → `queue full: spans`. */
function dropLegend(metric: (typeof COLLECTOR_DROP_METRICS)[number]): string {
  const [, stage = '', signal = ''] =
    /^otelcol_(receiver_refused|exporter_enqueue_failed|exporter_send_failed)_(\w+)_total$/.exec(metric) ??
    [];
  const what = {
    receiver_refused: 'refused',
    exporter_enqueue_failed: 'queue full',
    exporter_send_failed: 'send failed',
  }[stage];
  return `${what}: ${signal.replaceAll('_', ' ')}${stage.startsWith('exporter') ? ' {{exporter}}' : ''}`;
}

/**
 * start → category → model → parameters → confirm → queued (a paid generation; Repeat lands there too),
 * in the UI registry's screen ids.
 */
export const FUNNEL: readonly ScreenId[] = [
  SCREEN.MAIN_MENU,
  SCREEN.CATEGORY_PICK,
  SCREEN.MODEL_PICK,
  SCREEN.PARAMS_FORM,
  SCREEN.CONFIRM,
  SCREEN.QUEUED,
];

export const BOT_OVERVIEW: DashboardSpec = {
  uid: DASHBOARD_UID.OVERVIEW,
  title: 'Tracegram · Bot overview',
  description: 'Is the bot answering, how fast, what fails, and is its telemetry arriving?',
  sections: [
    {
      title: 'Traffic and outcomes',
      panels: [
        {
          title: 'Updates/s by outcome',
          answers:
            'How many updates per second end in each outcome (success, noop, rejected, error, silent)?',
          kind: 'timeseries',
          width: 12,
          unit: 'reqps',
          stacked: true,
          queries: [
            { prom: sumRate(sel('UPDATES'), RI, [LABEL.OUTCOME]), legend: byLabels([LABEL.OUTCOME]) },
          ],
          traces: { where: [], bySeries: [LABEL.OUTCOME] },
        },
        {
          title: 'Error ratio',
          answers: `Which share of updates fails (outcome error), as the error-ratio alerts see it (${ERROR_RATIO_WINDOW} window; 0 while nothing fails)?`,
          kind: 'timeseries',
          width: 12,
          unit: 'percentunit',
          queries: [
            {
              prom: errorRatio(ERROR_RATIO_WINDOW, { zeroWithoutErrors: true }),
              legend: 'error ratio',
            },
          ],
          thresholds: [
            { value: ERROR_RATIO.warning, color: 'orange' },
            { value: ERROR_RATIO.critical, color: 'red' },
          ],
          traces: { where: [[ATTR.OUTCOME, '=', outcome('error')]] },
        },
        {
          title: 'Reason codes',
          answers: 'Why do updates not succeed: which reason codes, how often?',
          kind: 'timeseries',
          width: 12,
          unit: 'reqps',
          stacked: true,
          queries: [
            {
              prom: sumRate(sel('UPDATES', { [LABEL.OUTCOME]: ['!=', outcome('success')] }), RI, [
                LABEL.REASON_CODE,
              ]),
              legend: byLabels([LABEL.REASON_CODE]),
            },
          ],
          traces: { where: [], bySeries: [LABEL.REASON_CODE] },
        },
        {
          title: 'Silent updates',
          answers: 'Did any update end without a reason code (the user saw nothing), and in which handler?',
          kind: 'timeseries',
          width: 12,
          unit: 'short',
          queries: [
            {
              prom: sumIncrease(sel('SILENT_UPDATES'), RI, [LABEL.HANDLER, LABEL.UPDATE_TYPE]),
              legend: byLabels([LABEL.HANDLER, LABEL.UPDATE_TYPE]),
            },
          ],
          traces: { where: [[ATTR.OUTCOME, '=', outcome('silent')]], bySeries: [LABEL.HANDLER] },
        },
      ],
    },
    {
      title: 'Latency',
      panels: [
        {
          title: 'Update latency by handler (p50, p95, p99)',
          answers: 'How long from receiving an update to its outcome, per handler?',
          kind: 'timeseries',
          width: 12,
          unit: 's',
          queries: [0.5, 0.95, 0.99].map((q) => ({
            prom: quantile(q, 'UPDATE_DURATION', RI, [LABEL.HANDLER]),
            legend: `p${q * 100} ${byLabels([LABEL.HANDLER])}`,
          })),
          traces: { where: [['duration', '>', '250ms']], bySeries: [LABEL.HANDLER] },
        },
        {
          title: 'Waiting before handling (p95): update age and queue wait',
          answers:
            'How long did updates wait before their handling started? Age counts from when the user sent the ' +
            'update (else from its receipt); queue wait from its receipt to the start of handling (runner ' +
            'queue, the chat\'s lock). A gap here is "I pressed and nothing happened".',
          kind: 'timeseries',
          width: 12,
          unit: 's',
          queries: [
            {
              prom: quantile(0.95, 'UPDATE_AGE', RI, [LABEL.UPDATE_TYPE]),
              legend: `age p95 ${byLabels([LABEL.UPDATE_TYPE])}`,
            },
            {
              prom: quantile(0.95, 'UPDATE_QUEUE_WAIT', RI, [LABEL.UPDATE_TYPE]),
              legend: `queue wait p95 ${byLabels([LABEL.UPDATE_TYPE])}`,
            },
          ],
          // TraceQL here compares attributes as strings; the slow updates include those that waited on the lock.
          traces: { where: [['duration', '>', '1s']], bySeries: [LABEL.UPDATE_TYPE] },
        },
        {
          title: 'Span latency p95 by span name (from traces, with exemplars)',
          answers:
            'How long does each kind of span take (updates, stages, Bot API calls, store queries)? Computed by ' +
            'Tempo from the traces it keeps; each dot is an exemplar: click it to open that trace.',
          kind: 'timeseries',
          width: 12,
          unit: 's',
          queries: [
            {
              prom: histogramQuantile(
                0.95,
                ext('traces_spanmetrics_latency_bucket', { service: `$${SERVICE_VARIABLE}` }),
                RI,
                ['span_name'],
              ),
              legend: 'p95 {{span_name}}',
              exemplars: true,
            },
          ],
          traces: { where: [['duration', '>', '250ms']] },
        },
      ],
    },
    {
      title: 'Telegram Bot API',
      panels: [
        {
          title: 'Bot API errors by method and code',
          answers: `Which Bot API calls fail, with which error code (${LABEL.ERROR_CODE} "network": no HTTP answer)?`,
          kind: 'timeseries',
          width: 12,
          unit: 'reqps',
          queries: [
            {
              prom: sumRate(sel('BOTAPI_CALLS', BOTAPI_FAILED), RI, [LABEL.METHOD, LABEL.ERROR_CODE]),
              legend: byLabels([LABEL.METHOD, LABEL.ERROR_CODE]),
            },
          ],
          traces: { where: [['status', '=', 'error']], bySeries: [LABEL.METHOD] },
        },
        {
          title: 'Bot API latency p95 by method',
          answers: 'Is Telegram slow to answer, and for which methods?',
          kind: 'timeseries',
          width: 12,
          unit: 's',
          queries: [
            {
              prom: quantile(0.95, 'BOTAPI_DURATION', RI, [LABEL.METHOD]),
              legend: `p95 ${byLabels([LABEL.METHOD])}`,
            },
          ],
          traces: { where: [['duration', '>', '1s']], bySeries: [LABEL.METHOD] },
        },
      ],
    },
    {
      title: 'Instances and telemetry',
      panels: [
        {
          title: 'Instance roles',
          answers:
            'Which instances are running, and in which role (the "should be live" of the no-updates alert)?',
          kind: 'stat',
          width: 12,
          unit: 'short',
          queries: [
            {
              prom: `sum by (${METRIC_LABELS.INSTANCE_ROLE.join(', ')}, instance) (${sel('INSTANCE_ROLE')})`,
              legend: `{{${LABEL.ROLE}}} {{instance}}`,
              instant: true,
            },
          ],
        },
        {
          title: 'Stack components up',
          answers:
            'Can Prometheus reach the collector, Tempo, Loki, itself and the bot (1 up, 0 down)? The collector ' +
            'has no Docker healthcheck: this is it. The bot (tracegram-bot) is its metrics listener answering.',
          kind: 'stat',
          width: 12,
          unit: 'short',
          baseColor: 'red',
          thresholds: [{ value: 1, color: 'green' }],
          queries: [{ prom: ext('up'), legend: '{{job}}', instant: true }],
        },
        {
          title: 'Telemetry health',
          answers:
            'Is telemetry getting through? The bot SDK dropping spans and log records (queue_full) or failing ' +
            'to export them, and failed metric exports; collector refusals, full sending queues and send ' +
            'failures for spans, logs and metric points.',
          kind: 'timeseries',
          width: 24,
          unit: 'short',
          queries: [
            ...SDK_DROP_METRICS.map((metric) => ({
              prom: sumIncrease(ext(metric, { error_type: ['!=', ''] }), RI, ['error_type']),
              legend: `bot ${sdkDropLegend(metric)}: {{error_type}}`,
            })),
            ...COLLECTOR_DROP_METRICS.map((metric) => ({
              prom: sumIncrease(ext(metric), RI, metric.startsWith('otelcol_exporter') ? ['exporter'] : []),
              legend: dropLegend(metric),
            })),
            {
              prom: sumIncrease(ext('otelcol_receiver_accepted_spans_total'), RI),
              legend: 'collector accepted spans',
            },
          ],
        },
      ],
    },
    {
      title: 'Recent failures',
      panels: [
        {
          title: 'Failed and silent updates (traces)',
          answers: 'Which recent updates failed or went silent? Click a trace id to open it, then its logs.',
          kind: 'traces',
          width: 12,
          height: 10,
          queries: [
            { traceql: traceQuery([[ATTR.OUTCOME, '=~', `${outcome('error')}|${outcome('silent')}`]]) },
          ],
        },
        {
          title: 'Failure logs',
          answers:
            'What did the bot log at warn, error or fatal level (rejections, failures, Bot API errors)? Each line links to its trace.',
          kind: 'logs',
          width: 12,
          height: 10,
          queries: [{ logql: `{${LOKI_FIELD.SERVICE_NAME}="$${SERVICE_VARIABLE}"} | ${FAILURE_LOG_FILTER}` }],
        },
      ],
    },
  ],
};

export const USER_JOURNEYS: DashboardSpec = {
  uid: DASHBOARD_UID.JOURNEYS,
  title: 'Tracegram · User journeys',
  description: 'How far do users get from /start to confirm, and what stops them?',
  sections: [
    {
      title: 'Funnel',
      panels: [
        {
          title: 'Funnel: start → category → model → parameters → confirm',
          answers: 'How many screen views each step of the generate journey got in the selected range?',
          kind: 'bargauge',
          width: 12,
          height: 9,
          unit: 'short',
          queries: FUNNEL.map((screen) => ({
            prom: sumIncrease(sel('SCREEN_VIEWS', { [LABEL.SCREEN_ID]: screen }), RANGE),
            legend: screen,
            instant: true,
          })),
          traces: { where: [[ATTR.SCREEN_ID, '=~', FUNNEL.join('|')]] },
        },
        {
          title: 'Start → confirm conversion',
          answers: 'Which share of journeys that reached the main menu got to the confirm screen?',
          kind: 'stat',
          width: 12,
          height: 9,
          unit: 'percentunit',
          queries: [
            {
              prom: `${orZero(sumIncrease(sel('SCREEN_VIEWS', { [LABEL.SCREEN_ID]: SCREEN.CONFIRM }), RANGE))} / ${sumIncrease(sel('SCREEN_VIEWS', { [LABEL.SCREEN_ID]: SCREEN.MAIN_MENU }), RANGE)}`,
              legend: 'conversion',
              instant: true,
            },
          ],
          traces: { where: [[ATTR.SCREEN_ID, '=', SCREEN.CONFIRM]] },
        },
      ],
    },
    {
      title: 'Drop-off',
      panels: [
        {
          title: 'Drop-off by reason code',
          answers: `Where and why do users drop out (outcomes ${DROP_OUTCOMES.join(', ')}, by reason code and handler)?`,
          kind: 'bargauge',
          width: 12,
          height: 9,
          unit: 'short',
          queries: [
            {
              prom: sumIncrease(sel('UPDATES', { [LABEL.OUTCOME]: ['=~', DROP_RE] }), RANGE, [
                LABEL.REASON_CODE,
                LABEL.HANDLER,
              ]),
              legend: byLabels([LABEL.REASON_CODE, LABEL.HANDLER]),
              instant: true,
            },
          ],
          traces: { where: [[ATTR.OUTCOME, '=~', DROP_RE]], bySeries: [LABEL.REASON_CODE, LABEL.HANDLER] },
        },
        {
          title: 'Screen views/s',
          answers: 'Which screens are users looking at right now?',
          kind: 'timeseries',
          width: 12,
          height: 9,
          unit: 'reqps',
          queries: [
            {
              prom: sumRate(sel('SCREEN_VIEWS'), RI, [LABEL.SCREEN_ID]),
              legend: byLabels([LABEL.SCREEN_ID]),
            },
          ],
          traces: { where: [], bySeries: [LABEL.SCREEN_ID] },
        },
        {
          title: 'Rejections by handler',
          answers: 'Which handlers reject input (stale buttons, validation, rate limits) and why?',
          kind: 'timeseries',
          width: 24,
          unit: 'reqps',
          stacked: true,
          queries: [
            {
              prom: sumRate(sel('UPDATES', { [LABEL.OUTCOME]: outcome('rejected') }), RI, [
                LABEL.HANDLER,
                LABEL.REASON_CODE,
              ]),
              legend: byLabels([LABEL.HANDLER, LABEL.REASON_CODE]),
            },
          ],
          traces: {
            where: [[ATTR.OUTCOME, '=', outcome('rejected')]],
            bySeries: [LABEL.HANDLER, LABEL.REASON_CODE],
          },
        },
      ],
    },
    {
      title: 'Journeys',
      panels: [
        {
          title: 'Recent confirm journeys (traces)',
          answers:
            'Which recent updates reached the confirm screen? Open one to follow the user step by step.',
          kind: 'traces',
          width: 24,
          height: 10,
          queries: [{ traceql: traceQuery([[ATTR.SCREEN_ID, '=', SCREEN.CONFIRM]]) }],
        },
      ],
    },
  ],
};

const PRE_CHECKOUT = { [LABEL.UPDATE_TYPE]: 'pre_checkout_query' } as const;
/** Telegram cancels a payment whose pre-checkout query is not answered within 10 s. */
const PRE_CHECKOUT_LIMIT_S = 10;
const LEDGER_TROUBLE = 'error|insufficient|not_reserved|unknown_payment';
const PROMO_CODES_RE = ALL_REASON_CODES.filter((code) => code.startsWith('PROMO_')).join('|');

export const PAYMENTS: DashboardSpec = {
  uid: DASHBOARD_UID.PAYMENTS,
  title: 'Tracegram · Payments',
  description:
    'Are users able to pay in Telegram Stars, is every payment credited exactly once, and does the money add up?',
  sections: [
    {
      title: 'Top-ups in Telegram Stars',
      panels: [
        {
          title: 'Stars received by package',
          answers:
            'How many Telegram Stars did credited payments bring in, per top-up package (duplicates excluded)?',
          kind: 'timeseries',
          width: 12,
          unit: 'short',
          stacked: true,
          queries: [
            {
              prom: sumIncrease(sel('PAYMENT_STARS'), RI, [LABEL.PACKAGE]),
              legend: byLabels([LABEL.PACKAGE]),
            },
          ],
          traces: { where: [[ATTR.UPDATE_TYPE, '=', 'message']], bySeries: [LABEL.PACKAGE] },
        },
        {
          title: 'Payments credited and duplicates',
          answers:
            'How many successful_payment updates credited a balance, and how many were redeliveries of a payment already credited (DUPLICATE_PAYMENT: nothing credited twice)?',
          kind: 'timeseries',
          width: 12,
          unit: 'short',
          queries: [
            {
              prom: sumIncrease(sel('LEDGER_OPERATIONS', { [LABEL.OPERATION]: 'credit' }), RI, [
                LABEL.RESULT,
              ]),
              legend: byLabels([LABEL.RESULT]),
            },
          ],
          traces: { where: [[ATTR.HANDLER, '=', 'payments']] },
        },
        {
          title: 'Pre-checkout answers by reason code',
          answers:
            'Which pre-checkout queries were accepted, and why were the others refused (unknown package, price mismatch, blocked user, a failure)?',
          kind: 'timeseries',
          width: 12,
          unit: 'short',
          stacked: true,
          queries: [
            {
              prom: sumIncrease(sel('UPDATES', PRE_CHECKOUT), RI, [LABEL.REASON_CODE]),
              legend: byLabels([LABEL.REASON_CODE]),
            },
          ],
          traces: { where: [[ATTR.UPDATE_TYPE, '=', 'pre_checkout_query']], bySeries: [LABEL.REASON_CODE] },
        },
        {
          title: 'Pre-checkout answer time p99',
          answers: `How long do users wait for the pre-checkout answer? Telegram cancels the payment after ${PRE_CHECKOUT_LIMIT_S} s.`,
          kind: 'timeseries',
          width: 12,
          unit: 's',
          queries: [{ prom: quantile(0.99, 'UPDATE_DURATION', RI, [], PRE_CHECKOUT), legend: 'p99' }],
          thresholds: [
            { value: PRE_CHECKOUT_LIMIT_S / 2, color: 'orange' },
            { value: PRE_CHECKOUT_LIMIT_S, color: 'red' },
          ],
          traces: {
            where: [
              [ATTR.UPDATE_TYPE, '=', 'pre_checkout_query'],
              ['duration', '>', '1s'],
            ],
          },
        },
      ],
    },
    {
      title: 'Ledger',
      panels: [
        {
          title: 'Credits moved by entry kind',
          answers:
            'How many credits came in (payment, bonus), were set aside for jobs (reserve), spent (charge), given back (refund, stars_refund)?',
          kind: 'timeseries',
          width: 12,
          unit: 'short',
          queries: [
            { prom: sumIncrease(sel('LEDGER_CREDITS'), RI, [LABEL.KIND]), legend: byLabels([LABEL.KIND]) },
          ],
          traces: { where: [[ATTR.LEDGER_RESULT, '=~', 'credited|reserved|charged|refunded|granted']] },
        },
        {
          title: 'Ledger operations refused or failed',
          answers:
            'Which money operations did not happen: too little balance, nothing to settle, an unknown payment, or a store error?',
          kind: 'timeseries',
          width: 12,
          unit: 'short',
          stacked: true,
          queries: [
            {
              prom: sumIncrease(sel('LEDGER_OPERATIONS', { [LABEL.RESULT]: ['=~', LEDGER_TROUBLE] }), RI, [
                LABEL.OPERATION,
                LABEL.RESULT,
              ]),
              legend: byLabels([LABEL.OPERATION, LABEL.RESULT]),
            },
          ],
          traces: { where: [[ATTR.LEDGER_RESULT, '=~', LEDGER_TROUBLE]] },
        },
        {
          title: 'Promo codes by reason code',
          answers:
            'How many promo codes were redeemed, and why were the others refused (unknown, expired, used up, already used)?',
          kind: 'timeseries',
          width: 12,
          unit: 'short',
          stacked: true,
          queries: [
            {
              prom: sumIncrease(
                sel('UPDATES', { [LABEL.HANDLER]: 'payments', [LABEL.REASON_CODE]: ['=~', PROMO_CODES_RE] }),
                RI,
                [LABEL.REASON_CODE],
              ),
              legend: byLabels([LABEL.REASON_CODE]),
            },
            {
              prom: sumIncrease(
                sel('LEDGER_OPERATIONS', { [LABEL.OPERATION]: 'bonus', [LABEL.RESULT]: 'granted' }),
                RI,
              ),
              legend: 'bonuses granted (promo and referral)',
            },
          ],
          traces: { where: [[ATTR.HANDLER, '=', 'payments']] },
        },
        {
          title: 'Recent payments (traces)',
          answers:
            'Which payments arrived lately? Open one to see the credit, its ledger span and what the user was told.',
          kind: 'traces',
          width: 12,
          queries: [{ traceql: traceQuery([[ATTR.LEDGER_RESULT, '=~', 'credited|duplicate']]) }],
        },
      ],
    },
  ],
};

/** Reason codes a job can fail with (outcome error), for trace searches. */
const JOB_FAILURES = 'PROVIDER_ERROR|DOWNSTREAM_TIMEOUT|INTERNAL_ERROR';

export const GENERATIONS: DashboardSpec = {
  uid: DASHBOARD_UID.GENERATIONS,
  title: 'Tracegram · Generations',
  description: 'Are generation jobs delivered, how fast, why do they fail, and is the queue moving?',
  sections: [
    {
      title: 'Jobs',
      panels: [
        {
          title: 'Jobs by reason',
          answers:
            'How many jobs per second end, and how (SUCCESS delivered; every other reason was refunded)?',
          kind: 'timeseries',
          width: 12,
          unit: 'reqps',
          stacked: true,
          queries: [
            { prom: sumRate(sel('JOBS'), RI, [LABEL.REASON_CODE]), legend: byLabels([LABEL.REASON_CODE]) },
          ],
          traces: { where: [[ATTR.REASON_CODE, '=~', JOB_FAILURES]], bySeries: [LABEL.REASON_CODE] },
        },
        {
          title: 'Job failure ratio',
          answers: `Which share of jobs fails (outcome error), as the job-failure alert sees it (${JOB_FAILURE_WINDOW} window)?`,
          kind: 'timeseries',
          width: 12,
          unit: 'percentunit',
          queries: [
            {
              prom: jobFailureRatio(JOB_FAILURE_WINDOW, { zeroWithoutErrors: true }),
              legend: 'job failure ratio',
            },
          ],
          thresholds: [{ value: JOB_FAILURE_RATIO.warning, color: 'red' }],
          traces: { where: [[ATTR.REASON_CODE, '=~', JOB_FAILURES]] },
        },
        {
          title: 'Jobs by model and outcome',
          answers: 'Which models were used in the selected range, and how did their jobs end?',
          kind: 'bargauge',
          width: 12,
          unit: 'short',
          queries: [
            {
              prom: sumIncrease(sel('JOBS'), RANGE, [LABEL.MODEL, LABEL.OUTCOME]),
              legend: byLabels([LABEL.MODEL, LABEL.OUTCOME]),
              instant: true,
            },
          ],
          traces: { where: [], bySeries: [LABEL.MODEL] },
        },
        {
          title: 'Refunds by reason',
          answers: 'How many reservations went back to users, and why?',
          kind: 'timeseries',
          width: 12,
          unit: 'short',
          queries: [
            {
              prom: sumIncrease(sel('REFUNDS'), RI, [LABEL.REASON_CODE]),
              legend: byLabels([LABEL.REASON_CODE]),
            },
          ],
          traces: { where: [[ATTR.REASON_CODE, '=~', JOB_FAILURES]], bySeries: [LABEL.REASON_CODE] },
        },
      ],
    },
    {
      title: 'Queue',
      panels: [
        {
          title: 'Queue depth by state',
          answers:
            'How many jobs wait for a worker (queued), and how many are with the provider or being sent?',
          kind: 'timeseries',
          width: 12,
          unit: 'short',
          queries: [
            {
              prom: `sum by (${LABEL.STATE}) (${sel('JOB_QUEUE_DEPTH')})`,
              legend: byLabels([LABEL.STATE]),
            },
          ],
          // Jobs that stayed in a state until their deadline: the sweep's traces, each linked to its job.
          traces: { where: [[ATTR.JOB_STATE, '=~', 'queued|running|submitted|delivering']] },
        },
        {
          title: 'Oldest queued job',
          answers: `How long has the oldest queued job waited for a worker (the stuck-queue alert fires past ${STUCK_QUEUE_AGE_S} s)?`,
          kind: 'timeseries',
          width: 12,
          unit: 's',
          queries: [{ prom: `max(${sel('JOB_QUEUE_OLDEST_AGE')})`, legend: 'oldest queued' }],
          thresholds: [{ value: STUCK_QUEUE_AGE_S, color: 'red' }],
          traces: { where: [[ATTR.JOB_STATE, '=', 'queued']] },
        },
      ],
    },
    {
      title: 'Latency',
      panels: [
        {
          title: 'Job duration by model (p50, p95)',
          answers: 'How long from Generate to the result (or the refund), per model?',
          kind: 'timeseries',
          width: 12,
          unit: 's',
          queries: [0.5, 0.95].map((q) => ({
            prom: quantile(q, 'JOB_DURATION', RI, [LABEL.MODEL]),
            legend: `p${q * 100} ${byLabels([LABEL.MODEL])}`,
          })),
          traces: { where: [['duration', '>', '30s']], bySeries: [LABEL.MODEL] },
        },
        {
          title: 'Provider latency p95 by operation and outcome',
          answers: 'Is the provider slow to accept tasks (submit) or to serve results, and does it time out?',
          kind: 'timeseries',
          width: 12,
          unit: 's',
          queries: [
            {
              prom: quantile(0.95, 'PROVIDER_DURATION', RI, [LABEL.OPERATION, LABEL.OUTCOME]),
              legend: `p95 ${byLabels([LABEL.OPERATION, LABEL.OUTCOME])}`,
            },
          ],
          traces: { where: [[ATTR.PROVIDER_ERROR_KIND, '=~', 'timeout|network|http_status|bad_response']] },
        },
      ],
    },
    {
      title: 'Recent failures',
      panels: [
        {
          title: 'Failed jobs (traces)',
          answers:
            'Which recent jobs failed? Each trace is the whole generation, from the Generate press on.',
          kind: 'traces',
          width: 24,
          height: 10,
          queries: [{ traceql: traceQuery([[ATTR.REASON_CODE, '=~', JOB_FAILURES]]) }],
        },
      ],
    },
  ],
};

export const DASHBOARDS: readonly DashboardSpec[] = [BOT_OVERVIEW, USER_JOURNEYS, PAYMENTS, GENERATIONS];

// ---------------------------------------------------------------------------------------------------------
// Rendering to Grafana's dashboard JSON model

const DS = {
  prom: { type: GRAFANA_DATASOURCE.PROMETHEUS.type, uid: GRAFANA_DATASOURCE.PROMETHEUS.uid },
  tempo: { type: GRAFANA_DATASOURCE.TEMPO.type, uid: GRAFANA_DATASOURCE.TEMPO.uid },
  loki: { type: GRAFANA_DATASOURCE.LOKI.type, uid: GRAFANA_DATASOURCE.LOKI.uid },
};

function datasourceOf(query: Query) {
  return 'prom' in query ? DS.prom : 'traceql' in query ? DS.tempo : DS.loki;
}

function target(query: Query, index: number) {
  const refId = String.fromCharCode(65 + index);
  if ('prom' in query) {
    return {
      refId,
      datasource: DS.prom,
      expr: query.prom,
      legendFormat: query.legend ?? '__auto',
      editorMode: 'code',
      range: !query.instant,
      instant: query.instant === true,
      exemplar: query.exemplars === true,
    };
  }
  if ('traceql' in query) {
    return {
      refId,
      datasource: DS.tempo,
      queryType: 'traceql',
      query: query.traceql,
      limit: 20,
      tableType: 'traces',
    };
  }
  return { refId, datasource: DS.loki, expr: query.logql, queryType: 'range', editorMode: 'code' };
}

function traceLinks(spec: PanelSpec) {
  if (spec.traces === undefined) return { panelLinks: [], dataLinks: [] };
  const { where, bySeries = [] } = spec.traces;
  const panelLinks = [{ title: 'Traces behind this panel', url: tracesLink(where), targetBlank: false }];
  const seriesConditions: TraceCondition[] = bySeries.flatMap((label) => {
    const attr = LABEL_ATTRIBUTE[label];
    if (attr === undefined) throw new Error(`label ${label} has no span attribute for trace links`);
    return [[attr, '=', labelPlaceholder(label)] as const];
  });
  const dataLinks =
    seriesConditions.length === 0
      ? []
      : [
          {
            title: 'Traces for this series',
            url: tracesLink([...where, ...seriesConditions], bySeries),
            targetBlank: false,
          },
        ];
  return { panelLinks, dataLinks };
}

function fieldConfig(spec: PanelSpec, dataLinks: unknown[]) {
  const steps = [
    { color: spec.baseColor ?? 'green', value: null as number | null },
    ...(spec.thresholds ?? []),
  ];
  const custom =
    spec.kind === 'timeseries'
      ? {
          drawStyle: 'line',
          lineWidth: 1,
          fillOpacity: spec.stacked ? 30 : 10,
          showPoints: 'never',
          spanNulls: false,
          stacking: { mode: spec.stacked ? 'normal' : 'none', group: 'A' },
          thresholdsStyle: { mode: spec.thresholds ? 'line' : 'off' },
        }
      : {};
  return {
    defaults: {
      ...(spec.unit ? { unit: spec.unit } : {}),
      custom,
      color: { mode: spec.kind === 'timeseries' ? 'palette-classic' : 'thresholds' },
      thresholds: { mode: 'absolute', steps },
      links: dataLinks,
    },
    overrides: [],
  };
}

function panelOptions(spec: PanelSpec) {
  switch (spec.kind) {
    case 'timeseries':
      return {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      };
    case 'stat':
      return { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value' };
    case 'bargauge':
      return {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        orientation: 'horizontal',
        displayMode: 'basic',
        showUnfilled: true,
      };
    case 'logs':
      return { showTime: true, wrapLogMessage: true, sortOrder: 'Descending', enableLogDetails: true };
    case 'traces':
      return { showHeader: true };
  }
}

const GRAFANA_PANEL_TYPE: Record<PanelSpec['kind'], string> = {
  timeseries: 'timeseries',
  stat: 'stat',
  bargauge: 'bargauge',
  traces: 'table',
  logs: 'logs',
};

export function renderDashboard(spec: DashboardSpec, others: readonly DashboardSpec[]) {
  const panels: unknown[] = [];
  let id = 1;
  let y = 0;
  for (const section of spec.sections) {
    panels.push({
      id: id++,
      type: 'row',
      title: section.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of section.panels) {
      const h = panel.height ?? 8;
      if (x + panel.width > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      const { panelLinks, dataLinks } = traceLinks(panel);
      const datasource = datasourceOf(panel.queries[0] as Query);
      panels.push({
        id: id++,
        type: GRAFANA_PANEL_TYPE[panel.kind],
        title: panel.title,
        description: panel.answers,
        datasource,
        gridPos: { h, w: panel.width, x, y },
        targets: panel.queries.map(target),
        fieldConfig: fieldConfig(panel, dataLinks),
        options: panelOptions(panel),
        links: panelLinks,
      });
      x += panel.width;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['tracegram', 'generated'],
    editable: false,
    graphTooltip: 1,
    schemaVersion: 41,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timezone: 'browser',
    templating: {
      list: [
        {
          type: 'textbox',
          name: SERVICE_VARIABLE,
          label: 'service.name',
          description: 'OTEL_SERVICE_NAME of the bot (Loki service_name, Tempo resource.service.name)',
          query: 'tracegram',
          current: { text: 'tracegram', value: 'tracegram' },
          hide: 0,
        },
      ],
    },
    annotations: { list: [] },
    links: others
      .filter((other) => other.uid !== spec.uid)
      .map((other) => ({
        type: 'link',
        title: other.title,
        url: `/d/${other.uid}`,
        keepTime: true,
        icon: 'dashboard',
      })),
    panels,
  };
}

/** The id a panel gets in its rendered dashboard, for alert annotations (`__panelId__`). */
export function panelIdOf(dashboardUid: string, title: string): number {
  const spec = DASHBOARDS.find((d) => d.uid === dashboardUid);
  if (spec === undefined) throw new Error(`no dashboard ${dashboardUid}`);
  const rendered = renderDashboard(spec, DASHBOARDS);
  const panel = rendered.panels.find((p) => (p as { title: string }).title === title) as
    | { id: number }
    | undefined;
  if (panel === undefined) throw new Error(`dashboard ${dashboardUid} has no panel "${title}"`);
  return panel.id;
}
