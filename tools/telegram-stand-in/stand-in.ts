import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Message, Update, UserFromGetMe } from 'grammy/types';
import { CallLog, type CallMatch, type CallsPredicate, type RecordedCall } from './calls.js';
import { profileMethods } from './commands.js';
import { type Fault, FaultPlan } from './faults.js';
import { interactionMethods } from './interactions.js';
import { messageMethods } from './messages.js';
import { MethodDispatcher } from './methods.js';
import { buildServer } from './server.js';
import { LongPoll, updateMethods } from './updates.js';
import { SimulatedUser, type UserProfile } from './user-sim.js';
import { type WebhookDelivery, WebhookDispatcher } from './webhook.js';
import { type CallbackAnswer, type StarPayment, World } from './world.js';

export interface StandInOptions {
  /** `<bot id>:<secret>`, as BotFather issues; the bot id becomes getMe's id. */
  token: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  bot?: { first_name?: string; username?: string };
  /**
   * The first `update_id` (default 1). Telegram's ids are unique per bot for good; stand-ins that share a
   * store across runs (deduplication by update_id) each start somewhere else.
   */
  firstUpdateId?: number;
  /** Pause before re-delivering an update the webhook did not accept; default 1000 ms. */
  webhookRetryDelayMs?: number;
}

const TOKEN_PATTERN = /^(\d+):[A-Za-z0-9_-]+$/;
const DEFAULT_WAIT_MS = 5_000;

/**
 * A local Telegram Bot API: the bot talks to `apiRoot` as it would to api.telegram.org, while tests
 * (or a developer, via the `/_stand-in` HTTP API) act as users and inspect what the bot did.
 */
export class BotApiStandIn {
  readonly token: string;
  readonly apiRoot: string;
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly parts: {
      app: FastifyInstance;
      world: World;
      log: CallLog;
      faults: FaultPlan;
      dispatcher: MethodDispatcher;
      poll: LongPoll;
      webhooks: WebhookDispatcher;
    },
    token: string,
    apiRoot: string,
  ) {
    this.token = token;
    this.apiRoot = apiRoot;
  }

  static async start(options: StandInOptions): Promise<BotApiStandIn> {
    const botId = TOKEN_PATTERN.exec(options.token)?.[1];
    if (botId === undefined) throw new Error('startBotApiStandIn: token must look like "123456:ABC-def_ghi"');
    const world = new World(botInfo(Number(botId), options.bot), options.firstUpdateId);
    const log = new CallLog();
    const faults = new FaultPlan();
    const poll = new LongPoll(world);
    // The webhook answer may itself be a method call; `dispatcher` exists by the time one arrives.
    const webhooks = new WebhookDispatcher(
      world,
      options.webhookRetryDelayMs ?? 1_000,
      async (method, params) => {
        const run = await dispatcher.run(method, params, { signal: new AbortController().signal });
        dispatcher.record(run.name, run.params, run.outcome);
      },
    );
    const dispatcher = new MethodDispatcher(
      {
        ...profileMethods(world),
        ...updateMethods(world, poll, webhooks),
        ...messageMethods(world),
        ...interactionMethods(world),
      },
      log,
    );
    const app = buildServer({ token: options.token, dispatcher, faults, log, world });
    await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
    const address = app.server.address() as AddressInfo;
    const parts = { app, world, log, faults, dispatcher, poll, webhooks };
    return new BotApiStandIn(parts, options.token, rootOf(address));
  }

  get botInfo(): UserFromGetMe {
    return structuredClone(this.parts.world.bot);
  }

  /** A user in a private chat with the bot (chat id = user id); the same id gives the same chat. */
  user(profile: UserProfile): SimulatedUser {
    return new SimulatedUser(this.parts.world, profile);
  }

  /** The bot's messages in the chat as stored now (edits applied, deletions gone), oldest first. */
  messages(chatId: number): Message[] {
    return this.parts.world.botMessages(chatId);
  }

  lastMessage(chatId: number): Message | undefined {
    return this.parts.world.botMessages(chatId).at(-1);
  }

  get calls(): readonly RecordedCall[] {
    return this.parts.log.all;
  }

  /** Resolves with the matching calls once the bot has made them; see CallLog.waitFor. */
  waitFor(match: CallMatch | CallsPredicate, timeoutMs = DEFAULT_WAIT_MS): Promise<RecordedCall[]> {
    return this.parts.log.waitFor(match, timeoutMs);
  }

  callbackAnswer(callbackQueryId: string): CallbackAnswer | undefined {
    return this.parts.world.callbackAnswer(callbackQueryId);
  }

  /** Fails the next `times` calls of `method`; an unknown method name throws rather than never firing. */
  failNext(method: string, fault: Fault, times = 1): void {
    const name = this.parts.dispatcher.canonicalName(method);
    if (name === undefined) throw new Error(`failNext: the stand-in does not implement "${method}"`);
    this.parts.faults.failNext(name, fault, times);
  }

  /** Backdates a message, e.g. past the 48 h after which Telegram refuses to delete it. */
  setMessageDate(chatId: number, messageId: number, unixSeconds: number): void {
    this.parts.world.setMessageDate(chatId, messageId, unixSeconds);
  }

  get webhookDeliveries(): readonly WebhookDelivery[] {
    return [...this.parts.webhooks.deliveries];
  }

  /** Every update the stand-in queued for the bot, oldest first (confirmed ones included). */
  get updates(): Update[] {
    return this.parts.world.queuedUpdates();
  }

  /**
   * Queues the same content again under a new update id: what the bot sees when an update is delivered
   * twice (Telegram redelivers what a crashed instance never confirmed; a payment's service message
   * repeats its charge id).
   */
  redeliver(update: Update): Update {
    const { update_id: _, ...payload } = update;
    return this.parts.world.queueUpdate(payload);
  }

  /** What Telegram knows of a Stars payment: who paid, how much, whether it was refunded. */
  starPayment(telegramPaymentChargeId: string): StarPayment | undefined {
    return this.parts.world.starPayment(telegramPaymentChargeId);
  }

  /** Updates queued and not yet confirmed by getUpdates' offset or a webhook 2xx. */
  pendingUpdates(): Update[] {
    return this.parts.world.pendingUpdates();
  }

  /** Answers a held getUpdates at once, stops webhook delivery, fails pending waits, closes the port. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.parts.poll.stop();
      this.parts.webhooks.stop();
      this.parts.log.close();
      await this.parts.app.close();
    })();
    return this.stopped;
  }
}

export function startBotApiStandIn(options: StandInOptions): Promise<BotApiStandIn> {
  return BotApiStandIn.start(options);
}

function botInfo(id: number, overrides: StandInOptions['bot']): UserFromGetMe {
  return {
    id,
    is_bot: true,
    first_name: overrides?.first_name ?? 'Tracegram',
    username: overrides?.username ?? 'tracegram_stand_in_bot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };
}

/** A wildcard bind is reached through loopback; IPv6 literals need brackets in a URL. */
function rootOf(address: AddressInfo): string {
  const host =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
