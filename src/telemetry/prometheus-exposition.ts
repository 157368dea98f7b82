import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { MetricReader } from '@opentelemetry/sdk-metrics';

/** OTel unit → the suffix Prometheus's own OTLP translation appends (prometheus/otlptranslator). */
const UNIT_SUFFIX: Record<string, string> = { s: 'seconds', ms: 'milliseconds', By: 'bytes' };

/**
 * Renders the meter's state as Prometheus text with the names Prometheus's OTLP receiver would give the
 * same metrics. @opentelemetry/exporter-prometheus appends `_total` but not the unit (upstream
 * opentelemetry-js#3466), so `tracegram.update.duration` (unit s) would be `tracegram_update_duration`
 * here and `tracegram_update_duration_seconds` via OTLP; this adds the unit so dashboards and alerts
 * work on either path.
 */
export class PrometheusExposition {
  readonly #reader: MetricReader | undefined;
  readonly #serializer = new PrometheusSerializer(undefined, false, undefined, false, true);

  /** No reader: the SDK is disabled (OTEL_SDK_DISABLED=true) and /metrics is an empty exposition. */
  constructor(reader: MetricReader | undefined) {
    this.#reader = reader;
  }

  async render(): Promise<string> {
    if (!this.#reader) return '';
    const { resourceMetrics } = await this.#reader.collect();
    // A scrape in the first moments after start would read the resource (target_info) before its detectors
    // settle, and the SDK logs that as an error; its own exporters wait the same way.
    await resourceMetrics.resource.waitForAsyncAttributes?.();
    return withUnitSuffixes(this.#serializer.serialize(resourceMetrics));
  }
}

export function withUnitSuffixes(exposition: string): string {
  const renames = new Map<string, string>();
  for (const [, name, unit] of exposition.matchAll(/^# UNIT (\S+) (\S+)$/gm)) {
    const suffix = UNIT_SUFFIX[unit as string];
    if (!name || !suffix || name.split('_').includes(suffix)) continue;
    // Prometheus puts the unit before a counter's `_total`: `x_seconds_total`.
    renames.set(
      name,
      name.endsWith('_total') ? `${name.slice(0, -'_total'.length)}_${suffix}_total` : `${name}_${suffix}`,
    );
  }
  if (renames.size === 0) return exposition;
  return exposition
    .split('\n')
    .map((line) => {
      const match = /^(# (?:HELP|TYPE|UNIT) )?([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
      if (!match) return line;
      const [whole, comment = '', metric = ''] = match;
      for (const [from, to] of renames) {
        if (
          metric === from ||
          (!comment && /^_(bucket|sum|count)$/.test(metric.slice(from.length)) && metric.startsWith(from))
        ) {
          return `${comment}${to}${metric.slice(from.length)}${line.slice(whole.length)}`;
        }
      }
      return line;
    })
    .join('\n');
}
