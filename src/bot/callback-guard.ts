import type { MiddlewareFn } from 'grammy';
import { ATTR, EVENT } from '../telemetry/conventions.js';
import { decodeCallbackData } from '../ui/callback-data.js';
import type { BotContext } from './context.js';
import { reject } from './outcome.js';
import { answerQuietly, settle } from './screen.js';

export interface CallbackGuardOptions {
  now?: () => number;
  /**
   * Product policy, not a Telegram limit (bots may edit their own messages at any age; the 48-hour limit
   * is deleteMessage's): a menu that old may show prices or options that are no longer offered.
   */
  maxAgeHours: number;
}

/**
 * The first stage of every button press: decode the data against the registry, then check that the
 * message is recent and is the chat's live one on the screen the button belongs to. Only then do
 * features see the press (as `ctx.action`). Every callback query is answered, whatever happens next.
 */
export function callbackGuard({
  now = Date.now,
  maxAgeHours,
}: CallbackGuardOptions): MiddlewareFn<BotContext> {
  const maxAgeSeconds = maxAgeHours * 3600;
  const expired = `message older than ${maxAgeHours} h`;
  return async (ctx, next) => {
    const query = ctx.callbackQuery;
    if (!query) return next();

    const decoded = decodeCallbackData(query.data);
    const message = query.message;
    const ageSeconds = message && message.date > 0 ? Math.floor(now() / 1000) - message.date : undefined;
    ctx.telemetry.received(EVENT.CALLBACK_RECEIVED, {
      ...(decoded.ok
        ? { [ATTR.BUTTON_ID]: decoded.action.button, [ATTR.SCREEN_ID]: decoded.action.screen }
        : {}),
      [ATTR.MESSAGE_AGE]: ageSeconds ?? -1,
    });

    if (!decoded.ok) return settle(ctx, reject('UNKNOWN_ACTION', decoded.detail));
    // An inaccessible message (date 0) is one Telegram no longer shows us: too old by definition.
    if (ageSeconds === undefined || ageSeconds > maxAgeSeconds) {
      return settle(ctx, reject('EXPIRED_MESSAGE', expired));
    }
    if (message?.message_id !== ctx.session.liveMessageId) {
      return settle(ctx, reject('STATE_MISMATCH', 'button on a message that is not the live one'));
    }
    if (decoded.action.screen !== ctx.session.screen) {
      const detail = `button of ${decoded.action.screen}, chat is on ${ctx.session.screen}`;
      return settle(ctx, reject('STATE_MISMATCH', detail));
    }
    ctx.action = decoded.action;
    // A throw skips the line below on purpose: the error boundary answers with the failure's own text.
    await next();
    if (!ctx.telemetry.callbackAnswered) await answerQuietly(ctx);
  };
}
