/**
 * The only metrics dashboards and alerts may use besides the bot's own (conventions.ts): ones that other
 * parts of the stack emit. Declared here, once, with the labels queries may use; the cross-check tests
 * reject any other metric name.
 */

export interface ExternalMetric {
  source: 'prometheus' | 'otel-collector' | 'tempo-metrics-generator' | 'otel-sdk';
  labels: readonly string[];
  help: string;
  /**
   * Its samples carry exemplars (a trace id Grafana links to Tempo). Only Tempo's span metrics do: the
   * OpenTelemetry JS SDK records no exemplars, so the bot's own tracegram_* metrics never have any.
   */
  exemplars?: true;
}

/** The collector's own telemetry (service.telemetry.metrics in otel/collector.yaml, scraped by Prometheus). */
const collector = (help: string, labels: readonly string[]): ExternalMetric => ({
  source: 'otel-collector',
  labels,
  help,
});
/**
 * The bot's OpenTelemetry SDK reporting on itself (semantic conventions' otel.sdk.* metrics, to the app's
 * MeterProvider: src/telemetry/pipelines.ts). They exist once an exporter is configured.
 */
const sdk = (help: string, labels: readonly string[]): ExternalMetric => ({
  source: 'otel-sdk',
  labels,
  help,
});
const SDK_PROCESSOR = ['otel_component_type', 'otel_component_name', 'error_type'] as const;
const SDK_EXPORTER = [...SDK_PROCESSOR, 'server_address', 'server_port'] as const;
const RECEIVER = ['receiver', 'transport'] as const;
const EXPORTER = ['exporter'] as const;

/** Labels of Tempo's span metrics: its intrinsic ones plus the span_metrics dimensions in otel/tempo.yaml. */
const SPANMETRICS_LABELS = [
  'service',
  'span_name',
  'span_kind',
  'status_code',
  'tracegram_outcome',
  'tracegram_handler',
] as const;

export const EXTERNAL_METRICS = {
  up: {
    source: 'prometheus',
    labels: ['job', 'instance'],
    help: 'Whether Prometheus could scrape a target (1) or not (0); job is a scrape job of otel/prometheus.yaml',
  },
  otelcol_receiver_accepted_spans_total: collector('Spans the collector accepted', RECEIVER),
  otelcol_receiver_refused_spans_total: collector('Spans the collector refused', RECEIVER),
  otelcol_receiver_accepted_log_records_total: collector('Log records accepted', RECEIVER),
  otelcol_receiver_refused_log_records_total: collector('Log records refused', RECEIVER),
  otelcol_receiver_accepted_metric_points_total: collector('Metric points accepted', RECEIVER),
  otelcol_receiver_refused_metric_points_total: collector('Metric points refused', RECEIVER),
  otelcol_exporter_send_failed_spans_total: collector('Spans an exporter failed to send', EXPORTER),
  otelcol_exporter_send_failed_log_records_total: collector(
    'Log records an exporter failed to send',
    EXPORTER,
  ),
  otelcol_exporter_send_failed_metric_points_total: collector(
    'Metric points an exporter failed to send',
    EXPORTER,
  ),
  otelcol_exporter_enqueue_failed_spans_total: collector(
    'Spans dropped because the exporter sending queue was full',
    EXPORTER,
  ),
  otelcol_exporter_enqueue_failed_log_records_total: collector(
    'Log records dropped because the exporter sending queue was full',
    EXPORTER,
  ),
  otelcol_exporter_enqueue_failed_metric_points_total: collector(
    'Metric points dropped because the exporter sending queue was full',
    EXPORTER,
  ),
  otel_sdk_processor_span_processed_total: sdk(
    'Spans a batch processor finished with: error_type="queue_full" dropped because its queue was full, another error_type failed to export',
    SDK_PROCESSOR,
  ),
  otel_sdk_processor_log_processed_total: sdk(
    'Log records a batch processor finished with; error_type as for spans',
    SDK_PROCESSOR,
  ),
  otel_sdk_exporter_metric_data_point_exported_total: sdk(
    'Metric points the bot exported; error_type set when the export failed',
    SDK_EXPORTER,
  ),
  traces_spanmetrics_calls_total: {
    source: 'tempo-metrics-generator',
    labels: SPANMETRICS_LABELS,
    help: 'Span rate by name and status, computed by Tempo from the traces it keeps',
  },
  traces_spanmetrics_latency_bucket: {
    source: 'tempo-metrics-generator',
    labels: [...SPANMETRICS_LABELS, 'le'],
    help: 'Span duration histogram (seconds) from Tempo; its exemplars carry traceID',
    exemplars: true,
  },
} as const satisfies Record<string, ExternalMetric>;

export type ExternalMetricName = keyof typeof EXTERNAL_METRICS;

/** Scrape jobs of otel/prometheus.yaml that queries select by `job` (checked against that file). */
export const SCRAPE_JOB = { COLLECTOR: 'otel-collector' } as const;

/**
 * Every collector counter that means telemetry was lost on its way through, for all three signals:
 * refused at the receiver (memory_limiter), dropped because an exporter queue was full, or not delivered.
 */
export const COLLECTOR_DROP_METRICS = [
  'otelcol_receiver_refused_spans_total',
  'otelcol_receiver_refused_log_records_total',
  'otelcol_receiver_refused_metric_points_total',
  'otelcol_exporter_enqueue_failed_spans_total',
  'otelcol_exporter_enqueue_failed_log_records_total',
  'otelcol_exporter_enqueue_failed_metric_points_total',
  'otelcol_exporter_send_failed_spans_total',
  'otelcol_exporter_send_failed_log_records_total',
  'otelcol_exporter_send_failed_metric_points_total',
] as const satisfies readonly ExternalMetricName[];

/**
 * The bot's own losses, from its SDK: spans and log records dropped (full queue) or not exported, metric
 * points not exported. Each is selected with error_type set.
 */
export const SDK_DROP_METRICS = [
  'otel_sdk_processor_span_processed_total',
  'otel_sdk_processor_log_processed_total',
  'otel_sdk_exporter_metric_data_point_exported_total',
] as const satisfies readonly ExternalMetricName[];

/** Whether a metric name's samples carry exemplars (only declared external metrics can). */
export function hasExemplars(name: string): boolean {
  const metric = (EXTERNAL_METRICS as Record<string, ExternalMetric>)[name];
  return metric?.exemplars === true;
}
