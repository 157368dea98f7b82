import type { Update } from 'grammy/types';
import { beforeEach, describe, expect, test } from 'vitest';
import { createHttpServer, WEBHOOK_BODY_LIMIT_BYTES, WEBHOOK_PATH } from '../src/server/http-server.js';
import { createMetricsServer } from '../src/server/metrics-server.js';
import { EVENT, METRIC } from '../src/telemetry/conventions.js';
import { createLogger } from '../src/telemetry/logger.js';
import { withUnitSuffixes } from '../src/telemetry/prometheus-exposition.js';
import { startHarness, testTelemetry } from './support/harness.js';

const SECRET = 'correct-secret_123';

describe('HTTP server', () => {
  let lines: Array<Record<string, unknown>>;
  let handled: Update[];
  let ready: boolean;
  const logger = () =>
    createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
  const server = () =>
    createHttpServer({
      logger: logger(),
      checkReady: async () => {
        if (!ready) throw new Error('store down');
      },
      webhook: { secret: SECRET, handleUpdate: async (update) => void handled.push(update) },
    });

  beforeEach(() => {
    lines = [];
    handled = [];
    ready = true;
  });

  test('/healthz says alive; /readyz follows the store', async () => {
    const app = server();
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'alive' });
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    ready = false;
    const down = await app.inject('/readyz');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: 'unavailable', reason: 'DB_ERROR' });
  });

  test('/metrics is served on its own listener, not on the public port', async () => {
    testTelemetry().telemetry.metrics.screenView('MAIN_MENU');
    const metrics = createMetricsServer({
      logger: logger(),
      renderMetrics: () => testTelemetry().telemetry.exposition.render(),
    });
    const response = await metrics.inject('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toMatch(/tracegram_screen_views_total\{screen_id="MAIN_MENU"\} \d+/);

    const onPublicPort = await server().inject('/metrics');
    expect(onPublicPort.statusCode).toBe(404);
    expect(onPublicPort.json()).toEqual({ status: 'rejected', reason: 'NOT_FOUND' });
    expect(onPublicPort.body).not.toContain('tracegram_');
  });

  const update = {
    update_id: 42,
    message: { message_id: 1, date: 0, chat: { id: 1, type: 'private' }, text: 'hi' },
  };

  test.each([
    { name: 'no secret header', headers: {}, reason: 'secret missing' },
    {
      name: 'a wrong secret',
      headers: { 'x-telegram-bot-api-secret-token': 'guess' },
      reason: 'secret wrong',
    },
    {
      name: 'a secret that differs only at the end',
      headers: { 'x-telegram-bot-api-secret-token': `${SECRET.slice(0, -1)}4` },
      reason: 'secret wrong',
    },
  ])('a webhook call with $name → 401, logged, never processed', async ({ headers, reason }) => {
    const response = await server().inject({ method: 'POST', url: WEBHOOK_PATH, headers, payload: update });
    expect(response.statusCode).toBe(401);
    expect(handled).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ event: EVENT.WEBHOOK_REJECTED, reason, status: 401 }),
    );
  });

  test.each([
    { name: 'not an update', payload: { hello: 'world' } },
    { name: 'a negative update id', payload: { update_id: -5 } },
    { name: 'an array', payload: [1, 2, 3] },
  ])('a webhook body that is $name → 400 MALFORMED_UPDATE, logged', async ({ payload }) => {
    const response = await server().inject({
      method: 'POST',
      url: WEBHOOK_PATH,
      headers: { 'x-telegram-bot-api-secret-token': SECRET },
      payload,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ status: 'rejected', reason: 'MALFORMED_UPDATE' });
    expect(handled).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ event: EVENT.MALFORMED_UPDATE }));
  });

  // Fastify's own codes name its internals: the caller gets our reason, the log line keeps fastify's as detail.
  test.each([
    {
      name: 'an oversized body',
      contentType: 'application/json',
      payload: JSON.stringify({ update_id: 1, padding: 'x'.repeat(WEBHOOK_BODY_LIMIT_BYTES) }),
      status: 413,
      reason: 'BODY_TOO_LARGE',
    },
    {
      name: 'a body that is not JSON',
      contentType: 'application/json',
      payload: '{"update_id": 1,',
      status: 400,
      reason: 'MALFORMED_UPDATE',
    },
    {
      name: 'an empty JSON body',
      contentType: 'application/json',
      payload: '',
      status: 400,
      reason: 'MALFORMED_UPDATE',
    },
    {
      name: 'a body that is not JSON at all',
      contentType: 'text/csv',
      payload: 'a,b',
      status: 415,
      reason: 'UNSUPPORTED_MEDIA_TYPE',
    },
  ])("a webhook call with $name → $status $reason, logged with fastify's detail", async (c) => {
    const response = await server().inject({
      method: 'POST',
      url: WEBHOOK_PATH,
      headers: { 'x-telegram-bot-api-secret-token': SECRET, 'content-type': c.contentType },
      payload: c.payload,
    });
    expect(response.statusCode).toBe(c.status);
    expect(response.json()).toEqual({ status: 'rejected', reason: c.reason });
    expect(response.body).not.toContain('FST_');
    expect(handled).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: EVENT.WEBHOOK_REJECTED,
        reason: c.reason,
        status: c.status,
        detail: expect.stringMatching(/^FST_ERR_/),
      }),
    );
  });

  test('an unknown path → 404 NOT_FOUND, in our words', async () => {
    const response = await server().inject({ method: 'POST', url: '/telegram/webhook/../admin' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ status: 'rejected', reason: 'NOT_FOUND' });
  });

  test('a webhook call with the right secret and a real update is handled', async () => {
    const response = await server().inject({
      method: 'POST',
      url: WEBHOOK_PATH,
      headers: { 'x-telegram-bot-api-secret-token': SECRET },
      payload: update,
    });
    expect(response.statusCode).toBe(200);
    expect(handled).toEqual([update]);
  });
});

