import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, DiagLogLevel, diag, logs, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type LogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  type IMetricReader,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import { INSTRUMENTATION_SCOPE } from './conventions.js';
import { countFailures, guardSpanProcessor } from './guarded.js';
import { BotMetrics, type ExportSignal } from './metrics.js';
import { PrometheusExposition } from './prometheus-exposition.js';
import { SpanRecorder } from './span-recorder.js';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion: string;
  /** Set: traces, metrics and logs leave by OTLP/HTTP (the exporters read the standard OTEL_* variables). */
  otlpEndpoint: string | undefined;
  /** OTEL_EXPORTER_OTLP_PROTOCOL; the JS SDK ships one exporter package per encoding. */
  otlpProtocol?: 'http/protobuf' | 'http/json';
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

/** The shutdown bound when the caller gives none; the exporters' own default timeout is 10 s. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 3_000;

/**
 * Starts the OpenTelemetry SDK: registers global tracer, meter and logger providers, the async-hooks
 * context manager and W3C propagation. Called first in main.ts, before the app's modules load.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  diag.setLogger(
    {
      error: (message, ...args) => process.stderr.write(`${jsonDiag('error', message, args)}\n`),
      warn: (message, ...args) => process.stderr.write(`${jsonDiag('warn', message, args)}\n`),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );

  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.serviceName,
        [ATTR_SERVICE_VERSION]: options.serviceVersion,
        [ATTR_SERVICE_INSTANCE_ID]: randomUUID(),
      }),
    );

  const exporting = options.otlpEndpoint !== undefined;
  const json = options.otlpProtocol === 'http/json';
  const recorder = new SpanRecorder();
  // A pull reader for /metrics; its own HTTP server stays off (fastify serves the route).
  const prometheus = new PrometheusExporter({ preventServerStart: true });

  // The meter provider comes first so that exporter failures of the other signals can be counted.
  const readers: IMetricReader[] = [prometheus, ...(options.metricReaders ?? [])];
  let botMetrics: BotMetrics | undefined;
  const countFailure = (signal: ExportSignal) => () => botMetrics?.exportFailure(signal);
  if (exporting) {
    readers.push(
      new PeriodicExportingMetricReader({
        // Matches a typical 15 s scrape interval, so rate() windows look the same on both paths.
        exportIntervalMillis: 15_000,
        exporter: countFailures(
          json ? new JsonMetricExporter() : new ProtoMetricExporter(),
          countFailure('metrics'),
        ) as PushMetricExporter,
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);
  botMetrics = new BotMetrics(
    meterProvider.getMeter(INSTRUMENTATION_SCOPE),
    options.instanceRole ?? (() => 'active'),
  );

  const spanProcessors: SpanProcessor[] = [recorder, ...(options.spanProcessors ?? [])];
  if (exporting) {
    spanProcessors.push(
      new BatchSpanProcessor({
        exporter: countFailures(
          json ? new JsonTraceExporter() : new ProtoTraceExporter(),
          countFailure('traces'),
        ) as SpanExporter,
      }),
    );
  }
  const tracerProvider = new TracerProvider({
    resource,
    spanProcessors: spanProcessors.map(guardSpanProcessor),
  });

  const logProcessors: LogRecordProcessor[] = [...(options.logProcessors ?? [])];
  if (exporting) {
    logProcessors.push(
      new BatchLogRecordProcessor({
        exporter: countFailures(
          json ? new JsonLogExporter() : new ProtoLogExporter(),
          countFailure('logs'),
        ) as LogRecordExporter,
      }),
    );
  }
  const loggerProvider = new LoggerProvider({ resource, processors: logProcessors });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(tracerProvider);
  logs.setGlobalLoggerProvider(loggerProvider);

  const flush = async () => {
    await Promise.allSettled([
      tracerProvider.forceFlush(),
      loggerProvider.forceFlush(),
      meterProvider.forceFlush(),
    ]);
  };
  return {
    recorder,
    exposition: new PrometheusExposition(prometheus),
    metrics: botMetrics,
    exportsLogs: logProcessors.length > 0,
    flush,
    async shutdown(timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS) {
      const done = (async () => {
        // Logs last: the other providers may still log while they flush.
        await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
        await loggerProvider.shutdown().catch(() => {});
      })();
      await Promise.race([done, sleep(Math.max(0, timeoutMs), undefined, { ref: false })]);
    },
  };
}

function jsonDiag(level: string, message: string, args: unknown[]): string {
  const detail = args
    .map((arg) => (arg instanceof Error ? `${arg.name}: ${arg.message}` : String(arg)))
    .join(' ');
  return JSON.stringify({
    level,
    time: new Date().toISOString(),
    event: 'TELEMETRY_ERROR',
    msg: message,
    detail,
  });
}
