import { DiagLogLevel, diag } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { describe, expect, test } from 'vitest';
import { INSTRUMENTATION_SCOPE } from '../src/telemetry/conventions.js';
import { PrometheusExposition } from '../src/telemetry/prometheus-exposition.js';

/** Its own file: it sets the process-wide diag logger, which the harness's telemetry also uses. */
describe('/metrics scraped while the resource is still being detected', () => {
  test('waits for the detectors instead of logging an error, and shows what they found', async () => {
    const errors: string[] = [];
    const quiet = () => {};
    diag.setLogger(
      {
        error: (message) => void errors.push(message),
        warn: quiet,
        info: quiet,
        debug: quiet,
        verbose: quiet,
      },
      DiagLogLevel.ERROR,
    );
    let settle!: (hostId: string) => void;
    const hostId = new Promise<string>((resolve) => {
      settle = resolve;
    });
    const reader = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'tracegram', 'host.id': hostId }),
      readers: [reader],
    });
    try {
      provider.getMeter(INSTRUMENTATION_SCOPE).createCounter('tracegram.probe').add(1);
      const rendered = new PrometheusExposition(reader).render();
      setTimeout(() => settle('host-1'), 20);
      expect(await rendered).toMatch(/^target_info\{.*host_id="host-1"/m);
      expect(errors).toEqual([]);
    } finally {
      diag.disable();
      await provider.shutdown();
    }
  });
});
