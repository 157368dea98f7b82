/**
 * PromQL building blocks for dashboards and alerts. Metric names come from conventions.ts (METRIC.*.promName)
 * or the declared external metrics, and every label matcher is checked against the metric's label set when
 * the query is built, so a query for a metric or label the code does not emit cannot be generated.
 *
 * Every counter series the bot knows exists at 0 from start-up (BotMetrics.declareSeries), so plain
 * increase() and rate() see the first event; no "new series" tricks are needed here.
 */
import { METRIC, METRIC_LABELS } from '../../src/telemetry/conventions.js';
import { EXTERNAL_METRICS, type ExternalMetricName } from './external-metrics.js';

export type MetricKey = keyof typeof METRIC;
export type Matcher = string | readonly ['=' | '!=' | '=~' | '!~', string];
export type Matchers = Readonly<Record<string, Matcher>>;

/** Labels Prometheus itself attaches (scrape target or OTLP resource), valid on every series. */
export const TARGET_LABELS = ['job', 'instance'] as const;
/** The histogram bucket bound label added by the `_bucket` series. */
export const BUCKET_LABEL = 'le';

function renderMatchers(name: string, allowed: readonly string[], matchers: Matchers): string {
  const parts = Object.entries(matchers).map(([label, matcher]) => {
    if (!allowed.includes(label) && !(TARGET_LABELS as readonly string[]).includes(label)) {
      throw new Error(`metric ${name} has no label ${label} (it has: ${allowed.join(', ')})`);
    }
    const [op, value] = typeof matcher === 'string' ? ['=', matcher] : matcher;
    return `${label}${op}${JSON.stringify(value)}`;
  });
  return parts.length === 0 ? name : `${name}{${parts.join(', ')}}`;
}

/** A selector for one of the bot's own metrics; `suffix` picks a histogram series (`_bucket`, `_sum`, `_count`). */
export function sel(
  metric: MetricKey,
  matchers: Matchers = {},
  suffix: '' | '_bucket' | '_sum' | '_count' = '',
): string {
  const labels = suffix === '_bucket' ? [...METRIC_LABELS[metric], BUCKET_LABEL] : METRIC_LABELS[metric];
  return renderMatchers(`${METRIC[metric].promName}${suffix}`, labels, matchers);
}

/** A selector for a metric another component emits (declared in external-metrics.ts). */
export function ext(metric: ExternalMetricName, matchers: Matchers = {}): string {
  return renderMatchers(metric, EXTERNAL_METRICS[metric].labels, matchers);
}

/** `sum by (labels) (rate(selector[window]))`, or `sum(…)` without labels. */
export function sumRate(selector: string, window: string, by: readonly string[] = []): string {
  return `${sumBy(by)}(rate(${selector}[${window}]))`;
}

export function sumIncrease(selector: string, window: string, by: readonly string[] = []): string {
  return `${sumBy(by)}(increase(${selector}[${window}]))`;
}

/** `(expr or vector(0))`: 0 instead of no data when no series matches (for sums that must always answer). */
export function orZero(expr: string): string {
  return `(${expr} or vector(0))`;
}

function sumBy(by: readonly string[]): string {
  return by.length === 0 ? 'sum' : `sum by (${by.join(', ')}) `;
}

/** `histogram_quantile(q, …)` over a `_bucket` selector, grouped by `by`. */
export function histogramQuantile(
  q: number,
  bucketSelector: string,
  window: string,
  by: readonly string[],
): string {
  return `histogram_quantile(${q}, ${sumRate(bucketSelector, window, [BUCKET_LABEL, ...by])})`;
}

export function quantile(
  q: number,
  metric: MetricKey,
  window: string,
  by: readonly string[],
  matchers: Matchers = {},
) {
  return histogramQuantile(q, sel(metric, matchers, '_bucket'), window, by);
}
