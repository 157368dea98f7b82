import type { Update } from 'grammy/types';

/**
 * When each update reached the process (the getUpdates answer, the webhook request), so the time it then
 * waited (runner queue, per-chat lock) can be told from the time it took. Keyed by the update object,
 * which grammY hands to the middleware as received; forgotten with it.
 */
const receivedAt = new WeakMap<Update, number>();

export function markReceived(update: Update, at: number = Date.now()): void {
  receivedAt.set(update, at);
}

export function receiptOf(update: Update): number | undefined {
  return receivedAt.get(update);
}

/** When the user sent the update, where Telegram says: a message's `date`, an edit's `edit_date`. */
export function sentAtOf(update: Update): number | undefined {
  const seconds =
    update.message?.date ??
    update.edited_message?.edit_date ??
    update.channel_post?.date ??
    update.edited_channel_post?.edit_date;
  return seconds === undefined ? undefined : seconds * 1000;
}
