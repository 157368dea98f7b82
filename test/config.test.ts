import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig, parseConfig, readEnv } from '../src/config.js';

const TOKEN = '123:abc_DEF-ghi';

describe('configuration', () => {
  test('a bare BOT_TOKEN is enough: embedded store and telemetry defaults', () => {
    expect(parseConfig({ BOT_TOKEN: TOKEN })).toEqual({
      botToken: TOKEN,
      telegramApiRoot: 'https://api.telegram.org',
      mode: 'polling',
      port: 8080,
      metrics: { port: 9464, host: '127.0.0.1' },
      publicUrl: undefined,
      webhookSecret: undefined,
      databaseUrl: undefined,
      dataDir: './data',
      adminIds: [],
      referralBonus: 10,
      grafanaUrl: undefined,
      logLevel: 'info',
      shutdownTimeoutMs: 5000,
      telemetry: {
        sdkDisabled: false,
        traces: { exporters: [], protocol: 'http/protobuf' },
        metrics: { exporters: [], protocol: 'http/protobuf' },
        logs: { exporters: [], protocol: 'http/protobuf' },
      },
      buttonMaxAgeHours: 48,
    });
  });

  test('every variable is read and normalised', () => {
    const config = loadConfig({
      BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: 'http://127.0.0.1:8081/',
      BOT_MODE: 'webhook',
      PORT: '9000',
      METRICS_PORT: '9100',
      METRICS_HOST: '0.0.0.0',
      PUBLIC_URL: 'https://bot.example.org/',
      WEBHOOK_SECRET: 's3cret',
      DATABASE_URL: 'postgres://u:p@db:5432/tracegram',
      DATA_DIR: '/var/lib/tracegram',
      ADMIN_IDS: ' 1, 22 ,333',
      REFERRAL_BONUS: '25',
      GRAFANA_URL: 'http://grafana:3000/',
      LOG_LEVEL: 'debug',
      SHUTDOWN_TIMEOUT_MS: '8000',
      BUTTON_MAX_AGE_HOURS: '6',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      UNRELATED: 'ignored',
    });
    expect(config).toMatchObject({
      telegramApiRoot: 'http://127.0.0.1:8081',
      mode: 'webhook',
      port: 9000,
      metrics: { port: 9100, host: '0.0.0.0' },
      publicUrl: 'https://bot.example.org',
      adminIds: [1, 22, 333],
      referralBonus: 25,
      grafanaUrl: 'http://grafana:3000',
      shutdownTimeoutMs: 8000,
      buttonMaxAgeHours: 6,
      telemetry: {
        sdkDisabled: false,
        traces: { exporters: ['otlp'], protocol: 'http/json' },
        metrics: { exporters: ['otlp'], protocol: 'http/json' },
        logs: { exporters: ['otlp'], protocol: 'http/json' },
      },
    });
  });

  describe('the OTEL_* variables that choose the export pipelines', () => {
    const telemetry = (env: Record<string, string>) => parseConfig({ BOT_TOKEN: TOKEN, ...env }).telemetry;

    test('no endpoint and no OTEL_*_EXPORTER: nothing is exported (the embedded default)', () => {
      const { traces, metrics, logs } = telemetry({});
      expect([traces.exporters, metrics.exporters, logs.exporters]).toEqual([[], [], []]);
    });

    test('an endpoint alone turns on otlp for every signal; a per-signal endpoint for that signal only', () => {
      expect(telemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).logs.exporters).toEqual(['otlp']);
      const perSignal = telemetry({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' });
      expect([perSignal.traces.exporters, perSignal.metrics.exporters, perSignal.logs.exporters]).toEqual([
        ['otlp'],
        [],
        [],
      ]);
    });

    test.each([
      ['otlp', ['otlp']],
      ['console', ['console']],
      ['none', []],
      ['otlp, Console', ['otlp', 'console']],
      ['console,none', []],
    ])('OTEL_TRACES_EXPORTER=%s → %j, even without an endpoint', (value, exporters) => {
      expect(telemetry({ OTEL_TRACES_EXPORTER: value }).traces.exporters).toEqual(exporters);
    });

    test('an explicit exporter wins over an endpoint; prometheus means /metrics, which is always on', () => {
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_LOGS_EXPORTER: 'none' };
      expect(telemetry(env).logs.exporters).toEqual([]);
      expect(telemetry({ OTEL_METRICS_EXPORTER: 'prometheus' }).metrics.exporters).toEqual([]);
    });

    test('protocol: per signal, then general, then http/protobuf (grpc included)', () => {
      const t = telemetry({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
      });
      expect([t.traces.protocol, t.metrics.protocol, t.logs.protocol]).toEqual(['grpc', 'grpc', 'http/json']);
    });

    test.each([
      ['true', true],
      ['TRUE', true],
      ['false', false],
      ['1', false],
    ])('OTEL_SDK_DISABLED=%s → disabled %s (only "true" disables, as the spec says)', (value, disabled) => {
      expect(telemetry({ OTEL_SDK_DISABLED: value }).sdkDisabled).toBe(disabled);
    });
  });

  test('blank variables count as unset', () => {
    expect(readEnv({ BOT_TOKEN: TOKEN, PORT: '  ', DATABASE_URL: '' })).toEqual({ BOT_TOKEN: TOKEN });
  });

  test.each([
    [{}, 'BOT_TOKEN is required'],
    [{ BOT_TOKEN: 'not-a-token' }, 'BOT_TOKEN does not look like a bot token'],
    [{ BOT_TOKEN: TOKEN, BOT_MODE: 'webhook' }, 'WEBHOOK_SECRET is required when BOT_MODE=webhook'],
    [{ BOT_TOKEN: TOKEN, PORT: 'eighty' }, 'PORT'],
    [{ BOT_TOKEN: TOKEN, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a postgres:// URL'],
    [{ BOT_TOKEN: TOKEN, ADMIN_IDS: '1,alice' }, 'ADMIN_IDS must be comma-separated numeric'],
    [{ BOT_TOKEN: TOKEN, REFERRAL_BONUS: '-5' }, 'REFERRAL_BONUS'],
    [{ BOT_TOKEN: TOKEN, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ BOT_TOKEN: TOKEN, OTEL_EXPORTER_OTLP_PROTOCOL: 'http' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ BOT_TOKEN: TOKEN, OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER must be a comma-separated'],
    [{ BOT_TOKEN: TOKEN, OTEL_LOGS_EXPORTER: 'prometheus' }, 'OTEL_LOGS_EXPORTER'],
    [{ BOT_TOKEN: TOKEN, WEBHOOK_SECRET: 'has spaces!' }, 'WEBHOOK_SECRET must be 1-256 characters'],
  ])('%j fails at start with one clear line naming the variable', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  test('a rejected value is never echoed (it may be a secret)', () => {
    const secret = 'sk_live_DO_NOT_PRINT';
    try {
      parseConfig({ BOT_TOKEN: secret, WEBHOOK_SECRET: `${secret} x` });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
  });
});
