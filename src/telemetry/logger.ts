import {
  type Attributes,
  diag,
  type HrTime,
  type Logger as OtelLogger,
  ROOT_CONTEXT,
  SeverityNumber,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import {
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_STACKTRACE,
  ATTR_EXCEPTION_TYPE,
} from '@opentelemetry/semantic-conventions';
import { type DestinationStream, type Logger, pino, type StreamEntry } from 'pino';
import { LOG_FIELD } from './conventions.js';

export type { Logger } from 'pino';

/** Secrets, by path: pino removes them before the line is written anywhere. */
const REDACT_PATHS = [
  'token',
  'botToken',
  'webhookSecret',
  'secret',
  'password',
  'authorization',
  'headers.authorization',
  'headers["x-telegram-bot-api-secret-token"]',
  'databaseUrl',
];

/**
 * Personal data in Telegram objects, redacted at any depth: a whole update logged by mistake nests them
 * (`message.from.first_name`, `callback_query.message.reply_to_message.text`), and pino's paths reach
 * only fixed depths. `from` goes whole, since it also holds the raw user id.
 */
const PERSONAL_KEYS = new Set([
  'text',
  'caption',
  'from',
  'first_name',
  'last_name',
  'username',
  'phone_number',
]);
const CENSOR = '[REDACTED]';
/** Deeper than any Telegram object; also stops a cyclic object. */
const MAX_REDACT_DEPTH = 10;

/** Bytes of log lines held while stdout is slower than the bot; past it, lines are dropped and counted. */
const STDOUT_BUFFER_BYTES = 8 * 1024 * 1024;
/**
 * Lines are written to stdout in batches of this many bytes, or every STDOUT_FLUSH_MS when fewer have
 * come: one write per line cost each update ~20 µs of CPU per line in a syscall (docs/benchmarks.md).
 */
const STDOUT_BATCH_BYTES = 4096;
const STDOUT_FLUSH_MS = 100;

export interface LoggerOptions {
  level: string;
  /** Where JSON lines go; defaults to stdout (see `stdoutDestination`). Tests pass a capturing stream. */
  destination?: DestinationStream;
  /** When set, every line is also emitted as an OTel log record with its trace context. */
  otelLogger?: OtelLogger;
  /** Also receives every line (the in-process log recorder behind the trace page and /debug). */
  recorder?: { write(line: string): void };
  /** Called for each line the default stdout destination drops under back-pressure. */
  onDroppedLine?: () => void;
}

/**
 * Asynchronous, batched stdout whose buffer is bounded: when a slow pipe or collector applies back-pressure,
 * pino's default buffers without limit until the process runs out of memory. Lines beyond the bound are
 * dropped; `onDrop` counts them. A line waits at most STDOUT_FLUSH_MS, and pino flushes what is left when
 * the process exits.
 */
export function stdoutDestination(
  onDrop: () => void,
  maxBufferBytes = STDOUT_BUFFER_BYTES,
): DestinationStream {
  const stream = pino.destination({
    dest: 1,
    sync: false,
    minLength: STDOUT_BATCH_BYTES,
    periodicFlush: STDOUT_FLUSH_MS,
    maxLength: maxBufferBytes,
  });
  stream.on('drop', onDrop);
  return stream;
}

/**
 * pino with OTel correlation: a mixin stamps trace_id/span_id/trace_flags of the active span on every
 * line, and (when exporting) a second stream turns each line into an OTel log record in-process.
 * We do this explicitly rather than through @opentelemetry/instrumentation-pino because the app is ESM
 * and the instrumentation would need a module-loader hook to patch pino; the mixin is the same logic
 * without the hook, and an in-process bridge keeps logs testable with an in-memory exporter.
 */
export function createLogger(options: LoggerOptions): Logger {
  const streams: StreamEntry[] = [
    { level: 'trace', stream: options.destination ?? stdoutDestination(options.onDroppedLine ?? (() => {})) },
  ];
  if (options.recorder) streams.push({ level: 'trace', stream: options.recorder });
  if (options.otelLogger) streams.push({ level: 'trace', stream: otelLogStream(options.otelLogger) });
  return pino(
    {
      level: options.level,
      base: undefined,
      // Nanoseconds, so log records order correctly against the spans they belong to.
      timestamp: pino.stdTimeFunctions.isoTimeNano,
      formatters: { level: (label) => ({ level: label }), log: (object) => redactPersonal(object, 0) },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      mixin: traceContextFields,
    },
    pino.multistream(streams),
  );
}

/** A copy of `value` with PERSONAL_KEYS censored at any depth; the same object when there is nothing to censor. */
function redactPersonal<T>(value: T, depth: number): T {
  if (typeof value !== 'object' || value === null || depth > MAX_REDACT_DEPTH) return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, index) => {
      const redacted = redactPersonal(item, depth + 1);
      if (redacted !== item) {
        copy ??= [...value];
        copy[index] = redacted;
      }
    });
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const redacted = PERSONAL_KEYS.has(key) ? CENSOR : redactPersonal(item, depth + 1);
    if (redacted !== item) {
      copy ??= { ...(value as Record<string, unknown>) };
      copy[key] = redacted;
    }
  }
  return (copy ?? value) as T;
}

function traceContextFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext) return {};
  return {
    [LOG_FIELD.TRACE_ID]: spanContext.traceId,
    [LOG_FIELD.SPAN_ID]: spanContext.spanId,
    [LOG_FIELD.TRACE_FLAGS]: `0${spanContext.traceFlags.toString(16)}`.slice(-2),
  };
}

const SEVERITY: Record<string, SeverityNumber> = {
  trace: SeverityNumber.TRACE,
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
  fatal: SeverityNumber.FATAL,
};

const NOT_ATTRIBUTES = new Set([
  'level',
  'time',
  'msg',
  'err',
  LOG_FIELD.TRACE_ID,
  LOG_FIELD.SPAN_ID,
  LOG_FIELD.TRACE_FLAGS,
]);

/**
 * Turns each JSON line into an OTel log record; the record's context is the line's trace context. It reads
 * the line pino wrote rather than the logged object, so the record holds exactly what redaction left;
 * the JSON.parse this costs is measured in docs/architecture.md.
 */
function otelLogStream(otelLogger: OtelLogger): DestinationStream {
  return {
    write(line: string) {
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        const attributes: Attributes = {};
        for (const [key, value] of Object.entries(record)) {
          if (NOT_ATTRIBUTES.has(key) || value === null || value === undefined) continue;
          attributes[key] =
            typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
              ? value
              : JSON.stringify(value);
        }
        Object.assign(attributes, exceptionAttributes(record.err));
        const traceId = record[LOG_FIELD.TRACE_ID];
        const spanId = record[LOG_FIELD.SPAN_ID];
        const context =
          typeof traceId === 'string' && typeof spanId === 'string'
            ? trace.setSpanContext(ROOT_CONTEXT, {
                traceId,
                spanId,
                traceFlags:
                  Number.parseInt(String(record[LOG_FIELD.TRACE_FLAGS] ?? '01'), 16) || TraceFlags.NONE,
                isRemote: false,
              })
            : ROOT_CONTEXT;
        const level = String(record.level);
        otelLogger.emit({
          timestamp: hrTimeOf(record.time),
          severityNumber: SEVERITY[level] ?? SeverityNumber.UNSPECIFIED,
          severityText: level.toUpperCase(),
          body: typeof record.msg === 'string' ? record.msg : '',
          ...(typeof record[LOG_FIELD.EVENT] === 'string'
            ? { eventName: record[LOG_FIELD.EVENT] as string }
            : {}),
          attributes,
          context,
        });
      } catch (error) {
        diag.error('forwarding a log line to OpenTelemetry failed', error);
      }
    },
  };
}

/** pino's `err` serializer gives `{type, message, stack}`: the exception semantic conventions. */
function exceptionAttributes(err: unknown): Attributes {
  if (typeof err !== 'object' || err === null) return {};
  const { type, message, stack } = err as Record<string, unknown>;
  const attributes: Attributes = {};
  if (typeof type === 'string') attributes[ATTR_EXCEPTION_TYPE] = type;
  if (typeof message === 'string') attributes[ATTR_EXCEPTION_MESSAGE] = message;
  if (typeof stack === 'string') attributes[ATTR_EXCEPTION_STACKTRACE] = stack;
  return attributes;
}

/** The seconds of the last line's timestamp: lines come many to a second, and Date.parse is the dear part. */
let lastSecond = { text: '', seconds: Number.NaN };

/** `2026-11-29T22:10:00.123456789Z` (pino's isoTimeNano) → HrTime, keeping the nanoseconds a Date drops. */
function hrTimeOf(time: unknown): HrTime {
  if (typeof time === 'string') {
    const match = /^(.*T\d\d:\d\d:\d\d)\.(\d{1,9})Z$/.exec(time);
    if (match) {
      const text = match[1] as string;
      if (text !== lastSecond.text) lastSecond = { text, seconds: Date.parse(`${text}Z`) / 1000 };
      if (Number.isFinite(lastSecond.seconds))
        return [lastSecond.seconds, Number((match[2] ?? '').padEnd(9, '0'))];
    }
  }
  const now = Date.now();
  return [Math.floor(now / 1000), (now % 1000) * 1_000_000];
}
