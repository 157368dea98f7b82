import type { Transformer } from 'grammy';

/** How long past its own long-poll `timeout` a Bot API call may take before we give up on it. */
export const DEFAULT_BOTAPI_DEADLINE_MS = 10_000;

/** The abort reason when the deadline, not the bot stopping, cut a call short. */
export class BotApiDeadlineExceeded extends Error {
  override readonly name = 'BotApiDeadlineExceeded';
}

export function isDeadlineAbort(signal: { aborted: boolean } | undefined): boolean {
  return (signal as { reason?: unknown } | undefined)?.reason instanceof BotApiDeadlineExceeded;
}

/**
 * grammY waits up to 500 s for a Bot API answer. A Telegram that accepts connections and never answers
 * would then hold a chat's queue, leave buttons spinning and stall shutdown past the orchestrator's
 * patience. Every call gets a deadline instead (a long poll: its own timeout plus the same margin); the
 * abort surfaces as grammY's HttpError, which tracing records like any network failure. Installed outside
 * the retries, so it bounds all attempts of a call together.
 */
export function apiDeadline(deadlineMs: number = DEFAULT_BOTAPI_DEADLINE_MS): Transformer {
  return async (prev, method, payload, signal) => {
    const longPoll = (payload as { timeout?: number }).timeout ?? 0;
    // Not AbortSignal.any(): grammY's own signals come from the abort-controller polyfill, which it refuses.
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) controller.abort();
    const timer = setTimeout(
      () => controller.abort(new BotApiDeadlineExceeded(method)),
      longPoll * 1000 + deadlineMs,
    );
    try {
      return await prev(method, payload, controller.signal as unknown as typeof signal);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  };
}
