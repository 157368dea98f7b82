import { setTimeout as sleep } from 'node:timers/promises';
import { createNoopMeter, DiagLogLevel, diag, type MeterProvider, metrics } from '@opentelemetry/api';
import { diagLogLevelFromString, getStringFromEnv } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import type { LogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  AggregationType,
  type IMetricReader,
  InstrumentType,
} from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { ExporterName, TelemetryConfig } from '../config.js';
import { INSTRUMENTATION_SCOPE } from './conventions.js';
import { installTelemetryDiagnostics } from './diagnostics.js';
import { guardLogRecordProcessor, guardSpanProcessor } from './guarded.js';
import { BotMetrics } from './metrics.js';
import {
  DeferredLogRecordProcessor,
  DeferredSpanProcessor,
  logProcessorsFor,
  metricExporterFor,
  metricReadersFor,
  spanProcessorsFor,
} from './pipelines.js';
import { PrometheusExposition } from './prometheus-exposition.js';
import { SpanRecorder } from './span-recorder.js';

/** `service.name` when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES name one. */
const DEFAULT_SERVICE_NAME = 'tracegram';

export interface TelemetryOptions {
  /** Which pipelines exist: config.ts reads the OTEL_* variables that decide it. */
  config: TelemetryConfig;
  serviceVersion: string;
  /** Extra processors and readers, e.g. in-memory exporters in tests. */
  spanProcessors?: SpanProcessor[];
  logProcessors?: LogRecordProcessor[];
  metricReaders?: IMetricReader[];
  instanceRole?: () => string;
}

export interface Telemetry {
  /** The last finished traces, kept in process for /debug and the embedded trace view. */
  readonly recorder: SpanRecorder;
  /** Renders `/metrics` from the same MeterProvider that feeds OTLP, with OTLP's Prometheus names. */
  readonly exposition: PrometheusExposition;
  readonly metrics: BotMetrics;
  /** True when log lines should also become OTel log records. */
  readonly exportsLogs: boolean;
  flush(): Promise<void>;
  /**
   * Flushes and stops every provider, giving up after `timeoutMs` (a collector that accepts and never
   * answers would otherwise hold shutdown for the exporters' own timeouts and retries).
   */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Whether a push reader's state is what /metrics must show: an OTLP exporter that keeps every instrument
 * cumulative and histograms in explicit buckets (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE and
 * _DEFAULT_HISTOGRAM_AGGREGATION at their defaults). The exporter the reader will be bound to is asked,
 * so the answer follows the SDK's own reading of those variables.
 */
function servesPrometheus(push: { name: ExporterName }, config: TelemetryConfig): boolean {
  if (push.name !== 'otlp') return false;
  const exporter = metricExporterFor(push.name, config.metrics.protocol, noopMeterProvider);
  return (
    Object.values(InstrumentType).every(
      (type) => exporter.selectAggregationTemporality?.(type) === AggregationTemporality.CUMULATIVE,
    ) &&
    [AggregationType.DEFAULT, AggregationType.EXPLICIT_BUCKET_HISTOGRAM].includes(
      exporter.selectAggregation?.(InstrumentType.HISTOGRAM).type ?? AggregationType.DEFAULT,
    )
  );
}

/** For the exporter that is only asked its preferences: its self-observability goes nowhere. */
const noopMeterProvider: MeterProvider = { getMeter: () => createNoopMeter() };

/** The shutdown bound when the caller gives none; the exporters' own default timeout is 10 s. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 3_000;

/**
 * Starts the OpenTelemetry SDK through NodeSDK, which reads the standard OTEL_* variables (disabled,
 * resource, sampler, limits, propagators) and registers the global providers, context manager and
 * propagator. Called first in main.ts, before the app's modules load. What we add through its options:
 * the in-process span recorder, guarded processors, the /metrics reader on the same MeterProvider, and
 * export pipelines with self-observability (pipelines.ts).
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const { config } = options;
  const recorder = new SpanRecorder();
  const spanExport = new DeferredSpanProcessor();
  const logExport = new DeferredLogRecordProcessor();
  const pushReaders = metricReadersFor(config.metrics);
  // /metrics renders the OTLP reader's state when it is cumulative, as Prometheus's is: every measurement
  // is then aggregated once rather than once per reader. Otherwise it gets a pull reader of its own, whose
  // HTTP server stays off (fastify serves the route).
  const shared = config.sdkDisabled ? undefined : pushReaders.find((push) => servesPrometheus(push, config));
  const prometheus = shared ? undefined : new PrometheusExporter({ preventServerStart: true });
  const extraLogProcessors = (options.logProcessors ?? []).map(guardLogRecordProcessor);

  const sdk = new NodeSDK({
    // Lowest priority: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (read by NodeSDK's detectors) win.
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: DEFAULT_SERVICE_NAME,
        [ATTR_SERVICE_VERSION]: options.serviceVersion,
      }),
    ),
    spanProcessors: [recorder, ...(options.spanProcessors ?? []), spanExport].map(guardSpanProcessor),
    logRecordProcessors: [...extraLogProcessors, logExport],
    metricReaders: [
      ...(prometheus ? [prometheus] : []),
      ...(options.metricReaders ?? []),
      ...pushReaders.map(({ reader }) => reader),
    ],
  });
  // After NodeSDK's constructor, which installs a console diag logger when OTEL_LOG_LEVEL is set.
  installTelemetryDiagnostics(
    diagLogLevelFromString(getStringFromEnv('OTEL_LOG_LEVEL')) ?? DiagLogLevel.WARN,
  );
  sdk.start();

  const enabled = !config.sdkDisabled;
  const meterProvider = metrics.getMeterProvider();
  const botMetrics = new BotMetrics(
    meterProvider.getMeter(INSTRUMENTATION_SCOPE, options.serviceVersion),
    options.instanceRole ?? (() => 'active'),
  );
  if (enabled) {
    spanExport.bind(spanProcessorsFor(config.traces, meterProvider));
    logExport.bind(logProcessorsFor(config.logs, meterProvider));
    for (const { exporter, name } of pushReaders) {
      exporter.bind(metricExporterFor(name, config.metrics.protocol, meterProvider));
    }
  }

  const flush = async () => {
    await Promise.allSettled([
      spanExport.forceFlush(),
      logExport.forceFlush(),
      ...(options.spanProcessors ?? []).map((processor) => processor.forceFlush()),
      ...extraLogProcessors.map((processor) => processor.forceFlush()),
      ...pushReaders.map(({ reader }) => reader.forceFlush()),
    ]);
  };
  return {
    recorder,
    exposition: new PrometheusExposition(enabled ? (shared?.reader ?? prometheus) : undefined),
    metrics: botMetrics,
    exportsLogs: enabled && (logExport.bound > 0 || extraLogProcessors.length > 0),
    flush,
    async shutdown(timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS) {
      const done = sdk.shutdown().catch((error) => diag.error('telemetry shutdown failed', error));
      await Promise.race([done, sleep(Math.max(0, timeoutMs), undefined, { ref: false })]);
    },
  };
}
