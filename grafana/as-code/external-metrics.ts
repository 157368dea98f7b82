/**
 * The only metrics dashboards and alerts may use besides the bot's own (conventions.ts): ones that other
 * parts of the stack emit. Declared here, once, with the labels queries may use; the cross-check tests
 * reject any other metric name.
 */

export interface ExternalMetric {
  source: 'otel-collector' | 'tempo-metrics-generator';
  labels: readonly string[];
  help: string;
}

/** The collector's own telemetry (service.telemetry.metrics in otel/collector.yaml, scraped by Prometheus). */
const collector = (help: string, labels: readonly string[]): ExternalMetric => ({
  source: 'otel-collector',
  labels,
  help,
});

export const EXTERNAL_METRICS = {
  otelcol_receiver_accepted_spans_total: collector('Spans the collector accepted', ['receiver', 'transport']),
  otelcol_receiver_refused_spans_total: collector('Spans the collector refused', ['receiver', 'transport']),
  otelcol_receiver_accepted_log_records_total: collector('Log records accepted', ['receiver', 'transport']),
  otelcol_receiver_refused_log_records_total: collector('Log records refused', ['receiver', 'transport']),
  otelcol_receiver_accepted_metric_points_total: collector('Metric points accepted', [
    'receiver',
    'transport',
  ]),
  otelcol_receiver_refused_metric_points_total: collector('Metric points refused', ['receiver', 'transport']),
  otelcol_exporter_send_failed_spans_total: collector('Spans an exporter failed to send', ['exporter']),
  otelcol_exporter_send_failed_log_records_total: collector('Log records an exporter failed to send', [
    'exporter',
  ]),
  otelcol_exporter_send_failed_metric_points_total: collector('Metric points an exporter failed to send', [
    'exporter',
  ]),
  traces_spanmetrics_calls_total: {
    source: 'tempo-metrics-generator',
    labels: ['service', 'span_name', 'span_kind', 'status_code', 'tracegram_outcome', 'tracegram_handler'],
    help: 'Span rate by name and status, from Tempo (exemplars carry traceID)',
  },
} as const satisfies Record<string, ExternalMetric>;

export type ExternalMetricName = keyof typeof EXTERNAL_METRICS;
