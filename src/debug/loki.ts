import { LOKI_FIELD } from '../telemetry/grafana.js';
import { type AttributeValue, type LogView, sortLogs } from './trace-view.js';

/**
 * Reads Loki's `query_range` answer for log queries (`resultType: "streams"`): each stream's labels, and
 * each entry `[nanoseconds, line]`, or `[nanoseconds, line, { structuredMetadata, parsed }]` when the
 * client asked for categorised labels. The bot's OTLP log records land with the body as the line and the
 * attributes (event, reason_code, …) and trace context as structured metadata.
 */

type LokiEntry =
  | [string, string]
  | [string, string, { structuredMetadata?: Record<string, string>; parsed?: Record<string, string> }];

interface LokiQueryRange {
  status?: string;
  data?: { resultType?: string; result?: Array<{ stream?: Record<string, string>; values?: LokiEntry[] }> };
}

/** Labels Loki or the collector adds that say nothing about the line itself. */
const NOT_FIELDS = new Set([
  LOKI_FIELD.TRACE_ID,
  LOKI_FIELD.SPAN_ID,
  LOKI_FIELD.SERVICE_NAME,
  'trace_flags',
  'flags',
  'severity_text',
  'severity_number',
  'detected_level',
  'level',
  'event',
  'event_name',
  'service_version',
  'service_instance_id',
  'scope_name',
  'scope_version',
  'telemetry_sdk_language',
  'telemetry_sdk_name',
  'telemetry_sdk_version',
  'deployment_environment_name',
]);

/** Loki's field values are strings; numbers that were numbers in the log line read back as numbers. */
function plain(value: string): AttributeValue {
  return /^-?\d+(\.\d+)?$/.test(value) && value.length < 16 ? Number(value) : value;
}

export function logViewsFromLoki(document: unknown): LogView[] {
  const body = (document ?? {}) as LokiQueryRange;
  const logs: LogView[] = [];
  for (const stream of body.data?.result ?? []) {
    for (const entry of stream.values ?? []) {
      const [nanos, line, categorised] = entry;
      const labels: Record<string, string> = {
        ...(stream.stream ?? {}),
        ...(categorised?.structuredMetadata ?? {}),
        ...(categorised?.parsed ?? {}),
      };
      const fields: Record<string, AttributeValue> = {};
      for (const [key, value] of Object.entries(labels)) if (!NOT_FIELDS.has(key)) fields[key] = plain(value);
      logs.push({
        timeMs: Number(BigInt(nanos) / 1000n) / 1000,
        level: (labels.severity_text ?? labels.detected_level ?? labels.level ?? 'info').toLowerCase(),
        event: labels.event ?? labels.event_name,
        message: line,
        spanId: labels[LOKI_FIELD.SPAN_ID],
        fields,
      });
    }
  }
  return sortLogs(logs);
}
