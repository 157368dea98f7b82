/**
 * Every PromQL, LogQL and TraceQL expression in dashboards, alerts, datasources and links parses, and
 * names only metrics, labels, span attributes and log fields the code defines (conventions.ts,
 * reason-codes.ts, the UI registry) or the one declared list of external metrics.
 */
import { SeverityNumber } from '@opentelemetry/api';
import {
  ATTR_DEPLOYMENT_ENVIRONMENT_NAME,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import { describe, expect, test } from 'vitest';
import { EXTERNAL_METRICS, hasExemplars } from '../../grafana/as-code/external-metrics.js';
import { LOKI_OTLP_FIELD } from '../../grafana/as-code/loki.js';
import { BUCKET_LABEL, TARGET_LABELS } from '../../grafana/as-code/promql.js';
import { ATTR, EVENT, LOG_FIELD, METRIC, METRIC_LABELS, SEMCONV } from '../../src/telemetry/conventions.js';
import { LOKI_FIELD } from '../../src/telemetry/grafana.js';
import { ALL_OUTCOMES, ALL_REASON_CODES } from '../../src/telemetry/reason-codes.js';
import { SCREEN } from '../../src/ui/registry.js';
import {
  allExpressions,
  dashboardFiles,
  type Expression,
  readJson,
  readYaml,
  syntaxErrors,
  syntaxNodes,
} from './support.js';

const expressions = allExpressions();
const byLang = (lang: Expression['lang']) => expressions.filter((e) => e.lang === lang);

/** Prometheus series name → the labels it carries, built from conventions.ts and external-metrics.ts. */
const SERIES_LABELS = new Map<string, readonly string[]>();
for (const [key, def] of Object.entries(METRIC) as [
  keyof typeof METRIC,
  (typeof METRIC)[keyof typeof METRIC],
][]) {
  const labels = METRIC_LABELS[key];
  SERIES_LABELS.set(def.promName, labels);
  // Metrics with a unit are histograms here (durations): their _bucket/_sum/_count series.
  if (def.unit !== '') {
    SERIES_LABELS.set(`${def.promName}_bucket`, [...labels, BUCKET_LABEL]);
    SERIES_LABELS.set(`${def.promName}_sum`, labels);
    SERIES_LABELS.set(`${def.promName}_count`, labels);
  }
}
for (const [name, def] of Object.entries(EXTERNAL_METRICS)) SERIES_LABELS.set(name, def.labels);

const ATTRIBUTE_KEYS = new Set<string>([...Object.values(ATTR), ...Object.values(SEMCONV)]);
const RESOURCE_KEYS = new Set<string>([
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_DEPLOYMENT_ENVIRONMENT_NAME,
]);
/** Values an attribute may be compared with, where the code defines the vocabulary. */
const ATTRIBUTE_VALUES: Record<string, readonly string[]> = {
  [ATTR.OUTCOME]: ALL_OUTCOMES,
  [ATTR.REASON_CODE]: ALL_REASON_CODES,
  [ATTR.SCREEN_ID]: Object.values(SCREEN),
};
const LOKI_STREAM_LABELS = new Set<string>([LOKI_FIELD.SERVICE_NAME]);
const LOKI_METADATA = new Set<string>([
  ...Object.values(LOG_FIELD),
  ...Object.values(LOKI_FIELD),
  ...Object.values(LOKI_OTLP_FIELD),
]);
/** OTel SeverityNumber values (1 TRACE … 24 FATAL4), the only numbers Loki's severity_number holds. */
const SEVERITY_NUMBERS = Object.values(SeverityNumber).filter(
  (v): v is number => typeof v === 'number' && v > 0,
);
const LOG_FIELD_VALUES: Record<string, readonly string[]> = {
  [LOG_FIELD.EVENT]: Object.values(EVENT),
  [LOG_FIELD.REASON_CODE]: ALL_REASON_CODES,
  [LOKI_OTLP_FIELD.SEVERITY_NUMBER]: SEVERITY_NUMBERS.map(String),
};
/** Scrape jobs otel/prometheus.yaml defines: the values a `job` matcher may name. */
const SCRAPE_JOBS = readYaml<{ scrape_configs: { job_name: string }[] }>(
  'otel/prometheus.yaml',
).scrape_configs.map((c) => c.job_name);
const METRIC_LABEL_VALUES: Record<string, readonly string[]> = {
  outcome: ALL_OUTCOMES,
  reason_code: [...ALL_REASON_CODES, 'NONE'],
  screen_id: Object.values(SCREEN),
  job: SCRAPE_JOBS,
};

const unquote = (s: string) => JSON.parse(s) as string;
const alternatives = (value: string) => value.split('|');

test('the inventory covers dashboards, alerts, datasources and links in all three languages', () => {
  expect(byLang('promql').length).toBeGreaterThan(20);
  expect(byLang('logql').length).toBeGreaterThan(2);
  expect(byLang('traceql').length).toBeGreaterThan(5);
  const sources = new Set(expressions.map((e) => e.where.split(' ')[0]));
  expect([...sources].sort()).toEqual(
    expect.arrayContaining([
      'grafana/dashboards/tracegram-overview.json',
      'grafana/dashboards/tracegram-journeys.json',
      'grafana/provisioning/alerting/tracegram-alerts.yaml',
      'grafana/provisioning/datasources/datasources.yaml',
      'otel/rules/tracegram.rules.yaml',
      'grafana.ts',
    ]),
  );
});

describe.each(['promql', 'logql', 'traceql'] as const)('%s parses without error nodes', (lang) => {
  test.each(byLang(lang).map((e) => [e.where, e.expr] as const))('%s: %s', (_where, expr) => {
    expect(syntaxErrors(lang, expr)).toEqual([]);
  });
});

function promqlProblems(e: Pick<Expression, 'expr' | 'legend'>): string[] {
  const nodes = syntaxNodes('promql', e.expr);
  const problems: string[] = [];
  // Every counter series exists at 0 from start-up, so nothing compares with the past: an `offset` (the old
  // `X unless X offset 10m` first-event trick) reads a gap in the metrics as "new" and false-fires.
  for (const offset of nodes.filter((n) => n.name === 'OffsetExpr')) {
    problems.push(`uses offset (${offset.text}): a gap in the metrics makes it lie`);
  }
  const used = new Set<string>([...TARGET_LABELS]);
  // VectorSelector → Identifier (the metric) and its LabelMatchers.
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i] as (typeof nodes)[number];
    if (node.name !== 'VectorSelector') continue;
    const inside = nodes.filter((n) => n.from >= node.from && n.to <= node.to);
    const metric = inside.find((n) => n.name === 'Identifier')?.text;
    if (metric === undefined) {
      problems.push(`selector without a metric name: ${node.text}`);
      continue;
    }
    const labels = SERIES_LABELS.get(metric);
    if (labels === undefined) {
      problems.push(`unknown metric ${metric} (not in conventions.ts METRIC nor external-metrics.ts)`);
      continue;
    }
    for (const l of labels) used.add(l);
    const matchers = inside.filter((n) => n.name === 'UnquotedLabelMatcher');
    for (const matcher of matchers) {
      const parts = nodes.filter((n) => n.from >= matcher.from && n.to <= matcher.to);
      const label = parts.find((n) => n.name === 'LabelName')?.text ?? '';
      const value = parts.find((n) => n.name === 'StringLiteral')?.text ?? '""';
      if (!labels.includes(label) && !(TARGET_LABELS as readonly string[]).includes(label)) {
        problems.push(`${metric} has no label ${label}`);
      }
      const vocabulary = METRIC_LABEL_VALUES[label];
      if (vocabulary !== undefined) {
        for (const v of alternatives(unquote(value))) {
          if (!vocabulary.includes(v)) problems.push(`${label}="${v}" is not a value the code emits`);
        }
      }
    }
  }
  for (const grouping of nodes.filter((n) => n.name === 'GroupingLabels')) {
    for (const label of nodes.filter(
      (n) => n.name === 'LabelName' && n.from >= grouping.from && n.to <= grouping.to,
    )) {
      if (!used.has(label.text)) problems.push(`groups by ${label.text}, which no metric here carries`);
    }
  }
  for (const [, label] of (e.legend ?? '').matchAll(/\{\{\s*([a-zA-Z_]+)\s*\}\}/g)) {
    if (!used.has(label as string)) problems.push(`legend uses {{${label}}}, which no metric here carries`);
  }
  return problems;
}

