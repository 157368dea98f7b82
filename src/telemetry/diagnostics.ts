import { type DiagLogLevel, diag, type Exception } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { EVENT } from './conventions.js';
import { noteTelemetryError } from './telemetry-health.js';

type Write = (line: string) => void;

/**
 * The OTel SDK's own troubles (a collector that refuses, a processor that throws) go to stderr as JSON lines
 * with event TELEMETRY_ERROR, at `logLevel` (OTEL_LOG_LEVEL, default warn), never into the telemetry that is failing. Exporters report through the global
 * error handler, whose default hands diag a JSON-encoded exception with its stack as the message; ours
 * writes what failed in `msg` and the error's own words in `detail`.
 */
export function installTelemetryDiagnostics(
  logLevel: DiagLogLevel,
  write: Write = (line) => process.stderr.write(line),
): void {
  const emit = (level: string, message: string, args: unknown[]) => {
    const line = diagnosticLine(level, message, args);
    // /debug shows the last one as part of its telemetry health.
    if (level === 'error') noteTelemetryError(line.detail ? `${line.msg}: ${line.detail}` : line.msg);
    write(`${JSON.stringify(line)}\n`);
  };
  const at =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      emit(level, message, args);
  diag.setLogger(
    { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), verbose: at('verbose') },
    { logLevel, suppressOverrideMessage: true },
  );
  setGlobalErrorHandler((error: Exception) =>
    emit('error', 'telemetry export or processing failed', [error]),
  );
}

function diagnosticLine(level: string, message: string, args: unknown[]): Record<string, string> {
  // A diag message can itself be an encoded exception (other SDK paths call diag with one).
  const encoded = decodeException(message);
  const details = [...(encoded ? [encoded] : []), ...args].map(readable).filter((text) => text !== '');
  return {
    level,
    time: new Date().toISOString(),
    event: EVENT.TELEMETRY_ERROR,
    msg: encoded ? 'OpenTelemetry SDK error' : message,
    detail: details.join('; '),
  };
}

function decodeException(message: string): object | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(message) as unknown;
    return typeof parsed === 'object' && parsed !== null && 'message' in parsed ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** `Name: message` without the stack: one line an operator reads (the address refused is in Node's message). */
function readable(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'message' in value) {
    const { name, message } = value as { name?: unknown; message?: unknown };
    return `${typeof name === 'string' ? name : 'Error'}: ${String(message)}`;
  }
  return value === undefined ? '' : String(value);
}
