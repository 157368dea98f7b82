import type { MiddlewareFn } from 'grammy';
import type { ProcessedUpdates } from '../store/index.js';
import type { BotContext } from './context.js';

/**
 * Telegram delivers an update again when it thinks it was not received (a webhook timeout or non-2xx, a
 * restart before polling confirmed it). The first delivery to reach any process sharing the store claims
 * the update id; a repeat ends as DUPLICATE_UPDATE, unanswered, before it touches the session.
 */
export function deduplicate(updates: ProcessedUpdates): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    if (await updates.claim(ctx.me.id, ctx.update.update_id)) return next();
    ctx.telemetry.reject('DUPLICATE_UPDATE', 'update already taken');
  };
}
