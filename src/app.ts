import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunnerHandle, run } from '@grammyjs/runner';
import { context, logs, metrics } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { FastifyInstance } from 'fastify';
import { type Bot, webhookCallback } from 'grammy';
import type { Update } from 'grammy/types';
import type { DestinationStream } from 'pino';
import packageJson from '../package.json' with { type: 'json' };
import { createBot, HANDLED_UPDATE_TYPES, HANDLER_NAMES } from './bot/bot.js';
import { commandMenus, publishCommands } from './bot/commands.js';
import type { BotContext, SessionData } from './bot/context.js';
import { createI18n } from './bot/i18n.js';
import { PACKAGES } from './catalogue/packages.js';
import type { Config, TelemetryConfig } from './config.js';
import { diagnose } from './debug/diagnosis.js';
import { createDiagnostics } from './debug/diagnostics.js';
import { LocalTraceSource } from './debug/local-source.js';
import { OutcomeWindow } from './debug/outcome-window.js';
import { RecentUpdates } from './debug/recent-updates.js';
import { englishReplies } from './debug/reply-text.js';
import { createLinkSigner, type LinkSigner } from './debug/signed-link.js';
import { traceLinks } from './debug/trace-links.js';
import { renderTracePage } from './debug/trace-page.js';
import { describeError } from './errors.js';
import type { Generation } from './generation/generation.js';
import { createGenerationModule } from './generation/module.js';
import { telegramNotifier } from './generation/telegram-notifier.js';
import { Lifecycle, type Stage } from './lifecycle.js';
import { createHttpServer, WEBHOOK_PATH } from './server/http-server.js';
import { createMetricsServer } from './server/metrics-server.js';
import { ENTRY_KINDS, LEDGER_RESULTS, type Store, storeToOpen } from './store/index.js';
import { EVENT, INSTRUMENTATION_SCOPE } from './telemetry/conventions.js';
import { markReceived, type UpdateSummary, WebhookAnswer } from './telemetry/grammy/index.js';
import { LogRecorder } from './telemetry/log-recorder.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { createPseudonymizer } from './telemetry/pseudonym.js';
import { resolvePseudonymKey } from './telemetry/pseudonym-key.js';
import type { Telemetry } from './telemetry/sdk.js';
import { SCREEN } from './ui/registry.js';

export interface AppOptions {
  /** Where log lines go instead of stdout (tests capture them). */
  logDestination?: DestinationStream;
  /** Called with every finished update's outcome (tests, and /debug in the next milestone). */
  onUpdateEnd?: (summary: UpdateSummary) => void;
  now?: () => number;
  /** How long a Bot API call may take beyond its long-poll timeout (tests shorten it). */
  botApiDeadlineMs?: number;
  /** How long a webhook request may wait for its update's handling; default WEBHOOK_TIMEOUT_MS. */
  webhookTimeoutMs?: number;
  /** Called when the bot can no longer take updates (e.g. Telegram rejects the token): main.ts exits non-zero. */
  onFatal?: (reason: string) => void;
  /** pg-boss's schema; tests sharing one PostgreSQL database give each app its own. */
  queueSchema?: string;
}

export interface App {
  readonly bot: Bot<BotContext>;
  readonly http: FastifyInstance;
  readonly metricsHttp: FastifyInstance;
  readonly store: Store;
  readonly logger: Logger;
  /** The traces and log lines this process keeps: /debug, the trace page and the admin API read them. */
  readonly traces: LocalTraceSource;
  /** Signs and checks trace-page links. */
  readonly linkSigner: LinkSigner;
  readonly generation: Generation;
  /** The HTTP server's base URL once started. */
  readonly httpUrl: string | undefined;
  /** The metrics listener's base URL once started (`/metrics`). */
  readonly metricsUrl: string | undefined;
  /** `signal` abandons a start that is still under way (grammY retries getMe with backoff). */
  start(signal?: AbortSignal): Promise<void>;
  /** Stops what was started, in reverse, within SHUTDOWN_TIMEOUT_MS; never throws. */
  stop(reason?: string): Promise<void>;
}

