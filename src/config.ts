import { z } from 'zod';

/**
 * Configuration in two steps: `readEnv` copies the environment once into optional strings,
 * `parseConfig` applies defaults and validates. Nothing else in the app reads process.env; the
 * OpenTelemetry packages read the standard OTEL_* variables themselves (this reads only those that decide
 * which pipelines exist).
 */
const ENV_KEYS = [
  'BOT_TOKEN',
  'TELEGRAM_API_ROOT',
  'BOT_MODE',
  'PORT',
  'METRICS_PORT',
  'METRICS_HOST',
  'PUBLIC_URL',
  'WEBHOOK_SECRET',
  'DATABASE_URL',
  'DATA_DIR',
  'ADMIN_IDS',
  'REFERRAL_BONUS',
  'GRAFANA_URL',
  'DEBUG_LINK_KEY',
  'PSEUDONYM_KEY',
  'LOG_LEVEL',
  'SHUTDOWN_TIMEOUT_MS',
  // The standard OTEL_* variables that decide which telemetry pipelines exist. The rest (endpoints'
  // paths, headers, timeouts, sampler, resource, batch sizes) are read by the OpenTelemetry packages.
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_METRICS_EXPORTER',
  'OTEL_LOGS_EXPORTER',
  'BUTTON_MAX_AGE_HOURS',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
  'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL',
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
const port = z.coerce.number().int().min(0).max(65535);
const dataDir = z.string().default('./data');
const pseudonymKey = z
  .string()
  .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
  .optional();

export type Signal = 'traces' | 'metrics' | 'logs';
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';
/** What an OTEL_*_EXPORTER entry can name; `none` and, for metrics, `prometheus` (always on /metrics) are dropped. */
export type ExporterName = 'otlp' | 'console';

const protocol = z.enum(['grpc', 'http/protobuf', 'http/json']).optional();

/** OTEL_{TRACES,METRICS,LOGS}_EXPORTER: a comma-separated list (spec), validated so a typo stops the bot. */
function exporterList(signal: Signal) {
  const allowed =
    signal === 'metrics' ? ['otlp', 'console', 'prometheus', 'none'] : ['otlp', 'console', 'none'];
  return z
    .string()
    .transform((value) => value.split(',').map((name) => name.trim().toLowerCase()))
    .refine((names) => names.every((name) => allowed.includes(name)), {
      message: `must be a comma-separated list of ${allowed.join(', ')}`,
    })
    .optional();
}

const schema = z
  .object({
    BOT_TOKEN: z
      .string({ error: 'is required (the token @BotFather gave you)' })
      .regex(/^\d+:[\w-]+$/, 'does not look like a bot token (digits:letters)'),
    TELEGRAM_API_ROOT: url.default('https://api.telegram.org'),
    BOT_MODE: z.enum(['polling', 'webhook']).default('polling'),
    PORT: port.default(8080),
    // Its own listener, on loopback by default: series names and volumes are not for the public webhook port.
    METRICS_PORT: port.default(9464),
    METRICS_HOST: z
      .string()
      .regex(/^[\w.:-]+$/, 'must be a host name or an IP address to listen on (e.g. 127.0.0.1, 0.0.0.0)')
      .default('127.0.0.1'),
    PUBLIC_URL: url.optional(),
    WEBHOOK_SECRET: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -')
      .optional(),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    DATA_DIR: dataDir,
    ADMIN_IDS: z
      .string()
      .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'must be comma-separated numeric Telegram user ids')
      .optional()
      .transform((value) => (value ? value.split(',').map((id) => Number(id.trim())) : [])),
    REFERRAL_BONUS: z.coerce.number().int().min(0).max(100_000).default(10),
    GRAFANA_URL: url.optional(),
    DEBUG_LINK_KEY: z
      .string()
      .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
      .optional(),
    PSEUDONYM_KEY: pseudonymKey,
    ADMIN_API_TOKEN: z
      .string()
      .min(24, 'must be at least 24 characters (e.g. openssl rand -hex 24)')
      .optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // Below an orchestrator's kill timeout (compose stop_grace_period, Kubernetes' 30 s grace period).
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(60_000).default(5000),
    // The spec: only a case-insensitive "true" disables the SDK.
    OTEL_SDK_DISABLED: z
      .string()
      .optional()
      .transform((value) => value?.toLowerCase() === 'true'),
    OTEL_TRACES_EXPORTER: exporterList('traces'),
    OTEL_METRICS_EXPORTER: exporterList('metrics'),
    OTEL_LOGS_EXPORTER: exporterList('logs'),
    BUTTON_MAX_AGE_HOURS: z.coerce
      .number()
      .positive()
      .max(24 * 365)
      .default(48),
    OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.optional(),
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: url.optional(),
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: url.optional(),
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: protocol,
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
  /** `/metrics` listens here, apart from the public port. */
  metrics: { port: number; host: string };
  publicUrl: string | undefined;
  webhookSecret: string | undefined;
  databaseUrl: string | undefined;
  dataDir: string;
  adminIds: readonly number[];
  /** Credits for whoever invited a new user (`/start ref_<code>`); 0: no bonus. */
  referralBonus: number;
  grafanaUrl: string | undefined;
  /** Signs trace-page links; unset: a random key per process (links then last until a restart). */
  debugLinkKey: string | undefined;
  /** Keys user pseudonyms; unset: `<dataDir>/pseudonym.key`, created on first start (pseudonym-key.ts). */
  pseudonymKey: string | undefined;
  logLevel: string;
  /** The whole shutdown (stop taking updates, finish, close, flush telemetry) ends by this; then the process exits. */
  shutdownTimeoutMs: number;
  /** Product policy: a press on a message older than this is EXPIRED_MESSAGE (its prices may be stale). */
  buttonMaxAgeHours: number;
  telemetry: TelemetryConfig;
}

export interface SignalExport {
  /** Empty: nothing leaves the process for this signal (traces still reach the in-process recorder). */
  exporters: readonly ExporterName[];
  /** For `otlp`: OTEL_EXPORTER_OTLP_{SIGNAL}_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf. */
  protocol: OtlpProtocol;
}

export interface TelemetryConfig {
  /** OTEL_SDK_DISABLED=true: no tracer, meter or logger provider at all (a no-op SDK, as the spec says). */
  sdkDisabled: boolean;
  traces: SignalExport;
  metrics: SignalExport;
  logs: SignalExport;
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
    metrics: { port: env.METRICS_PORT, host: env.METRICS_HOST },
    publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''),
    webhookSecret: env.WEBHOOK_SECRET,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    adminIds: env.ADMIN_IDS,
    referralBonus: env.REFERRAL_BONUS,
    grafanaUrl: env.GRAFANA_URL?.replace(/\/+$/, ''),
    debugLinkKey: env.DEBUG_LINK_KEY,
    pseudonymKey: env.PSEUDONYM_KEY,
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    buttonMaxAgeHours: env.BUTTON_MAX_AGE_HOURS,
    telemetry: {
      sdkDisabled: env.OTEL_SDK_DISABLED,
      traces: signalExport(env.OTEL_TRACES_EXPORTER, env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, env, 'TRACES'),
      metrics: signalExport(
        env.OTEL_METRICS_EXPORTER,
        env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
        env,
        'METRICS',
      ),
      logs: signalExport(env.OTEL_LOGS_EXPORTER, env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, env, 'LOGS'),
    },
  };
}

