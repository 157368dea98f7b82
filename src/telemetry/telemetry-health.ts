/**
 * Whether telemetry leaves the process, for /debug, read from what the process already measures: the
 * SDK's own self-observability metrics (`otel.sdk.exporter.*`, `otel.sdk.processor.*`, the same series
 * the "Telemetry health" panel shows) in the `/metrics` exposition, and the last error the SDK reported
 * to its diagnostic logger. Nothing here runs per update.
 */
export interface SignalHealth {
  readonly signal: string;
  readonly exported: number;
  readonly failed: number;
  /** Dropped before export (a full queue). */
  readonly dropped: number;
}

const SIGNALS: ReadonlyArray<{ signal: string; exporter: string; processor: string }> = [
  {
    signal: 'spans',
    exporter: 'otel_sdk_exporter_span_exported_total',
    processor: 'otel_sdk_processor_span_processed_total',
  },
  {
    signal: 'logs',
    exporter: 'otel_sdk_exporter_log_exported_total',
    processor: 'otel_sdk_processor_log_processed_total',
  },
];

const SAMPLE = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/;

/** Sums of the exported / failed / dropped series per signal in a Prometheus text exposition. */
export function signalHealth(exposition: string): SignalHealth[] {
  const sums = new Map<string, { ok: number; failed: number }>();
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const [, name = '', , labels = '', value = '0'] = match;
    const entry = sums.get(name) ?? { ok: 0, failed: 0 };
    if (/(^|,)error_type="/.test(labels)) entry.failed += Number(value) || 0;
    else entry.ok += Number(value) || 0;
    sums.set(name, entry);
  }
  return SIGNALS.flatMap(({ signal, exporter, processor }) => {
    const exported = sums.get(exporter);
    const processed = sums.get(processor);
    if (!exported && !processed) return [];
    return [
      { signal, exported: exported?.ok ?? 0, failed: exported?.failed ?? 0, dropped: processed?.failed ?? 0 },
    ];
  });
}

let lastError: { message: string; at: number } | undefined;

/** Called by the SDK's diagnostic logger for every error it reports (a failed export, a throwing processor). */
export function noteTelemetryError(message: string): void {
  lastError = { message: message.slice(0, 300), at: Date.now() };
}

export function lastTelemetryError(): { message: string; at: number } | undefined {
  return lastError;
}
