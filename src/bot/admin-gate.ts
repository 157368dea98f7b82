import type { BotContext } from './context.js';
import { type Rejection, reject } from './outcome.js';

/**
 * The one admin gate: ADMIN_IDS decide who may use admin commands (/debug, /refund, /newpromo) and the
 * buttons they draw. Anyone else gets exactly what an unknown command (or an unknown button) gets, so
 * nothing says the command exists, and the update records FORBIDDEN.
 */
export function isAdmin(ctx: BotContext): boolean {
  return ctx.from !== undefined && ctx.adminIds.has(ctx.from.id);
}

export function forbidden(ctx: BotContext): Rejection {
  const reply = ctx.callbackQuery ? ctx.t('reply-unknown-action') : ctx.t('unknown-command');
  return reject('FORBIDDEN', 'admin command from a non-admin', reply);
}
