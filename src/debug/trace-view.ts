import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

/**
 * One trace as every diagnostic reads it, whatever its source: the in-process recorder, Tempo's OTLP JSON,
 * Loki's query_range, or a running bot's admin API (which serves exactly this shape as JSON).
 */
export type AttributeValue = string | number | boolean;

export interface SpanEventView {
  readonly name: string;
  readonly timeMs: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

export interface SpanView {
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  /** Epoch milliseconds (fractional). */
  readonly startMs: number;
  readonly durationMs: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly status: 'unset' | 'ok' | 'error';
  readonly statusMessage: string | undefined;
  readonly events: readonly SpanEventView[];
}

export interface LogView {
  readonly timeMs: number;
  readonly level: string;
  readonly event: string | undefined;
  readonly message: string;
  readonly spanId: string | undefined;
  /** The line's other fields (reason_code, method, error_code, …), never its trace context. */
  readonly fields: Readonly<Record<string, AttributeValue>>;
}

export interface TraceView {
  readonly traceId: string;
  /** Ordered by start time; the root (no parent) first when present. */
  readonly spans: readonly SpanView[];
  /** Ordered by time. */
  readonly logs: readonly LogView[];
}

const KINDS: Record<number, SpanView['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

export function spanKindName(kind: number): SpanView['kind'] {
  return KINDS[kind] ?? 'internal';
}

export function statusName(code: number): SpanView['status'] {
  return code === SpanStatusCode.ERROR ? 'error' : code === SpanStatusCode.OK ? 'ok' : 'unset';
}

const hrMs = ([seconds, nanos]: readonly [number, number]) => seconds * 1000 + nanos / 1e6;

function plainAttributes(attributes: Record<string, unknown>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      out[key] = value;
    else if (Array.isArray(value)) out[key] = JSON.stringify(value);
  }
  return out;
}

/** The in-process recorder's spans of one trace. */
export function spanViewsFromSdk(spans: readonly ReadableSpan[]): SpanView[] {
  return sortSpans(
    spans.map((span) => ({
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext?.spanId,
      name: span.name,
      kind: spanKindName(span.kind),
      startMs: hrMs(span.startTime),
      durationMs: hrMs(span.duration),
      attributes: plainAttributes(span.attributes),
      status: statusName(span.status.code),
      statusMessage: span.status.message || undefined,
      events: span.events.map((event) => ({
        name: event.name,
        timeMs: hrMs(event.time),
        attributes: plainAttributes(event.attributes ?? {}),
      })),
    })),
  );
}

const TRACE_CONTEXT_FIELDS = new Set(['level', 'time', 'msg', 'event', 'trace_id', 'span_id', 'trace_flags']);

/** One pino JSON line (as the bot writes it to stdout) as a log view. */
export function logViewFromLine(line: Record<string, unknown>): LogView {
  const fields: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(line)) {
    if (TRACE_CONTEXT_FIELDS.has(key)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      fields[key] = value;
  }
  return {
    timeMs: typeof line.time === 'string' ? Date.parse(line.time) : Number(line.time ?? 0),
    level: String(line.level ?? 'info'),
    event: typeof line.event === 'string' ? line.event : undefined,
    message: typeof line.msg === 'string' ? line.msg : '',
    spanId: typeof line.span_id === 'string' ? line.span_id : undefined,
    fields,
  };
}

/** Start order with parents before children that start at the same instant; the root first. */
export function sortSpans(spans: SpanView[]): SpanView[] {
  return spans.sort(
    (a, b) =>
      Number(a.parentSpanId !== undefined) - Number(b.parentSpanId !== undefined) ||
      a.startMs - b.startMs ||
      Number(a.spanId === b.parentSpanId ? -1 : b.spanId === a.parentSpanId ? 1 : 0),
  );
}

export function sortLogs(logs: LogView[]): LogView[] {
  return logs.sort((a, b) => a.timeMs - b.timeMs);
}

/** The root span: the one without a parent (or, when it was not kept, the earliest). */
export function rootOf(trace: TraceView): SpanView | undefined {
  return trace.spans.find((span) => span.parentSpanId === undefined) ?? trace.spans[0];
}
