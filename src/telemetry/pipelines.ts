import type { Context, MeterProvider } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, getNumberFromEnv } from '@opentelemetry/core';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  BatchLogRecordProcessor,
  ConsoleLogRecordExporter,
  type LogRecordProcessor,
  type ReadWriteLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  AggregationType,
  ConsoleMetricExporter,
  type InstrumentType,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { ExporterName, OtlpProtocol, SignalExport } from '../config.js';
import { guardLogRecordProcessor, guardSpanProcessor } from './guarded.js';

/**
 * The export pipelines that OTEL_{TRACES,METRICS,LOGS}_EXPORTER choose, built the way NodeSDK builds
 * them from the environment (batching for OTLP, simple for console, OTEL_BSP_* / OTEL_BLRP_* /
 * OTEL_METRIC_EXPORT_* read with the SDK's own helpers) plus self-observability: every processor and
 * exporter reports `otel.sdk.processor.*` / `otel.sdk.exporter.*` to the app's MeterProvider.
 *
 * NodeSDK would build these itself only if we passed no processors of our own (it has no option to add
 * the in-process recorder beside them), and it creates the MeterProvider in start(), after the
 * processors it is given were constructed. So the processors handed to NodeSDK are `Deferred*` slots,
 * bound to the real pipelines right after start() with the SDK's MeterProvider.
 */

const SPAN_EXPORTERS = {
  grpc: GrpcTraceExporter,
  'http/json': JsonTraceExporter,
  'http/protobuf': ProtoTraceExporter,
};
const LOG_EXPORTERS = {
  grpc: GrpcLogExporter,
  'http/json': JsonLogExporter,
  'http/protobuf': ProtoLogExporter,
};
const METRIC_EXPORTERS = {
  grpc: GrpcMetricExporter,
  'http/json': JsonMetricExporter,
  'http/protobuf': ProtoMetricExporter,
};

/**
 * OTLP metric pushes every 15 s unless OTEL_METRIC_EXPORT_INTERVAL says otherwise (the spec's default is
 * 60 s): the same as a typical scrape interval, so rate() windows look alike on the OTLP and /metrics paths.
 */
const METRIC_EXPORT_INTERVAL_MS = 15_000;

export function spanProcessorsFor(choice: SignalExport, meterProvider: MeterProvider): SpanProcessor[] {
  return choice.exporters.map((name) =>
    name === 'console'
      ? new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter(), selfObsMeterProvider: meterProvider })
      : new BatchSpanProcessor({
          exporter: new SPAN_EXPORTERS[choice.protocol]({ selfObsMeterProvider: meterProvider }),
          selfObsMeterProvider: meterProvider,
          ...batchOptionsFromEnv('OTEL_BSP'),
        }),
  );
}

export function logProcessorsFor(choice: SignalExport, meterProvider: MeterProvider): LogRecordProcessor[] {
  return choice.exporters.map((name) =>
    name === 'console'
      ? new SimpleLogRecordProcessor({
          exporter: new ConsoleLogRecordExporter(),
          selfObsMeterProvider: meterProvider,
        })
      : new BatchLogRecordProcessor({
          exporter: new LOG_EXPORTERS[choice.protocol]({ selfObsMeterProvider: meterProvider }),
          selfObsMeterProvider: meterProvider,
          ...batchOptionsFromEnv('OTEL_BLRP'),
        }),
  );
}

/** One periodic reader per chosen metric exporter; each exporter is bound after start (`bindMetricExporters`). */
export function metricReadersFor(choice: SignalExport): Array<{
  reader: PeriodicExportingMetricReader;
  exporter: DeferredMetricExporter;
  name: ExporterName;
}> {
  const exportIntervalMillis = positive('OTEL_METRIC_EXPORT_INTERVAL') ?? METRIC_EXPORT_INTERVAL_MS;
  return choice.exporters.map((name) => {
    const exporter = new DeferredMetricExporter();
    const timeout = positive('OTEL_METRIC_EXPORT_TIMEOUT');
    const reader = new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis,
      exportTimeoutMillis: Math.min(timeout ?? exportIntervalMillis, exportIntervalMillis),
    });
    return { reader, exporter, name };
  });
}

export function metricExporterFor(
  name: ExporterName,
  protocol: OtlpProtocol,
  meterProvider: MeterProvider,
): PushMetricExporter {
  return name === 'console'
    ? new ConsoleMetricExporter()
    : new METRIC_EXPORTERS[protocol]({ selfObsMeterProvider: meterProvider });
}

function batchOptionsFromEnv(prefix: 'OTEL_BSP' | 'OTEL_BLRP') {
  return {
    maxQueueSize: positive(`${prefix}_MAX_QUEUE_SIZE`),
    maxExportBatchSize: positive(`${prefix}_MAX_EXPORT_BATCH_SIZE`),
    scheduledDelayMillis: positive(`${prefix}_SCHEDULE_DELAY`),
    exportTimeoutMillis: positive(`${prefix}_EXPORT_TIMEOUT`),
  };
}

/** The SDK's reading of a numeric OTEL_* variable; zero or negative means "use the default", as in NodeSDK. */
function positive(name: string): number | undefined {
  const value = getNumberFromEnv(name);
  return value !== undefined && value > 0 ? value : undefined;
}

/** A span processor slot filled after NodeSDK.start(); each bound processor is guarded on its own. */
export class DeferredSpanProcessor implements SpanProcessor {
  #processors: SpanProcessor[] = [];

  bind(processors: SpanProcessor[]): void {
    this.#processors = processors.map(guardSpanProcessor);
  }

  onStart(span: Span, parentContext: Context): void {
    for (const processor of this.#processors) processor.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    for (const processor of this.#processors) processor.onEnd(span);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.#processors.map((processor) => processor.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.#processors.map((processor) => processor.shutdown()));
  }
}

/** A log record processor slot filled after NodeSDK.start(). */
export class DeferredLogRecordProcessor implements LogRecordProcessor {
  #processors: LogRecordProcessor[] = [];

  get bound(): number {
    return this.#processors.length;
  }

  bind(processors: LogRecordProcessor[]): void {
    this.#processors = processors.map(guardLogRecordProcessor);
  }

  onEmit(logRecord: ReadWriteLogRecord, context?: Context): void {
    for (const processor of this.#processors) processor.onEmit(logRecord, context);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.#processors.map((processor) => processor.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.#processors.map((processor) => processor.shutdown()));
  }
}

/**
 * A metric exporter slot filled after NodeSDK.start(). The periodic reader asks for temporality and
 * aggregation only when it collects, which is after binding.
 */
export class DeferredMetricExporter implements PushMetricExporter {
  #inner: PushMetricExporter | undefined;

  bind(inner: PushMetricExporter): void {
    this.#inner = inner;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.#inner) this.#inner.export(metrics, resultCallback);
    else resultCallback({ code: ExportResultCode.SUCCESS });
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return this.#inner?.selectAggregationTemporality?.(instrumentType) ?? AggregationTemporality.CUMULATIVE;
  }

  selectAggregation(instrumentType: InstrumentType) {
    return this.#inner?.selectAggregation?.(instrumentType) ?? { type: AggregationType.DEFAULT };
  }

  forceFlush(): Promise<void> {
    return this.#inner?.forceFlush() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.#inner?.shutdown() ?? Promise.resolve();
  }
}
