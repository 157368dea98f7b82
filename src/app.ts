import { randomBytes } from 'node:crypto';
import { context, logs } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { FastifyInstance } from 'fastify';
import { type Bot, BotError } from 'grammy';
import type { DestinationStream } from 'pino';
import { createBot, HANDLED_UPDATE_TYPES, HANDLER_NAMES } from './bot/bot.js';
import type { BotContext, SessionData } from './bot/context.js';
import type { Config } from './config.js';
import { diagnose } from './debug/diagnosis.js';
import { LocalTraceSource } from './debug/local-source.js';
import { englishReplies } from './debug/reply-text.js';
import { createLinkSigner, type LinkSigner } from './debug/signed-link.js';
import { traceLinks } from './debug/trace-links.js';
import { renderTracePage } from './debug/trace-page.js';
import { describeError } from './errors.js';
import { createHttpServer, WEBHOOK_PATH } from './server/http-server.js';
import { openStore, type Store } from './store/index.js';
import { EVENT, INSTRUMENTATION_SCOPE } from './telemetry/conventions.js';
import { LogRecorder } from './telemetry/log-recorder.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { createPseudonymizer } from './telemetry/pseudonym.js';
import type { Telemetry } from './telemetry/sdk.js';
import type { UpdateSummary } from './telemetry/update-telemetry.js';
import { SCREEN } from './ui/registry.js';

export interface AppOptions {
  /** Where log lines go instead of stdout (tests capture them). */
  logDestination?: DestinationStream;
  /** Called with every finished update's outcome (tests, and /debug in the next milestone). */
  onUpdateEnd?: (summary: UpdateSummary) => void;
  now?: () => number;
  /** How long a Bot API call may take beyond its long-poll timeout (tests shorten it). */
  botApiDeadlineMs?: number;
  /** Called when the bot can no longer take updates (e.g. Telegram rejects the token): main.ts exits non-zero. */
  onFatal?: (reason: string) => void;
}

export interface App {
  readonly bot: Bot<BotContext>;
  readonly http: FastifyInstance;
  readonly store: Store;
  readonly logger: Logger;
  /** The traces and log lines this process keeps: /debug, the trace page and the admin API read them. */
  readonly traces: LocalTraceSource;
  /** Signs and checks trace-page links. */
  readonly linkSigner: LinkSigner;
  /** The HTTP server's base URL once started. */
  httpUrl: string | undefined;
  /** `signal` abandons a start that is still waiting for Telegram (grammY retries getMe with backoff). */
  start(signal?: AbortSignal): Promise<void>;
  /** Idempotent enough to call after a failed start; `reason` goes on the APP_STOPPING line. */
  stop(reason?: string): Promise<void>;
}

/**
 * The composition root: builds every adapter from the config and hands each what it needs.
 * Nothing below this reads the environment or constructs its own dependencies.
 */