/**
 * One signal's exporters. The spec's default is `otlp` to localhost:4318 whatever is listening; ours is
 * `otlp` only when an endpoint (general or for this signal) is set, and nothing otherwise, so the embedded
 * default needs no collector and logs no connection errors. An explicit OTEL_*_EXPORTER always wins.
 */
function signalExport(
  names: string[] | undefined,
  signalEndpoint: string | undefined,
  env: z.infer<typeof schema>,
  signal: 'TRACES' | 'METRICS' | 'LOGS',
): SignalExport {
  const chosen = names ?? (signalEndpoint || env.OTEL_EXPORTER_OTLP_ENDPOINT ? ['otlp'] : []);
  return {
    // `none` anywhere means none (as the SDK reads it); `prometheus` is /metrics, which is always served.
    exporters: chosen.includes('none')
      ? []
      : [...new Set(chosen.filter((name): name is ExporterName => name === 'otlp' || name === 'console'))],
    protocol:
      env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseConfig(readEnv(env));
}

/** What `npm run pseudonym` needs, and nothing more: it runs without BOT_TOKEN (or any other secret). */
export function loadPseudonymSettings(env: NodeJS.ProcessEnv = process.env): {
  pseudonymKey: string | undefined;
  dataDir: string;
} {
  const raw = readEnv(env);
  const result = z
    .object({ PSEUDONYM_KEY: pseudonymKey, DATA_DIR: dataDir })
    .safeParse({ PSEUDONYM_KEY: raw.PSEUDONYM_KEY, DATA_DIR: raw.DATA_DIR });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return { pseudonymKey: result.data.PSEUDONYM_KEY, dataDir: result.data.DATA_DIR };
}
