import type { MiddlewareFn } from 'grammy';
import type { ChatMemberUpdated, Message } from 'grammy/types';
import { ATTR, EVENT } from '../../telemetry/conventions.js';
import type { BotContext } from '../context.js';
import { noop, reject } from '../outcome.js';
import { answerQuietly, settle } from '../screen.js';

/** The `handler` of updates no journey took. */
export const FALLBACK_HANDLER = 'fallback';

/** What a message carried, for the span (never its content or file id). */
export type MessageKind = 'text' | 'sticker' | 'photo' | 'voice' | 'document' | 'other';

export function messageKind(message: Message): MessageKind {
  if (message.text !== undefined) return 'text';
  if (message.sticker) return 'sticker';
  if (message.photo) return 'photo';
  if (message.voice) return 'voice';
  if (message.document) return 'document';
  return 'other';
}

/**
 * Tracegram is a private-chat bot (a session per chat, screens that answer one person). In a group or
 * channel it stays quiet: the update is recorded as NOOP and nothing is sent, so adding the bot to a group
 * cannot make it talk over people. Placed before sessions, so groups cost no store rows.
 */
export const privateChatsOnly: MiddlewareFn<BotContext> = async (ctx, next) => {
  if (ctx.chat === undefined || ctx.chat.type === 'private') return next();
  ctx.telemetry.routed(FALLBACK_HANDLER);
  ctx.telemetry.reject('NOOP', `not a private chat (${ctx.chat.type})`);
  // A press always needs its answer, or the client shows a spinner; nothing else is said.
  if (ctx.callbackQuery) await answerQuietly(ctx);
};

/**
 * The last middleware: whatever no journey took still ends with an outcome and, where a person wrote to us,
 * a hint. Button presses never get here unhandled: the registry test proves each reaches its feature.
 * docs/telemetry.md ("Input the bot does not take") lists each case and its reply.
 */
export const fallback: MiddlewareFn<BotContext> = async (ctx, next) => {
  const { message, edited_message: edited, my_chat_member: member } = ctx.update;
  if (message) return fallbackMessage(ctx, message);
  if (ctx.callbackQuery) return next();
  ctx.telemetry.routed(FALLBACK_HANDLER);
  // An edit of something already sent (an old prompt, a command): acting on it would surprise the user.
  if (edited) return ctx.telemetry.reject('NOOP', 'edited message');
  // The user blocked (or unblocked) the bot: there is no one to answer, and after a block a send fails 403.
  if (member) return ctx.telemetry.reject('NOOP', memberChange(member));
  // Nobody wrote to us (another update type): recorded, not answered.
  ctx.telemetry.reject('NOOP', `update type not handled: ${ctx.telemetry.updateType}`);
};

async function fallbackMessage(ctx: BotContext, message: Message): Promise<void> {
  const kind = messageKind(message);
  ctx.telemetry.received(EVENT.MESSAGE_RECEIVED, { [ATTR.MESSAGE_KIND]: kind });
  ctx.telemetry.routed(FALLBACK_HANDLER);
  if (kind !== 'text') {
    await settle(ctx, noop(`${kind} message`, ctx.t('non-text-message')));
    return;
  }
  await settle(
    ctx,
    message.text?.startsWith('/')
      ? reject('UNKNOWN_ACTION', 'unknown command', ctx.t('unknown-command'))
      : noop('message outside a form', ctx.t('text-outside-form')),
  );
}

function memberChange(update: ChatMemberUpdated): string {
  const status = update.new_chat_member.status;
  if (status === 'kicked') return 'user blocked the bot';
  if (status === 'member') return 'user started or unblocked the bot';
  return `bot membership changed to ${status}`;
}