describe('PromQL names only metrics and labels the code emits', () => {
  test.each(byLang('promql').map((e) => [e.where, e] as const))('%s', (_where, e) => {
    expect(promqlProblems(e)).toEqual([]);
  });
});

function traceqlProblems(expr: string): string[] {
  const nodes = syntaxNodes('traceql', expr);
  const problems: string[] = [];
  for (const field of nodes.filter((n) => n.name === 'AttributeField')) {
    const inner = nodes.filter((n) => n.from >= field.from && n.to <= field.to);
    const key = inner.find((n) => n.name === 'Identifier')?.text ?? '';
    const scope = inner.find((n) => n.name === 'Span' || n.name === 'Resource')?.name;
    if (scope === 'Resource' && !RESOURCE_KEYS.has(key))
      problems.push(`resource.${key} is not a resource attribute we set`);
    if (scope === 'Span' && !ATTRIBUTE_KEYS.has(key))
      problems.push(`span.${key} is not in conventions.ts ATTR/SEMCONV`);
    if (scope === undefined) problems.push(`unscoped attribute ${field.text}: use span. or resource.`);
  }
  for (const [, key, value] of expr.matchAll(/span\.([\w.]+) =~? "([^"]*)"/g)) {
    const vocabulary = ATTRIBUTE_VALUES[key as string];
    for (const v of vocabulary ? alternatives(value as string) : []) {
      if (!vocabulary?.includes(v)) problems.push(`${key} = "${v}" is not a value the code sets`);
    }
  }
  return problems;
}

