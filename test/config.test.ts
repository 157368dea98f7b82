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
      publicUrl: undefined,
      webhookSecret: undefined,
      databaseUrl: undefined,
      dataDir: './data',
      adminIds: [],
      grafanaUrl: undefined,
      logLevel: 'info',
      shutdownTimeoutMs: 5000,
      telemetry: { serviceName: 'tracegram', otlpEndpoint: undefined, otlpProtocol: 'http/protobuf' },
    });
  });

  test('every variable is read and normalised', () => {
    const config = loadConfig({
      BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: 'http://127.0.0.1:8081/',
      BOT_MODE: 'webhook',
      PORT: '9000',
      PUBLIC_URL: 'https://bot.example.org/',
      WEBHOOK_SECRET: 's3cret',
      DATABASE_URL: 'postgres://u:p@db:5432/tracegram',
      DATA_DIR: '/var/lib/tracegram',
      ADMIN_IDS: ' 1, 22 ,333',
      GRAFANA_URL: 'http://grafana:3000/',
      LOG_LEVEL: 'debug',
      SHUTDOWN_TIMEOUT_MS: '8000',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'tracegram-eu',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      UNRELATED: 'ignored',
    });
    expect(config).toMatchObject({
      telegramApiRoot: 'http://127.0.0.1:8081',
      mode: 'webhook',
      port: 9000,
      publicUrl: 'https://bot.example.org',
      adminIds: [1, 22, 333],
      grafanaUrl: 'http://grafana:3000',
      shutdownTimeoutMs: 8000,
      telemetry: {
        serviceName: 'tracegram-eu',
        otlpEndpoint: 'http://collector:4318',
        otlpProtocol: 'http/json',
      },
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
    [{ BOT_TOKEN: TOKEN, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ BOT_TOKEN: TOKEN, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
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
