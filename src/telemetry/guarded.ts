import { type Context, diag } from '@opentelemetry/api';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { safely } from './safely.js';

/**
 * Telemetry never breaks the product: the SDK calls processors without a try/catch, so one that throws
 * would throw out of `span.end()` into a handler. This wrapper sends such failures to the diag logger.
 */
export function guardSpanProcessor(inner: SpanProcessor): SpanProcessor {
  return {
    onStart: (span: Span, parentContext: Context) =>
      safely('span processor onStart', () => inner.onStart(span, parentContext)),
    onEnd: (span: ReadableSpan) => safely('span processor onEnd', () => inner.onEnd(span)),
    forceFlush: () => inner.forceFlush().catch((error) => diag.error('span processor flush failed', error)),
    shutdown: () => inner.shutdown().catch((error) => diag.error('span processor shutdown failed', error)),
  };
}

/** The same guard for log record processors: a throwing one must not throw out of `logger.info()`. */
export function guardLogRecordProcessor(inner: LogRecordProcessor): LogRecordProcessor {
  return {
    onEmit: (logRecord: ReadWriteLogRecord, context?: Context) =>
      safely('log record processor onEmit', () => inner.onEmit(logRecord, context)),
    forceFlush: () =>
      inner.forceFlush().catch((error) => diag.error('log record processor flush failed', error)),
    shutdown: () =>
      inner.shutdown().catch((error) => diag.error('log record processor shutdown failed', error)),
  };
}