describe('TraceQL names only span and resource attributes the code sets, with values it uses', () => {
  test.each(byLang('traceql').map((e) => [e.where, e.expr] as const))('%s: %s', (_where, expr) => {
    expect(traceqlProblems(expr)).toEqual([]);
  });
});

function logqlProblems(expr: string): string[] {
  const nodes = syntaxNodes('logql', expr);
  const problems: string[] = [];
  const selector = nodes.find((n) => n.name === 'Selector');
  for (const matcher of nodes.filter((n) => n.name === 'Matcher')) {
    const inner = nodes.filter((n) => n.from >= matcher.from && n.to <= matcher.to);
    const name = inner.find((n) => n.name === 'Identifier')?.text ?? '';
    const value = unquote(inner.find((n) => n.name === 'String')?.text ?? '""');
    const inSelector = selector !== undefined && matcher.from >= selector.from && matcher.to <= selector.to;
    if (inSelector && !LOKI_STREAM_LABELS.has(name))
      problems.push(`stream label ${name} is not one Loki gets`);
    if (!inSelector && !LOKI_METADATA.has(name))
      problems.push(`log field ${name} is not in conventions.ts LOG_FIELD`);
    const vocabulary = LOG_FIELD_VALUES[name];
    for (const v of vocabulary ? alternatives(value) : []) {
      if (!vocabulary?.includes(v)) problems.push(`${name}="${v}" is not a value the bot logs`);
    }
  }
  for (const filter of nodes.filter((n) => n.name === 'NumberFilter')) {
    const inner = nodes.filter((n) => n.from >= filter.from && n.to <= filter.to);
    const name = inner.find((n) => n.name === 'Identifier')?.text ?? '';
    const value = inner.find((n) => n.name === 'Number')?.text ?? '';
    if (!LOKI_METADATA.has(name)) problems.push(`log field ${name} is not one Loki stores for the bot`);
    const vocabulary = LOG_FIELD_VALUES[name];
    if (vocabulary !== undefined && !vocabulary.includes(value)) {
      problems.push(`${name} ${value} is not a value Loki stores`);
    }
  }
  return problems;
}

