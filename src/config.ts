import { z } from 'zod';

/**
 * Configuration in two steps: `readEnv` copies the environment once into optional strings,
 * `parseConfig` applies defaults and validates. Nothing else in the app reads process.env
 * (the OTel SDK reads the standard OTEL_* variables itself).
 */
const ENV_KEYS = [
  'BOT_TOKEN',
  'TELEGRAM_API_ROOT',
  'BOT_MODE',
  'PORT',
  'PUBLIC_URL',
  'WEBHOOK_SECRET',
  'DATABASE_URL',
  'DATA_DIR',
  'ADMIN_IDS',
  'GRAFANA_URL',
  'DEBUG_LINK_KEY',
  'LOG_LEVEL',
  'SHUTDOWN_TIMEOUT_MS',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_SERVICE_NAME',
] as const;

export type RawEnv = Partial<Record<(typeof ENV_KEYS)[number], string>>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): RawEnv {
  const raw: RawEnv = {};
  for (const key of ENV_KEYS) {
    const value = env[key]?.trim();
    if (value) raw[key] = value;
  }
  return raw;
}

const url = z.url({ protocol: /^https?$/ });

const schema = z
  .object({
    BOT_TOKEN: z
      .string({ error: 'is required (the token @BotFather gave you)' })
      .regex(/^\d+:[\w-]+$/, 'does not look like a bot token (digits:letters)'),
    TELEGRAM_API_ROOT: url.default('https://api.telegram.org'),
    BOT_MODE: z.enum(['polling', 'webhook']).default('polling'),
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    PUBLIC_URL: url.optional(),
    WEBHOOK_SECRET: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -')
      .optional(),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    DATA_DIR: z.string().default('./data'),
    ADMIN_IDS: z
      .string()
      .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'must be comma-separated numeric Telegram user ids')
      .optional()
      .transform((value) => (value ? value.split(',').map((id) => Number(id.trim())) : [])),
    GRAFANA_URL: url.optional(),
    DEBUG_LINK_KEY: z
      .string()
      .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
      .optional(),
    ADMIN_API_TOKEN: z
      .string()
      .min(24, 'must be at least 24 characters (e.g. openssl rand -hex 24)')
      .optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // Below an orchestrator's kill timeout (compose stop_grace_period, Kubernetes' 30 s grace period).
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(60_000).default(5000),
    OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
    // The spec's default; gRPC is not bundled (the collector takes both HTTP encodings).
    OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
    OTEL_SERVICE_NAME: z.string().default('tracegram'),
  })
  .superRefine((env, ctx) => {
    if (env.BOT_MODE !== 'webhook') return;
    if (!env.WEBHOOK_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_SECRET'],
        message: 'is required when BOT_MODE=webhook',
      });
    }
    if (!env.PUBLIC_URL) {
      ctx.addIssue({ code: 'custom', path: ['PUBLIC_URL'], message: 'is required when BOT_MODE=webhook' });
    }
  });

export interface Config {
  botToken: string;
  telegramApiRoot: string;
  mode: 'polling' | 'webhook';
  port: number;
  publicUrl: string | undefined;
  webhookSecret: string | undefined;
  databaseUrl: string | undefined;
  dataDir: string;
  adminIds: readonly number[];
  grafanaUrl: string | undefined;
  /** Signs trace-page links; unset: a random key per process (links then last until a restart). */
  debugLinkKey: string | undefined;
  logLevel: string;
  /** The whole shutdown (stop taking updates, finish, close, flush telemetry) ends by this; then the process exits. */
  shutdownTimeoutMs: number;
  telemetry: {
    serviceName: string;
    /** Unset: the embedded mode (in-process span recorder, logs on stdout only). */
    otlpEndpoint: string | undefined;
    otlpProtocol: 'http/protobuf' | 'http/json';
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates the raw environment; throws one ConfigError whose message names every bad variable. */
export function parseConfig(raw: RawEnv): Config {
  const result = schema.safeParse(raw);
  if (!result.success) {
    // zod messages never echo the rejected value, which may be a secret.
    const problems = result.error.issues.map(
      (issue) => `${String(issue.path[0] ?? 'environment')} ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const env = result.data;
  return {
    botToken: env.BOT_TOKEN,
    telegramApiRoot: env.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
    mode: env.BOT_MODE,
    port: env.PORT,
    publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''),
    webhookSecret: env.WEBHOOK_SECRET,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    adminIds: env.ADMIN_IDS,
    grafanaUrl: env.GRAFANA_URL?.replace(/\/+$/, ''),
    debugLinkKey: env.DEBUG_LINK_KEY,
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    telemetry: {
      serviceName: env.OTEL_SERVICE_NAME,
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      otlpProtocol: env.OTEL_EXPORTER_OTLP_PROTOCOL,
    },
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseConfig(readEnv(env));
}
