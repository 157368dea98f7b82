import { GrammyError } from 'grammy';
import { isBenignRefusal } from '../error-classifier.js';
import { REASON_CODES, type ReasonCode } from '../telemetry/reason-codes.js';
import type { ScreenId } from '../ui/registry.js';
import type { BotContext } from './context.js';
import type { Outcome } from './outcome.js';
import { VIEWS } from './views.js';

/**
 * Draws a screen and makes its message the live one. `edit` replaces the message whose button was pressed;
 * `send` posts a new message and strips the keyboard from the previous live one, so it cannot be pressed.
 */
export async function showScreen(ctx: BotContext, screen: ScreenId, how: 'edit' | 'send'): Promise<void> {
  const view = VIEWS[screen](ctx);
  const pressed = ctx.callbackQuery?.message;
  const liveMessageId = await ctx.telemetry.render(screen, async () => {
    if (how === 'edit' && pressed) {
      await ctx.editMessageText(view.text, { reply_markup: view.keyboard }).catch(ignoreUnmodified);
      return pressed.message_id;
    }
    const previous = ctx.session.liveMessageId;
    const sent = await ctx.reply(view.text, { reply_markup: view.keyboard });
    if (previous !== undefined && ctx.chat) {
      // Best effort: the Bot API span and BOTAPI_ERROR log already record a failure here.
      await ctx.api.editMessageReplyMarkup(ctx.chat.id, previous).catch(() => undefined);
    }
    return sent.message_id;
  });
  ctx.session.screen = screen;
  ctx.session.liveMessageId = liveMessageId;
}

/**
 * Telegram refuses an edit that changes nothing. A double tap never gets this far (its second press is a
 * STATE_MISMATCH), so this is a safety net for a re-render that changes nothing: the user already sees it.
 */
function ignoreUnmodified(error: unknown): void {
  if (error instanceof GrammyError && isBenignRefusal(error.description)) return;
  throw error;
}

/**
 * Answering only stops the button's spinner. Telegram refuses late answers ("query is too old", e.g. a
 * backlog after a restart); that must not undo a screen the user already sees or turn a rejection into
 * a failure. The Bot API span and BOTAPI_ERROR line record the refusal.
 */
export async function answerQuietly(ctx: BotContext, text?: string): Promise<void> {
  await ctx.answerCallbackQuery(text ? { text } : undefined).catch(() => undefined);
}

/** The short text a user sees for a reason code, in their language. */
export function reasonReply(ctx: BotContext, code: ReasonCode): string | undefined {
  const key = REASON_CODES[code].reply;
  return key ? ctx.t(key, { cid: ctx.telemetry.traceId }) : undefined;
}

/**
 * Records a returned outcome, once, and on a rejection tells the user why: a callback gets its answer
 * (a toast), a message gets a reply.
 */
export async function settle(ctx: BotContext, outcome: Outcome): Promise<void> {
  if (outcome.code === 'SUCCESS') return ctx.telemetry.accept();
  ctx.telemetry.reject(outcome.code, outcome.detail);
  const reply = outcome.reply ?? reasonReply(ctx, outcome.code);
  if (ctx.callbackQuery) await answerQuietly(ctx, reply);
  // Telegram shows a refused pre-checkout's error_message to the user in the payment form.
  else if (ctx.preCheckoutQuery) await ctx.answerPreCheckoutQuery(false, reply ?? outcome.detail);
  else if (reply) await ctx.reply(reply);
}
