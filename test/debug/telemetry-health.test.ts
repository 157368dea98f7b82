import { expect, test } from 'vitest';
import { signalHealth } from '../../src/telemetry/telemetry-health.js';

test("reads exported, failed and dropped items per signal from the SDK's self-observability series", () => {
  const exposition = [
    '# HELP otel_sdk_exporter_span_exported_total The number of spans for which the export has finished',
    '# TYPE otel_sdk_exporter_span_exported_total counter',
    'otel_sdk_exporter_span_exported_total{otel_component_name="otlp_http_span_exporter/0"} 120',
    'otel_sdk_exporter_span_exported_total{otel_component_name="otlp_http_span_exporter/0",error_type="ECONNREFUSED"} 7',
    'otel_sdk_processor_span_processed_total{otel_component_name="batching_span_processor/0"} 127',
    'otel_sdk_processor_span_processed_total{error_type="queue_full",otel_component_name="batching_span_processor/0"} 3',
    'otel_sdk_exporter_log_exported_total 40',
    'tracegram_updates_total{update_type="message"} 5',
  ].join('\n');
  expect(signalHealth(exposition)).toEqual([
    { signal: 'spans', exported: 120, failed: 7, dropped: 3 },
    { signal: 'logs', exported: 40, failed: 0, dropped: 0 },
  ]);
  // The embedded mode exports nothing: no such series, nothing to show.
  expect(signalHealth('tracegram_updates_total 1')).toEqual([]);
});
