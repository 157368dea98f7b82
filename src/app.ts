import { logs } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import type { Bot } from 'grammy';
import type { DestinationStream } from 'pino';
import { createBot } from './bot/bot.js';
import type { BotContext, SessionData } from './bot/context.js';
import type { Config } from './config.js';
import { createHttpServer, WEBHOOK_PATH } from './server/http-server.js';
import { openStore, type Store } from './store/index.js';
import { EVENT, INSTRUMENTATION_SCOPE } from './telemetry/conventions.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { createPseudonymizer } from './telemetry/pseudonym.js';
import type { Telemetry } from './telemetry/sdk.js';
import type { UpdateSummary } from './telemetry/update-telemetry.js';

export interface AppOptions {
  /** Where log lines go instead of stdout (tests capture them). */
  logDestination?: DestinationStream;
  /** Called with every finished update's outcome (tests, and /debug in the next milestone). */
  onUpdateEnd?: (summary: UpdateSummary) => void;
  now?: () => number;
  /** Called when the bot can no longer take updates (e.g. Telegram rejects the token): main.ts exits non-zero. */
  onFatal?: (reason: string) => void;
}

export interface App {
  readonly bot: Bot<BotContext>;
  readonly http: FastifyInstance;
  readonly store: Store;
  readonly logger: Logger;
  /** The HTTP server's base URL once started. */
  httpUrl: string | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
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
  const logger = createLogger({
    level: config.logLevel,
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

  const instanceRole = () => 'active';
  const bot = createBot({
    token: config.botToken,
    apiRoot: config.telegramApiRoot,
    sessions: store.sessions<SessionData>(),
    logger,
    metrics: telemetry.metrics,
    pseudonymize: createPseudonymizer(config.botToken),
    instanceRole,
    ...(options.onUpdateEnd ? { onUpdateEnd: options.onUpdateEnd } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  bot.catch((error) => {
    logger.error(
      { event: EVENT.DISPATCH_FAIL, error_type: (error.error as Error)?.name },
      'update escaped the error boundary',
    );
  });

  const webhookMode = config.mode === 'webhook';
  const http = createHttpServer({
    logger,
    renderMetrics: () => telemetry.exposition.render(),
    checkReady: () => store.ping(),
    ...(webhookMode
      ? {
          webhook: {
            secret: config.webhookSecret ?? '',
            handleUpdate: (update) => bot.handleUpdate(update).catch(() => undefined),
          },
        }
      : {}),
  });

  let polling: Promise<void> | undefined;
  const app: App = {
    bot,
    http,
    store,
    logger,
    httpUrl: undefined,

    async start() {
      app.httpUrl = await http.listen({ port: config.port, host: '0.0.0.0' });
      await bot.init();
      await bot.api.setMyCommands([
        { command: 'start', description: 'Main menu' },
        { command: 'help', description: 'Help' },
      ]);
      if (webhookMode) {
        await bot.api.setWebhook(`${config.publicUrl}${WEBHOOK_PATH}`, {
          secret_token: config.webhookSecret ?? '',
        });
      } else {
        polling = bot.start({ drop_pending_updates: false });
        polling.catch((error: unknown) => {
          const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          logger.fatal(
            { event: EVENT.POLLING_STOPPED, detail },
            'polling stopped: no more updates will arrive',
          );
          options.onFatal?.('polling stopped');
        });
      }
      logger.info({ event: EVENT.APP_READY, mode: config.mode, http: app.httpUrl }, 'ready');
    },

    /** Stop taking updates, let in-flight ones finish, then flush telemetry and close the store. */
    async stop() {
      logger.info({ event: EVENT.APP_STOPPING }, 'stopping');
      if (bot.isRunning()) await bot.stop();
      await polling?.catch(() => undefined);
      await http.close();
      await store.close();
      logger.info({ event: EVENT.APP_STOPPED }, 'stopped');
      await telemetry.flush();
    },
  };
  return app;
}