/** getUpdates' long-poll timeout, Telegram's usual; the Bot API deadline adds its margin on top. */
const LONG_POLL_SECONDS = 30;
/** How often shutdown looks whether the updates in flight have finished. */
const DRAIN_POLL_MS = 10;

/** grammY's default, well inside the time Telegram waits for a webhook answer. */
const WEBHOOK_TIMEOUT_MS = 10_000;

/** How often the ids of long-handled updates are dropped from the deduplication table. */
const PRUNE_INTERVAL_MS = 60 * 60_000;

/** What the telemetry SDK keeps of the deadline for exiting cleanly once it is shut down. */
const EXIT_MARGIN_MS = 250;

/**
 * The composition root: builds every adapter from the config and hands each what it needs; the
 * lifecycle opens and closes them (telemetry → store → bot → HTTP, the reverse on stop). Nothing below
 * this reads the environment or constructs its own dependencies, and nothing here does I/O.
 */
export function createApp(config: Config, telemetry: Telemetry, options: AppOptions = {}): App {
  const logRecorder = new LogRecorder();
  const logger = createLogger({
    level: config.logLevel,
    recorder: logRecorder,
    onDroppedLine: () => telemetry.metrics.logLineDropped(),
    ...(options.logDestination ? { destination: options.logDestination } : {}),
    ...(telemetry.exportsLogs ? { otelLogger: logs.getLogger(INSTRUMENTATION_SCOPE) } : {}),
  });
  const store = storeToOpen({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onMigration: (name) =>
      logger.info({ event: EVENT.MIGRATION_APPLIED, migration: name }, 'migration applied'),
    onConnectionLost: ({ server, type }) =>
      logger.warn(
        { event: EVENT.STORE_CONNECTION_LOST, server, detail: type },
        'PostgreSQL dropped a connection; the next query opens a new one',
      ),
    onLedgerOperation: (sample) => telemetry.metrics.ledgerOperation(sample),
  });

  telemetry.metrics.declareSeries({
    updateTypes: HANDLED_UPDATE_TYPES,
    handlers: HANDLER_NAMES,
    screens: Object.values(SCREEN),
  });
  telemetry.metrics.declareMoneySeries({
    results: LEDGER_RESULTS,
    entryKinds: ENTRY_KINDS,
    packages: PACKAGES.map((pkg) => pkg.id),
  });
  // The highest update id whose handling ended: what shutdown confirms to Telegram.
  let lastHandledUpdateId: number | undefined;
  // Keyed once the 'pseudonym key' stage has read (or created) the key, before the bot takes any update.
  let pseudonymizer: ((userId: number) => string) | undefined;
  const pseudonymize = (userId: number): string => {
    if (!pseudonymizer) throw new Error('pseudonym key not loaded yet');
    return pseudonymizer(userId);
  };
  const recentUpdates = new RecentUpdates();
  const i18n = createI18n();
  const outcomeWindow = new OutcomeWindow();
  const traces = new LocalTraceSource(telemetry.recorder, logRecorder);
  // Unset: a key for this process alone, which is enough: the page shows only this process's traces.
  const linkSigner = createLinkSigner(config.debugLinkKey ?? randomBytes(32).toString('hex'));
  const replyText = englishReplies();
  let httpUrl: string | undefined;
  const diagnostics = createDiagnostics({
    version: packageJson.version,
    role: telemetry.metrics.instanceRole,
    startedAt: Date.now(),
    exportTarget: describeExport(config.telemetry),
    renderMetrics: () => telemetry.exposition.render(),
    window: outcomeWindow,
    recent: recentUpdates,
    traces,
    signer: linkSigner,
    pageBaseUrl: () => config.publicUrl ?? httpUrl?.replace('0.0.0.0', '127.0.0.1'),
    grafanaUrl: config.grafanaUrl,
    pseudonymize,
    diagnoseOptions: { replyText },
  });
  const bot = createBot({
    token: config.botToken,
    i18n,
    apiRoot: config.telegramApiRoot,
    sessions: store.sessions<SessionData>(),
    processedUpdates: store.processedUpdates,
    // The generation module needs the bot's API (to deliver results), so orders reach it through this.
    generation: {
      create: (order) => generation.generation.create(order),
      history: (userId, page, pageSize) => generation.generation.history(userId, page, pageSize),
      jobOf: (userId, jobId) => generation.generation.jobOf(userId, jobId),
    },
    telemetry: {
      logger,
      metrics: telemetry.metrics,
      pseudonymize,
      apiRoot: config.telegramApiRoot,
      ...(options.botApiDeadlineMs ? { apiDeadlineMs: options.botApiDeadlineMs } : {}),
      hooks: {
        onUpdateEnd: (summary) => {
          lastHandledUpdateId = Math.max(lastHandledUpdateId ?? summary.updateId, summary.updateId);
          recentUpdates.add(summary);
          outcomeWindow.record(summary.outcome === 'error' || summary.outcome === 'silent');
          options.onUpdateEnd?.(summary);
        },
      },
    },
    money: {
      db: store.db,
      ledger: store.ledger,
      users: store.users,
      promoCodes: store.promoCodes,
      referralBonus: config.referralBonus,
    },
    adminIds: new Set(config.adminIds),
    diagnostics,
    buttonMaxAgeHours: config.buttonMaxAgeHours,
    ...(options.now ? { now: options.now } : {}),
  });
  // The telemetry plugin records every error that escapes the bot's error boundary in the update's own trace;
  // only a fault in the plugin itself could reach grammY's handler.
  bot.catch((error) =>
    logger.error(
      {
        event: EVENT.TELEMETRY_ERROR,
        update_id: error.ctx.update.update_id,
        detail: describeError(error.error),
      },
      'update failed outside its telemetry',
    ),
  );

  const webhookMode = config.mode === 'webhook';
  const metricsHttp = createMetricsServer({
    logger,
    renderMetrics: () => telemetry.exposition.render(),
    ...(config.adminApiToken ? { adminApi: { token: config.adminApiToken, traces, pseudonymize } } : {}),
  });
  // Telegram waits for the webhook's answer and delivers the update again when it comes too late, while the
  // chat's next updates queue behind it. Past the bound the request is answered 200 and the update goes on
  // being handled (grammY's onTimeout as a function: 'return' after logging). See docs/architecture.md.
  const webhookTimeoutMs = options.webhookTimeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const answerWebhook = webhookMode
    ? webhookCallback(bot, 'callback', {
        timeoutMilliseconds: webhookTimeoutMs,
        onTimeout: (update: Update) =>
          logger.warn(
            { event: EVENT.WEBHOOK_TIMEOUT, update_id: update.update_id, timeout_ms: webhookTimeoutMs },
            'webhook answered before the update was handled',
          ),
      })
    : () => Promise.resolve();
  const http = createHttpServer({
    logger,
    // A readiness probe every few seconds would otherwise be a stream of one-span traces in Tempo.
    checkReady: () => context.with(suppressTracing(context.active()), () => store.ping()),
    tracePage: {
      signer: linkSigner,
      render: (cid) => {
        const trace = traces.trace(cid);
        if (!trace) return undefined;
        return renderTracePage(trace, {
          diagnosis: diagnose(trace, { replyText }),
          links: traceLinks(cid, { grafanaUrl: config.grafanaUrl }),
        });
      },
    },
    ...(webhookMode
      ? {
          webhook: {
            secret: config.webhookSecret ?? '',
            // Rejects only when the update never reached the middleware: the route answers 500 and Telegram
            // delivers it again.
            // Resolves with the Bot API call the update answered in the webhook's answer, if any.
            handleUpdate: async (update) => {
              markReceived(update);
              const answer = new WebhookAnswer();
              let call: string | undefined;
              try {
                await answerWebhook(update, answer.respond);
              } finally {
                call = answer.close();
              }
              return call;
            },
          },
        }
      : {}),
  });

  let runner: RunnerHandle | undefined;
  let pruning: NodeJS.Timeout | undefined;
  let commands: { stop(): void } | undefined;
  // Resolves true when polling ended because we stopped it, false when it died (reported here, once).
  let polling: Promise<boolean> | undefined;
  let metricsUrl: string | undefined;
  // Job messages are sent outside any update, so they translate with the locale stored on the job.
  const generation = createGenerationModule({
    config,
    store,
    http,
    logger,
    meter: metrics.getMeter(INSTRUMENTATION_SCOPE),
    notifier: telegramNotifier(bot.api, (locale, key, variables) => i18n.t(locale, key, variables)),
    pseudonymize,
    httpUrl: () => httpUrl,
    ...(options.queueSchema ? { queueSchema: options.queueSchema } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const stages: Stage[] = [
    {
      // Started in main.ts before any app module loaded; stopped last, so it ships every other stage's lines.
      name: 'telemetry',
      stop: [
        [
          'flush telemetry',
          async (deadline) => {
            logger.info({ event: EVENT.APP_STOPPED }, 'stopped');
            await telemetry.shutdown(deadline - Date.now() - EXIT_MARGIN_MS);
          },
        ],
      ],
    },
    {
      // Up before the store and Telegram, so a scrape sees a bot that is still starting (or stuck doing so).
      name: 'metrics',
      async start() {
        metricsUrl = await metricsHttp.listen({ port: config.metrics.port, host: config.metrics.host });
      },
      stop: [['close the metrics listener', () => metricsHttp.close()]],
    },
    {
      name: 'pseudonym key',
      async start() {
        const resolved = await resolvePseudonymKey({
          pseudonymKey: config.pseudonymKey,
          dataDir: config.dataDir,
        });
        pseudonymizer = createPseudonymizer(resolved.key);
        if (resolved.source === 'created') {
          logger.info(
            { event: EVENT.PSEUDONYM_KEY_CREATED, path: resolved.path },
            'pseudonym key created; keep it with the data (or set PSEUDONYM_KEY) so pseudonyms stay the same',
          );
        }
      },
      stop: [],
    },
    {
      name: 'store',
      async start() {
        await store.open();
        // Hourly, outside any update: untraced, like the readiness probe.
        pruning = setInterval(
          () =>
            void context
              .with(suppressTracing(context.active()), () => store.processedUpdates.prune())
              .catch((error: unknown) =>
                logger.warn(
                  { event: EVENT.STORE_ERROR, detail: describeError(error) },
                  'pruning update ids failed',
                ),
              ),
          PRUNE_INTERVAL_MS,
        ).unref();
      },
      stop: [
        [
          'close the store',
          async () => {
            clearInterval(pruning);
            await store.close();
          },
        ],
      ],
    },
    {
      // Open before the bot takes updates (Generate enqueues); stopped after it, once its last updates ended.
      name: 'job queue',
      start: () => generation.open(),
      stop: [['stop the job queue', (deadline) => generation.close(Math.max(0, deadline - Date.now()))]],
    },
    {
      name: 'bot',
      async start(signal) {
        await bot.init(signal as Parameters<typeof bot.init>[0]);
        signal.throwIfAborted();
        commands = publishCommands(bot.api, commandMenus(i18n), logger);
        if (webhookMode) return;
        // Polling and a webhook exclude each other: a webhook left by an earlier deployment would make
        // every getUpdates a 409.
        await bot.api.deleteWebhook();
        // Updates of different chats run concurrently (one user's hung call delays no one else); one chat's
        // stay in order through `sequentialize` in bot.ts. Fetch errors are logged by the API tracing.
        runner = run(bot, { runner: { silent: true, fetch: { timeout: LONG_POLL_SECONDS } } });
        polling = (runner.task() ?? Promise.resolve()).then(
          () => true,
          (error: unknown) => {
            logger.fatal(
              { event: EVENT.POLLING_STOPPED, detail: describeError(error) },
              'polling stopped: no more updates will arrive',
            );
            options.onFatal?.('polling stopped');
            return false;
          },
        );
      },
      stop: [
        ['stop publishing commands', async () => commands?.stop()],
        [
          'stop polling',
          async () => {
            if (runner?.isRunning()) await runner.stop();
            // The runner's stop ends fetching; the updates it already handed out finish here.
            while ((runner?.size() ?? 0) > 0) await sleep(DRAIN_POLL_MS);
          },
        ],
        [
          'confirm handled updates',
          async () => {
            // In-flight updates finish before anything they need (store, telemetry) closes.
            const pollingEndedWell = await polling;
            if (!pollingEndedWell || lastHandledUpdateId === undefined) return;
            // Telegram learns that updates were handled only from the next getUpdates' offset, which a
            // stopped runner never sends: without this it would deliver them again to the next instance.
            // Not after a 409: the confirming call would cut off the instance that took over.
            await bot.api.getUpdates({ offset: lastHandledUpdateId + 1, limit: 1, timeout: 0 });
          },
        ],
      ],
    },
    {
      // The bot is ready before the port opens, so no webhook call can arrive at a bot that cannot take it.
      name: 'HTTP',
      async start() {
        httpUrl = await http.listen({ port: config.port, host: '0.0.0.0' });
        if (webhookMode) {
          await bot.api.setWebhook(`${config.publicUrl}${WEBHOOK_PATH}`, {
            secret_token: config.webhookSecret ?? '',
          });
        }
      },
      stop: [['close the HTTP server', () => http.close()]],
    },
    {
      // Workers submit with a callback URL on this server, so they start once it listens, and stop (their
      // running jobs finishing their step) before it closes.
      name: 'generation workers',
      start: () => generation.startWorkers(),
      stop: [['stop generation workers', () => generation.stopWorkers()]],
    },
  ];
  const lifecycle = new Lifecycle(stages, logger);

  return {
    bot,
    http,
    metricsHttp,
    store,
    logger,
    traces,
    linkSigner,
    generation: generation.generation,
    get httpUrl() {
      return httpUrl;
    },
    get metricsUrl() {
      return metricsUrl;
    },
    async start(signal) {
      logger.info(
        { event: EVENT.APP_STARTING, mode: config.mode, store: config.databaseUrl ? 'postgres' : 'pglite' },
        'starting',
      );
      await lifecycle.start(signal);
      logger.info({ event: EVENT.APP_READY, mode: config.mode, http: httpUrl, metrics: metricsUrl }, 'ready');
    },
    async stop(reason = 'stop requested') {
      logger.info({ event: EVENT.APP_STOPPING, reason }, 'stopping');
      await lifecycle.stop(Date.now() + config.shutdownTimeoutMs);
    },
  };
}

/** Where each signal goes, for /debug: `embedded` when nothing leaves the process. */
function describeExport(telemetry: TelemetryConfig): string {
  if (telemetry.sdkDisabled) return 'disabled (OTEL_SDK_DISABLED): nothing recorded or exported';
  const signals = (['traces', 'logs', 'metrics'] as const)
    .filter((signal) => telemetry[signal].exporters.length > 0)
    .map((signal) => `${signal} → ${telemetry[signal].exporters.join('+')} (${telemetry[signal].protocol})`);
  return signals.length > 0
    ? signals.join(', ')
    : 'embedded: nothing exported, traces and logs kept in process';
}
