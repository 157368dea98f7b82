import type { BotError } from 'grammy';
import { classifyError } from '../error-classifier.js';
import { EVENT } from '../telemetry/conventions.js';
import type { BotContext } from './context.js';
import { answerQuietly, reasonReply } from './screen.js';

/**
 * The one place where thrown errors become outcomes (the error classifier says which: a StoreError is
 * DB_ERROR, an unexpected throw INTERNAL_ERROR). The user always hears back, with the support code (the cid) in a message they can copy
 * (a button's toast cannot be copied); if even that fails, the failure is logged, never rethrown.
 */
export async function handleBotError(error: BotError<BotContext>): Promise<void> {
  const ctx = error.ctx;
  const code = ctx.telemetry.fail(error.error);
  const cid = ctx.telemetry.traceId;
  // i18n may not have run yet (it is installed inside the boundary); fall back to English wording.
  const text =
    (typeof ctx.t === 'function' ? reasonReply(ctx, code) : undefined) ??
    `Something went wrong. Support code: ${cid}`;
  try {
    if (ctx.callbackQuery) await answerQuietly(ctx, text);
    // Unanswered, Telegram would keep the payment form spinning until its 10 s limit.
    if (ctx.preCheckoutQuery) await ctx.answerPreCheckoutQuery(false, text);
    if (ctx.chat) await ctx.reply(withCopyableCode(text, cid), { parse_mode: 'HTML' });
  } catch (replyError) {
    ctx.log.error(
      { event: EVENT.FAILURE_REPLY_FAILED, error_type: classifyError(replyError).errorType },
      'could not tell the user about the failure',
    );
  }
}

/** Telegram lets users copy a `<code>` span with one tap. */
function withCopyableCode(text: string, cid: string): string {
  const escaped = text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  return escaped.replaceAll(cid, `<code>${cid}</code>`);
}
