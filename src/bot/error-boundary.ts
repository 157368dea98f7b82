import type { BotError } from 'grammy';
import { EVENT } from '../telemetry/conventions.js';
import type { BotContext } from './context.js';
import { reasonReply } from './screen.js';

/**
 * The one place where thrown errors become outcomes: a StoreError is DB_ERROR, any other throw is
 * INTERNAL_ERROR. The user always hears back; if even that fails, the failure is logged, never rethrown.
 */
export async function handleBotError(error: BotError<BotContext>): Promise<void> {
  const ctx = error.ctx;
  const code = ctx.telemetry.fail(error.error);
  // i18n may not have run yet (it is installed inside the boundary); fall back to English wording.
  const text = typeof ctx.t === 'function' ? reasonReply(ctx, code) : undefined;
  const fallbackText = `Something went wrong. Support code: ${ctx.telemetry.traceId}`;
  try {
    if (ctx.callbackQuery) {
      await ctx
        .answerCallbackQuery({ text: text ?? fallbackText, show_alert: true })
        .catch(() => ctx.reply(text ?? fallbackText));
    } else if (ctx.chat) {
      await ctx.reply(text ?? fallbackText);
    }
  } catch (replyError) {
    ctx.log.error(
      { event: EVENT.FAILURE_REPLY_FAILED, error_type: (replyError as Error).name },
      'could not tell the user about the failure',
    );
  }
}
