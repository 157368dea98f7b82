import type { Update } from 'grammy/types';
import { unixNow, type WebhookConfig, type World } from './world.js';

/** One finished POST of an update to the bot's webhook: answered with `status`, or failed with `error`. */
export interface WebhookDelivery {
  updateId: number;
  url: string;
  /** HTTP status of the bot's answer; absent when no answer came (`error` says why). */
  status?: number;
  error?: string;
  at: number;
}

/** A method call the bot made in its webhook answer: https://core.telegram.org/bots/api#making-requests-when-getting-updates */
export type WebhookReplyCall = (method: string, params: Record<string, unknown>) => Promise<void>;

const DELIVERY_TIMEOUT_MS = 10_000;
const SECRET_HEADER = 'X-Telegram-Bot-Api-Secret-Token';

/**
 * Pushes queued updates to the webhook one at a time, in order. An update leaves the queue only on a 2xx;
 * otherwise it is retried after a pause, and getWebhookInfo reports the last error, as Telegram does.
 */
export class WebhookDispatcher {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly stopping = new AbortController();
  private running = false;

  constructor(
    private readonly world: World,
    private readonly retryDelayMs: number,
    private readonly onReplyCall: WebhookReplyCall,
  ) {
    world.onUpdate(() => this.kick());
  }

  kick(): void {
    if (this.running || !this.world.webhook || this.stopping.signal.aborted) return;
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
    });
  }

  stop(): void {
    this.stopping.abort();
  }

  private async drain(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const webhook = this.world.webhook;
      const [update] = this.world.pendingUpdates(1);
      if (!webhook || !update) return;
      if (await this.deliver(webhook, update)) this.world.confirmUpdates(update.update_id + 1);
      else await pause(this.retryDelayMs, this.stopping.signal);
    }
  }

  private async deliver(webhook: WebhookConfig, update: Update): Promise<boolean> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (webhook.secretToken) headers[SECRET_HEADER] = webhook.secretToken;
    const delivery: WebhookDelivery = { updateId: update.update_id, url: webhook.url, at: Date.now() };
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(update),
        redirect: 'manual',
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
      });
      const body = await response.text();
      delivery.status = response.status;
      this.deliveries.push(delivery);
      if (!response.ok) {
        return this.failed(
          webhook,
          `Wrong response from the webhook: ${response.status} ${response.statusText}`,
        );
      }
      await this.replyCall(body);
      return true;
    } catch (error) {
      if (this.stopping.signal.aborted) return false;
      delivery.error = error instanceof Error ? (errorCause(error) ?? error.message) : String(error);
      this.deliveries.push(delivery);
      return this.failed(webhook, delivery.error);
    }
  }

  private failed(webhook: WebhookConfig, message: string): false {
    webhook.lastErrorDate = unixNow();
    webhook.lastErrorMessage = message;
    return false;
  }

  /** A JSON answer naming a `method` is executed as a call, its result discarded, as Telegram does. */
  private async replyCall(body: string): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || !('method' in parsed)) return;
    const { method, ...params } = parsed as Record<string, unknown>;
    if (typeof method === 'string') await this.onReplyCall(method, params);
  }
}

/** undici hides the socket error (ECONNREFUSED, ...) in `cause`; that is what a developer needs to see. */
function errorCause(error: Error): string | undefined {
  const cause = error.cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : undefined;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
