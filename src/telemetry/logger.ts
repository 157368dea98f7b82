import {
  type Attributes,
  diag,
  type Logger as OtelLogger,
  ROOT_CONTEXT,
  SeverityNumber,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { type DestinationStream, type Logger, pino, type StreamEntry } from 'pino';
import { LOG_FIELD } from './conventions.js';

export type { Logger } from 'pino';

/**
 * Field names that may carry a secret or personal data if someone logs a whole object by mistake;
 * pino removes them before the line is written anywhere.
 */
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
  'text',
  'from',
  'first_name',
  'last_name',
  'username',
  'phone_number',
];

export interface LoggerOptions {
  level: string;
  /** Where JSON lines go; defaults to stdout. Tests pass a capturing stream. */
  destination?: DestinationStream;
  /** When set, every line is also emitted as an OTel log record with its trace context. */
  otelLogger?: OtelLogger;
  /** Also receives every line (the in-process log recorder behind the trace page and /debug). */
  recorder?: { write(line: string): void };
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
    { level: 'trace', stream: options.destination ?? pino.destination({ dest: 1, sync: false }) },
  ];
  if (options.recorder) streams.push({ level: 'trace', stream: options.recorder });
  if (options.otelLogger) streams.push({ level: 'trace', stream: otelLogStream(options.otelLogger) });
  return pino(
    {
      level: options.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      mixin: traceContextFields,
    },
    pino.multistream(streams),
  );
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
  LOG_FIELD.TRACE_ID,
  LOG_FIELD.SPAN_ID,
  LOG_FIELD.TRACE_FLAGS,
]);

/** Turns each JSON line into an OTel log record; the record's context is the line's trace context. */
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
          timestamp: typeof record.time === 'string' ? new Date(record.time) : new Date(),
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