export async function createApp(
  config: Config,
  telemetry: Telemetry,
  options: AppOptions = {},
): Promise<App> {
  const logRecorder = new LogRecorder();
  const logger = createLogger({
    level: config.logLevel,
    recorder: logRecorder,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
    ...(telemetry.exportsLogs ? { otelLogger: logs.getLogger(INSTRUMENTATION_SCOPE) } : {}),
  });
  logger.info(
    { event: EVENT.APP_STARTING, mode: config.mode, store: config.databaseUrl ? 'postgres' : 'pglite' },
    'starting',
  );

  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onMigration: (name) =>
      logger.info({ event: EVENT.MIGRATION_APPLIED, migration: name }, 'migration applied'),
  });

  telemetry.metrics.declareSeries({
    updateTypes: HANDLED_UPDATE_TYPES,
    handlers: HANDLER_NAMES,
    screens: Object.values(SCREEN),
  });
  // The highest update id whose handling ended: what shutdown confirms to Telegram.
  let lastHandledUpdateId: number | undefined;
  const instanceRole = () => 'active';
  const bot = createBot({
    token: config.botToken,
    apiRoot: config.telegramApiRoot,
    sessions: store.sessions<SessionData>(),
    logger,
    metrics: telemetry.metrics,
    pseudonymize: createPseudonymizer(config.botToken),
    instanceRole,
    onUpdateEnd: (summary) => {
      lastHandledUpdateId = Math.max(lastHandledUpdateId ?? summary.updateId, summary.updateId);
      options.onUpdateEnd?.(summary);
    },
    ...(options.now ? { now: options.now } : {}),
    ...(options.botApiDeadlineMs ? { botApiDeadlineMs: options.botApiDeadlineMs } : {}),
  });
  // grammY reports here only what escaped the error boundary (its handler itself failed): rare, never silent.
  const reportEscaped = (error: unknown, updateId: number | undefined) =>
    logger.error(
      { event: EVENT.DISPATCH_FAIL, update_id: updateId, detail: describeError(error) },
      'update escaped the error boundary',
    );
  bot.catch((error) => reportEscaped(error.error, error.ctx.update.update_id));

  const traces = new LocalTraceSource(telemetry.recorder, logRecorder);
  // Unset: a key for this process alone, which is enough: the page shows only this process's traces.
  const linkSigner = createLinkSigner(config.debugLinkKey ?? randomBytes(32).toString('hex'));
  const replyText = englishReplies();

  const webhookMode = config.mode === 'webhook';
  const http = createHttpServer({
    logger,
    renderMetrics: () => telemetry.exposition.render(),
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
            handleUpdate: async (update) => {
              try {
                await bot.handleUpdate(update);
              } catch (error) {
                // A BotError was handled and traced (its outcome is recorded); anything else never reached
                // the middleware, and rethrowing answers 500 so Telegram delivers the update again.
                if (!(error instanceof BotError)) throw error;
                reportEscaped(error.error, update.update_id);
              }
            },
          },
        }
      : {}),
  });

  /** Best effort: one failing step (Telegram unreachable, say) must not skip closing the rest. */
  const step = async (name: string, fn: () => Promise<unknown>): Promise<boolean> => {
    try {
      await fn();
      return true;
    } catch (error) {
      logger.warn(
        { event: EVENT.SHUTDOWN_STEP_FAILED, step: name, detail: describeError(error) },
        'shutdown step failed',
      );
      return false;
    }
  };

  let polling: Promise<boolean> | undefined;
  const app: App = {
    bot,
    http,
    store,
    logger,
    traces,
    linkSigner,
    httpUrl: undefined,

    async start(signal) {
      // The bot is ready before the port opens, so no webhook call can arrive at a bot that cannot take it.
      await bot.init(signal as Parameters<typeof bot.init>[0]);
      signal?.throwIfAborted();
      app.httpUrl = await http.listen({ port: config.port, host: '0.0.0.0' });
      await bot.api.setMyCommands([
        { command: 'start', description: 'Main menu' },
        { command: 'help', description: 'Help' },
      ]);
      if (webhookMode) {
        await bot.api.setWebhook(`${config.publicUrl}${WEBHOOK_PATH}`, {
          secret_token: config.webhookSecret ?? '',
        });
      } else {
        // Resolves true when polling ended because we stopped it, false when it died (reported here, once).
        polling = bot.start({ drop_pending_updates: false }).then(
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
      }
      logger.info({ event: EVENT.APP_READY, mode: config.mode, http: app.httpUrl }, 'ready');
    },

    /** Stop taking updates, let in-flight ones finish, then close the store and flush telemetry. */
    async stop(reason = 'stop requested') {
      logger.info({ event: EVENT.APP_STOPPING, reason }, 'stopping');
      await step('stop polling', async () => {
        if (bot.isRunning()) await bot.stop();
      });
      // In-flight updates finish before anything they need (store, telemetry) closes.
      const pollingEndedWell = await polling;
      if (pollingEndedWell && lastHandledUpdateId !== undefined) {
        // grammY confirms only the update in flight when stopped; the rest of its batch was handled too,
        // and Telegram would deliver those again to the next instance. Not after a 409: the confirming
        // call would cut off the instance that took over.
        const offset = lastHandledUpdateId + 1;
        await step('confirm handled updates', () => bot.api.getUpdates({ offset, limit: 1, timeout: 0 }));
      }
      await step('close the HTTP server', () => http.close());
      await step('close the store', () => store.close());
      logger.info({ event: EVENT.APP_STOPPED }, 'stopped');
      await telemetry.flush();
    },
  };
  return app;
}
