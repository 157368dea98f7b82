/**
 * What Loki stores for an OTLP log record besides its attributes and trace context (those are named in
 * src/telemetry/grafana.ts LOKI_FIELD): grafana/loki pkg/loghttp/push/otlp.go adds the record's severity
 * as structured metadata, `severity_number` (the OTel SeverityNumber as decimal text) and `severity_text`.
 */
export const LOKI_OTLP_FIELD = {
  SEVERITY_NUMBER: 'severity_number',
  SEVERITY_TEXT: 'severity_text',
} as const;
