import { I18n } from '@grammyjs/i18n';
import { sequentialize } from '@grammyjs/runner';
import { Bot, type Composer, type Context, type StorageAdapter, session } from 'grammy';
import { botApiTracing } from '../telemetry/botapi-tracing.js';
import { EVENT } from '../telemetry/conventions.js';
import { NO_HANDLER, UpdateTelemetry, type UpdateTelemetryDeps } from '../telemetry/update-telemetry.js';
import { apiDeadline } from './api-deadline.js';
import { callbackGuard } from './callback-guard.js';
import { type BotContext, initialSession, type SessionData } from './context.js';
import { handleBotError } from './error-boundary.js';
import { catalogue } from './features/catalogue.js';
import { FALLBACK_HANDLER, fallback } from './features/fallback.js';
import { menu } from './features/menu.js';
import { navigation } from './features/navigation.js';
import { params } from './features/params.js';

/** One session per chat, the key both the session and its lock use. */
function sessionKey(ctx: Context): string | undefined {
  return ctx.chat?.id.toString();
}

export const LOCALES_DIR = new URL('../../locales', import.meta.url).pathname;

export interface BotDeps extends UpdateTelemetryDeps {
  token: string;
  apiRoot: string;
  sessions: StorageAdapter<SessionData>;
  /** Injected clock for message-age checks. */
  now?: () => number;
  /** How long a Bot API call may take beyond its long-poll timeout; default DEFAULT_BOTAPI_DEADLINE_MS. */
  botApiDeadlineMs?: number;
}

/** The journeys, in order. Each is one composer; only this file knows the order. */
export const FEATURES = [menu, catalogue, params, navigation] as const;

/** Every `handler` label value the bot can produce, and the update types its journeys take. */
export const HANDLER_NAMES: readonly string[] = [
  ...FEATURES.map((f) => f.name),
  FALLBACK_HANDLER,
  NO_HANDLER,
];
export const HANDLED_UPDATE_TYPES = ['message', 'callback_query'] as const;

export function createBot(
  deps: BotDeps,
  features: readonly Composer<BotContext>[] = FEATURES,
): Bot<BotContext> {
  const bot = new Bot<BotContext>(deps.token, { client: { apiRoot: deps.apiRoot } });
  // Installed first, so it wraps the raw call and tracing sees the deadline's abort as a failed call.
  bot.api.config.use(apiDeadline(deps.botApiDeadlineMs));
  bot.api.config.use(botApiTracing(deps));

  // The root span opens before anything else runs and ends after everything, errors included.
  bot.use(async (ctx, next) => {
    const telemetry = new UpdateTelemetry(ctx.update, deps);
    ctx.telemetry = telemetry;
    ctx.log = deps.logger;
    try {
      await telemetry.run(async () => {
        deps.logger.info(
          {
            event: EVENT.UPDATE_RECEIVED,
            update_id: ctx.update.update_id,
            update_type: telemetry.updateType,
          },
          'update received',
        );
        await next();
      });
    } catch (error) {
      telemetry.fail(error);
      throw error;
    } finally {
      telemetry.end();
    }
  });

  // Telegram may deliver a chat's webhooks in parallel; one chat's updates must not race on its session.
  // Outside the error boundary, so an update's apology is sent before the chat's next update starts.
  bot.use(sequentialize(sessionKey));

  const i18n = new I18n<BotContext>({
    defaultLocale: 'en',
    directory: LOCALES_DIR,
    fluentBundleOptions: { useIsolating: false },
  });

  bot.errorBoundary(
    handleBotError,
    i18n,
    session({ initial: initialSession, storage: deps.sessions, getSessionKey: sessionKey }),
    callbackGuard(deps.now),
    ...features,
    fallback,
  );
  return bot;
}
