import type { MiddlewareFn } from 'grammy';
import type { ProcessedUpdates, SessionStorage } from '../store/index.js';
import type { BotContext, SessionData } from './context.js';

/** Where the claim may hand the session it read along with it, and which session an update reads. */
export interface SessionPrefetch {
  storage: Pick<SessionStorage<SessionData>, 'prime' | 'forget'>;
  /** The key the session middleware will read for this update; undefined: it reads none. */
  keyOf(ctx: BotContext): string | undefined;
}

/**
 * Telegram delivers an update again when it thinks it was not received (a webhook timeout or non-2xx, a
 * restart before polling confirmed it). The first delivery to reach any process sharing the store claims
 * the update id; a repeat ends as DUPLICATE_UPDATE, unanswered, before it touches the session.
 *
 * With `sessions`, the statement that claims the update also reads the chat's session row, and hands it to
 * the session storage for this update's read: one store round trip instead of two. The row is read from
 * the store, like any session read, so another process's last write is seen; the value lives only until
 * this update ends.
 */
export function deduplicate(updates: ProcessedUpdates, sessions?: SessionPrefetch): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const botId = ctx.me.id;
    const updateId = ctx.update.update_id;
    const key = sessions?.keyOf(ctx);
    if (sessions === undefined || key === undefined) {
      if (await updates.claim(botId, updateId)) return next();
      ctx.telemetry.reject('DUPLICATE_UPDATE', 'update already taken');
      return;
    }
    const claim = await updates.claimWithSession(botId, updateId, key);
    if (!claim.claimed) {
      ctx.telemetry.reject('DUPLICATE_UPDATE', 'update already taken');
      return;
    }
    sessions.storage.prime(key, claim.session as SessionData | undefined);
    try {
      await next();
    } finally {
      sessions.storage.forget(key);
    }
  };
}