describe('/metrics names', () => {
  test('histograms carry the unit suffix the OTLP → Prometheus translation gives them', () => {
    const raw = [
      '# HELP tracegram_update_duration Time',
      '# UNIT tracegram_update_duration s',
      '# TYPE tracegram_update_duration histogram',
      'tracegram_update_duration_count{handler="menu"} 3',
      'tracegram_update_duration_sum{handler="menu"} 0.2',
      'tracegram_update_duration_bucket{handler="menu",le="0.005"} 1',
      'tracegram_updates_total{handler="menu"} 3',
    ].join('\n');
    expect(withUnitSuffixes(raw).split('\n')).toEqual([
      '# HELP tracegram_update_duration_seconds Time',
      '# UNIT tracegram_update_duration_seconds s',
      '# TYPE tracegram_update_duration_seconds histogram',
      'tracegram_update_duration_seconds_count{handler="menu"} 3',
      'tracegram_update_duration_seconds_sum{handler="menu"} 0.2',
      'tracegram_update_duration_seconds_bucket{handler="menu",le="0.005"} 1',
      'tracegram_updates_total{handler="menu"} 3',
    ]);
  });

  test('a counter with a unit gets it before _total, as Prometheus names it', () => {
    const raw = [
      '# UNIT x_busy_total s',
      '# TYPE x_busy_total counter',
      'x_busy_total{a="x_busy_total"} 2',
    ].join('\n');
    expect(withUnitSuffixes(raw).split('\n')).toEqual([
      '# UNIT x_busy_seconds_total s',
      '# TYPE x_busy_seconds_total counter',
      'x_busy_seconds_total{a="x_busy_total"} 2',
    ]);
  });

  test('every Prometheus name in the conventions is what /metrics serves', async () => {
    const { metrics, exposition } = testTelemetry().telemetry;
    metrics.update({
      updateType: 'message',
      handler: 'menu',
      outcome: 'silent',
      reasonCode: 'NONE',
      seconds: 0.01,
    });
    metrics.botApiCall({ method: 'sendMessage', errorCode: '0', seconds: 0.01 });
    metrics.updateStarted({ updateType: 'message', ageSeconds: 0.2, queueWaitSeconds: 0.01 });
    metrics.screenView('MAIN_MENU');
    metrics.exportFailure('traces');
    metrics.ledgerOperation({
      operation: 'credit',
      result: 'credited',
      entry: { kind: 'payment', credits: 50 },
      payment: { packageId: 's50', stars: 50 },
    });
    const text = await exposition.render();
    for (const { promName } of Object.values(METRIC)) {
      expect(text).toMatch(new RegExp(`^# TYPE ${promName} `, 'm'));
    }
  });
});

describe('the metrics listener', () => {
  test('listens on loopback apart from PORT by default, and PORT does not serve /metrics', async () => {
    const h = await startHarness({ env: { METRICS_PORT: '0', METRICS_HOST: undefined } });
    try {
      expect(new URL(h.metricsUrl).hostname).toBe('127.0.0.1');
      expect(new URL(h.metricsUrl).port).not.toBe(new URL(h.httpUrl).port);
      const scrape = await fetch(`${h.metricsUrl}/metrics`);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toContain('tracegram_updates_total');
      const publicPort = await fetch(`${h.httpUrl}/metrics`);
      expect(publicPort.status).toBe(404);
      expect(await publicPort.text()).not.toContain('tracegram_');
      expect((await fetch(`${h.httpUrl}/healthz`)).status).toBe(200);
    } finally {
      await h.stop();
    }
  });
});
