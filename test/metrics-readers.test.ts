import { context, logs, metrics, propagation, trace } from '@opentelemetry/api';
import { afterEach, expect, test } from 'vitest';
import { parseConfig, readEnv } from '../src/config.js';
import { startTelemetry, type Telemetry } from '../src/telemetry/sdk.js';
import { type OtlpReceiver, startOtlpReceiver } from './support/bot-process.js';
import { TEST_TOKEN } from './support/harness.js';

/**
 * /metrics and OTLP show the same cumulative counts whichever reader /metrics reads: the OTLP reader
 * itself when it is cumulative (each measurement aggregated once), or a reader of its own when an
 * operator asks OTLP for deltas. Either way an OTLP push must never reset what /metrics shows.
 */
let telemetry: Telemetry | undefined;
let receiver: OtlpReceiver | undefined;

afterEach(async () => {
  await telemetry?.shutdown(1_000);
  await receiver?.close();
  for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
  for (const api of [metrics, trace, logs, context, propagation]) api.disable();
});

const handled = (count: number) => {
  for (let i = 0; i < count; i += 1) {
    telemetry?.metrics.update({
      updateType: 'message',
      handler: 'menu',
      outcome: 'success',
      reasonCode: 'SUCCESS',
      seconds: 0.01,
    });
  }
};

const successesOnMetrics = async () => {
  const exposition = (await telemetry?.exposition.render()) ?? '';
  const line = exposition
    .split('\n')
    .find(
      (l) =>
        l.startsWith('tracegram_updates_total{') &&
        l.includes('handler="menu"') &&
        l.includes('reason_code="SUCCESS"'),
    );
  return Number(line?.split(' ').at(-1));
};

/** OTLP/JSON as the receiver got it, as far as these tests read it. */
interface PushedMetrics {
  resourceMetrics: Array<{
    scopeMetrics: Array<{
      metrics: Array<{
        name: string;
        sum?: {
          aggregationTemporality: number;
          dataPoints: Array<{
            asInt?: string;
            asDouble?: number;
            attributes: Array<{ key: string; value: { stringValue?: string } }>;
          }>;
        };
      }>;
    }>;
  }>;
}

/** The last pushed data point of tracegram.updates for the same series, and its temporality. */
const successesPushed = () => {
  const points = (receiver?.bodies.metrics ?? []).flatMap((body) =>
    (body as PushedMetrics).resourceMetrics
      .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
      .filter((m) => m.name === 'tracegram.updates')
      .flatMap(({ sum }) =>
        (sum?.dataPoints ?? [])
          .filter(
            (p) =>
              p.attributes.some((a) => a.key === 'handler' && a.value.stringValue === 'menu') &&
              p.attributes.some((a) => a.key === 'reason_code' && a.value.stringValue === 'SUCCESS'),
          )
          .map((p) => ({ value: Number(p.asInt ?? p.asDouble), temporality: sum?.aggregationTemporality })),
      ),
  );
  return points.at(-1);
};

test.each([
  ['cumulative, the default: /metrics reads the OTLP reader', undefined, 2],
  ['delta: /metrics keeps a reader of its own', 'delta', 1],
])('an OTLP push leaves /metrics counting on (%s)', async (_, preference, temporality) => {
  receiver = await startOtlpReceiver();
  // As on the real process: config.ts and the SDK's exporters read the same variables.
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    // No asynchronous resource attributes: the first push comes at once, before detectors could settle.
    OTEL_NODE_RESOURCE_DETECTORS: 'none',
    ...(preference ? { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: preference } : {}),
  });
  telemetry = startTelemetry({
    config: parseConfig({ ...readEnv(), BOT_TOKEN: TEST_TOKEN }).telemetry,
    serviceVersion: '0.0.0-test',
  });

  handled(3);
  expect(await successesOnMetrics()).toBe(3);
  // A scrape changes nothing either.
  expect(await successesOnMetrics()).toBe(3);
  await telemetry.flush();
  expect(successesPushed()).toEqual({ value: 3, temporality });

  handled(2);
  expect(await successesOnMetrics()).toBe(5);
  await telemetry.flush();
  // OTLP's own temporality is the operator's choice: 5 so far, or 2 since the last push.
  expect(successesPushed()).toEqual({ value: preference === 'delta' ? 2 : 5, temporality });
  expect(await successesOnMetrics()).toBe(5);
});
