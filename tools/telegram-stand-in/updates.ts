import type { Update } from 'grammy/types';
import { BotApiError, badRequest, DESCRIPTION, missingParameter } from './errors.js';
import { DescribedResult, type MethodTable } from './methods.js';
import type { Params } from './params.js';
import type { WebhookDispatcher } from './webhook.js';
import type { World } from './world.js';

const MAX_LIMIT = 100;
const DEFAULT_MAX_CONNECTIONS = 40;
/** https://core.telegram.org/bots/api#setwebhook secret_token: 1-256 of A-Z, a-z, 0-9, _ and -. */
const SECRET_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * The one getUpdates request Telegram lets a bot hold open. A newer request (or setWebhook) ends the held
 * one with 409, which is how two running instances of a bot find out about each other.
 */
export class LongPoll {
  private held: ((outcome: Update[] | BotApiError) => void) | undefined;
  private stopped = false;

  constructor(private readonly world: World) {}

  async getUpdates(
    offset: number,
    limit: number,
    timeoutSeconds: number,
    signal: AbortSignal,
  ): Promise<Update[]> {
    this.terminate(new BotApiError(409, DESCRIPTION.otherGetUpdates));
    if (this.world.webhook) throw new BotApiError(409, DESCRIPTION.webhookActive);
    this.world.confirmUpdates(offset);
    const ready = this.world.pendingUpdates(limit);
    if (ready.length > 0 || timeoutSeconds <= 0 || this.stopped || signal.aborted) return ready;
    return new Promise((resolve, reject) => {
      const release = (outcome: Update[] | BotApiError) => {
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        if (this.held === release) this.held = undefined;
        if (outcome instanceof BotApiError) reject(outcome);
        else resolve(outcome);
      };
      const answer = () => release(this.world.pendingUpdates(limit));
      const onAbort = () => release([]);
      const timer = setTimeout(answer, timeoutSeconds * 1000);
      const unsubscribe = this.world.onUpdate(answer);
      signal.addEventListener('abort', onAbort, { once: true });
      this.held = release;
    });
  }

  terminate(error: BotApiError): void {
    this.held?.(error);
  }

  /** Answers the held request at once (empty), so stopping never waits out a 30 s poll. */
  stop(): void {
    this.stopped = true;
    this.held?.([]);
  }
}

/** getUpdates and the webhook methods, which switch the bot between the two ways of receiving updates. */
export function updateMethods(world: World, poll: LongPoll, webhooks: WebhookDispatcher): MethodTable {
  const dropPendingIfAsked = (p: Params) => {
    if (p.bool('drop_pending_updates')) world.dropPendingUpdates();
  };

  return {
    getUpdates: (p, { signal }) => {
      const limit = Math.min(Math.max(p.int('limit') ?? MAX_LIMIT, 1), MAX_LIMIT);
      return poll.getUpdates(p.int('offset') ?? 0, limit, Math.max(p.int('timeout') ?? 0, 0), signal);
    },

    setWebhook: (p) => {
      const url = p.string('url');
      if (url === undefined) throw missingParameter('url');
      // An empty url removes the webhook, as documented for setWebhook.
      if (url === '') return removeWebhook(p);
      if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
        throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
      }
      const secretToken = p.string('secret_token');
      if (secretToken !== undefined && !SECRET_TOKEN_PATTERN.test(secretToken)) {
        throw badRequest('secret token contains unallowed characters');
      }
      dropPendingIfAsked(p);
      const alreadySet = world.webhook?.url === url && world.webhook.secretToken === secretToken;
      world.webhook = {
        url,
        secretToken,
        maxConnections: p.int('max_connections') ?? DEFAULT_MAX_CONNECTIONS,
        allowedUpdates: p.object<string[]>('allowed_updates'),
      };
      poll.terminate(new BotApiError(409, DESCRIPTION.terminatedBySetWebhook));
      webhooks.kick();
      return new DescribedResult(true, alreadySet ? 'Webhook is already set' : 'Webhook was set');
    },

    deleteWebhook: (p) => removeWebhook(p),

    getWebhookInfo: () => {
      const pending = world.pendingUpdates().length;
      const webhook = world.webhook;
      if (!webhook) return { url: '', has_custom_certificate: false, pending_update_count: pending };
      return {
        url: webhook.url,
        has_custom_certificate: false,
        pending_update_count: pending,
        max_connections: webhook.maxConnections,
        ...(webhook.allowedUpdates && { allowed_updates: webhook.allowedUpdates }),
        ...(webhook.lastErrorDate !== undefined && {
          last_error_date: webhook.lastErrorDate,
          last_error_message: webhook.lastErrorMessage,
        }),
      };
    },
  };

  function removeWebhook(p: Params): DescribedResult {
    const wasSet = world.webhook !== undefined;
    world.webhook = undefined;
    dropPendingIfAsked(p);
    return new DescribedResult(true, wasSet ? 'Webhook was deleted' : 'Webhook is already deleted');
  }
}
