import type { I18n } from '@grammyjs/i18n';
import { sequentialize } from '@grammyjs/runner';
import { Bot, type Composer, type Context, type StorageAdapter, session } from 'grammy';
import type { Diagnostics } from '../debug/diagnostics.js';
import type { ProcessedUpdates, SessionStorage } from '../store/index.js';
import {
  NO_HANDLER,
  type TracegramTelemetryOptions,
  tracegramTelemetry,
  WEBHOOK_REPLY_METHODS,
} from '../telemetry/grammy/index.js';
import { botApiFetch } from './bot-api-fetch.js';
import { callbackGuard } from './callback-guard.js';
import {
  type BotContext,
  type GenerationFlavor,
  initialSession,
  type MoneyDeps,
  type SessionData,
} from './context.js';
import { deduplicate } from './deduplicate.js';
import { handleBotError } from './error-boundary.js';
import { catalogue } from './features/catalogue.js';
import { debug } from './features/debug.js';
import { FALLBACK_HANDLER, fallback, privateChatsOnly } from './features/fallback.js';
import { generate } from './features/generate.js';
import { history } from './features/history.js';
import { menu } from './features/menu.js';
import { navigation } from './features/navigation.js';
import { params } from './features/params.js';
import { payments } from './features/payments.js';
import { createI18n } from './i18n.js';

/** One session per chat, the key both the session and its lock use. */
function sessionKey(ctx: Context): string | undefined {
  return ctx.chat?.id.toString();
}

/** The session an update reads, as far as the claim can read it ahead: private chats only (groups get none). */
function privateSessionKey(ctx: Context): string | undefined {
  return ctx.chat?.type === 'private' ? sessionKey(ctx) : undefined;
}

function canPrime(
  sessions: StorageAdapter<SessionData> | SessionStorage<SessionData>,
): sessions is SessionStorage<SessionData> {
  return 'prime' in sessions && typeof sessions.prime === 'function';
}

/** The BUTTON_MAX_AGE_HOURS default, for bots built without a config (tests). */
export const DEFAULT_BUTTON_MAX_AGE_HOURS = 48;

export interface BotDeps {
  token: string;
  apiRoot: string;
  /** A `SessionStorage` (the store's) also takes the session row read with the update's claim. */
  sessions: StorageAdapter<SessionData> | SessionStorage<SessionData>;
  telemetry: TracegramTelemetryOptions;
  money: MoneyDeps;
  /** Where update ids are claimed; unset: no deduplication (a bot fed by hand in tests). */
  processedUpdates?: ProcessedUpdates;
  /** The loaded locales; the app shares them with the command menus. */
  i18n?: I18n<BotContext>;
  generation: GenerationFlavor['generation'];
  /** Injected clock for message-age checks. */
  now?: () => number;
  /** A press on a message older than this is EXPIRED_MESSAGE; default DEFAULT_BUTTON_MAX_AGE_HOURS. */
  buttonMaxAgeHours?: number;
  /** ADMIN_IDS: who passes the admin gate. */
  adminIds?: ReadonlySet<number>;
  /** What /debug reads; without it /debug answers as an unknown command. */
  diagnostics?: Diagnostics;
}

/** The journeys, in order. Each is one composer; only this file knows the order. */
export const FEATURES = [menu, catalogue, params, generate, history, navigation, payments, debug] as const;

/** Every `handler` label value the bot can produce, and the update types its journeys take. */
export const HANDLER_NAMES: readonly string[] = [
  ...FEATURES.map((f) => f.name),
  FALLBACK_HANDLER,
  NO_HANDLER,
];
export const HANDLED_UPDATE_TYPES = [
  'message',
  'callback_query',
  'pre_checkout_query',
  'edited_message',
  'my_chat_member',
] as const;

export function createBot(
  deps: BotDeps,
  features: readonly Composer<BotContext>[] = FEATURES,
): Bot<BotContext> {
  const bot = new Bot<BotContext>(deps.token, {
    client: {
      apiRoot: deps.apiRoot,
      fetch: botApiFetch(),
      // Webhook mode only (polling has no answer to ride on): see WEBHOOK_REPLY_METHODS.
      canUseWebhookReply: (method) => WEBHOOK_REPLY_METHODS.has(method),
    },
  });
  const telemetry = tracegramTelemetry<BotContext>({ apiRoot: deps.apiRoot, ...deps.telemetry });
  bot.api.config.use(...telemetry.transformers);
  bot.use(telemetry);
  const adminIds = deps.adminIds ?? new Set<number>();
  const diagnostics = deps.diagnostics;
  bot.use((ctx, next) => {
    ctx.money = deps.money;
    ctx.generation = deps.generation;
    ctx.adminIds = adminIds;
    if (diagnostics) ctx.diagnostics = diagnostics;
    return next();
  });

  // Telegram may deliver a chat's webhooks in parallel; one chat's updates must not race on its session.
  // Outside the error boundary, so an update's apology is sent before the chat's next update starts.
  bot.use(sequentialize(sessionKey), telemetry.queueEnds);

  bot.errorBoundary(
    handleBotError,
    deps.i18n ?? createI18n(),
    ...(deps.processedUpdates
      ? [
          deduplicate(
            deps.processedUpdates,
            canPrime(deps.sessions) ? { storage: deps.sessions, keyOf: privateSessionKey } : undefined,
          ),
        ]
      : []),
    privateChatsOnly,
    session({ initial: initialSession, storage: deps.sessions, getSessionKey: sessionKey }),
    callbackGuard({
      maxAgeHours: deps.buttonMaxAgeHours ?? DEFAULT_BUTTON_MAX_AGE_HOURS,
      ...(deps.now ? { now: deps.now } : {}),
    }),
    ...features,
    fallback,
  );
  return bot;
}