describe('LogQL names only stream labels and log fields the bot ships, with values it logs', () => {
  test.each(byLang('logql').map((e) => [e.where, e.expr] as const))('%s: %s', (_where, expr) => {
    expect(logqlProblems(expr)).toEqual([]);
  });
});

/** The metric names every selector of a PromQL expression names. */
function metricNames(expr: string): string[] {
  const nodes = syntaxNodes('promql', expr);
  return nodes
    .filter((n) => n.name === 'VectorSelector')
    .map(
      (sel) => nodes.find((n) => n.name === 'Identifier' && n.from >= sel.from && n.to <= sel.to)?.text ?? '',
    );
}

describe('exemplars are asked for exactly where the metrics carry them', () => {
  const targets = dashboardFiles().flatMap((file) =>
    readJson<{ panels: { title: string; targets?: { expr?: string; exemplar?: boolean }[] }[] }>(
      file,
    ).panels.flatMap((panel) =>
      (panel.targets ?? [])
        .filter((t) => t.exemplar !== undefined)
        .map((t) => [`${file} › ${panel.title}`, t.expr ?? '', t.exemplar === true] as const),
    ),
  );

  test.each(targets)('%s', (_where, expr, exemplar) => {
    // The OpenTelemetry JS SDK records no exemplars: only Tempo's span metrics (external-metrics.ts) have any.
    expect(exemplar).toBe(metricNames(expr).every(hasExemplars));
  });

  test('at least one panel shows exemplars, so "Prometheus exemplars → Tempo" has something to open', () => {
    expect(targets.filter(([, , exemplar]) => exemplar).length).toBeGreaterThan(0);
  });
});

describe('the cross-checks catch what they are for', () => {
  test.each([
    ['sum(rate(tracegram_queue_depth[5m]))', 'unknown metric tracegram_queue_depth'],
    ['count(tracegram_silent_updates_total unless tracegram_silent_updates_total offset 10m)', 'uses offset'],
    ['up{job="collector"} == 0', 'job="collector"'],
    ['sum(rate(tracegram_updates_total{user_id="1"}[5m]))', 'has no label user_id'],
    ['sum by (method) (rate(tracegram_updates_total[5m]))', 'groups by method'],
    ['sum(rate(tracegram_updates_total{outcome="failed"}[5m]))', 'outcome="failed"'],
  ])('PromQL %s', (expr, problem) => {
    expect(promqlProblems({ expr }).join('\n')).toContain(problem);
  });
  test.each([
    ['{ span.tracegram.user_id = "1" }', 'span.tracegram.user_id'],
    ['{ span.tracegram.outcome = "failed" }', 'tracegram.outcome = "failed"'],
    ['{ resource.k8s.pod.name = "x" }', 'resource.k8s.pod.name'],
  ])('TraceQL %s', (expr, problem) => {
    expect(traceqlProblems(expr).join('\n')).toContain(problem);
  });
  test.each([
    ['{job="tracegram"}', 'stream label job'],
    ['{service_name="tracegram"} | event="NOT_AN_EVENT"', 'event="NOT_AN_EVENT"'],
    ['{service_name="tracegram"} | user_id="1"', 'log field user_id'],
    ['{service_name="tracegram"} | severity >= 13', 'log field severity'],
    ['{service_name="tracegram"} | severity_number >= 30', 'severity_number 30'],
  ])('LogQL %s', (expr, problem) => {
    expect(logqlProblems(expr).join('\n')).toContain(problem);
  });
  test('a syntax error is reported', () => {
    expect(syntaxErrors('promql', 'sum(rate(tracegram_updates_total[5m])')).not.toEqual([]);
    expect(syntaxErrors('logql', '{service_name="x"} |= ')).not.toEqual([]);
    expect(syntaxErrors('traceql', '{ span.a = }')).not.toEqual([]);
  });
});
