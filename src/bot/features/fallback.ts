import { Composer } from 'grammy';
import { EVENT } from '../../telemetry/conventions.js';
import type { BotContext } from '../context.js';
import { noop, reject } from '../outcome.js';
import { settle } from '../screen.js';

/** The `handler` of updates no journey took. */
export const FALLBACK_HANDLER = 'fallback';

/**
 * The last composer: whatever no journey took still ends with an outcome and, where a person wrote to us,
 * a hint. Button presses never get here unhandled: the registry test proves each reaches its feature.
 */
export const fallback = new Composer<BotContext>();

fallback.on('message', async (ctx) => {
  ctx.telemetry.received(EVENT.MESSAGE_RECEIVED);
  ctx.telemetry.routed(FALLBACK_HANDLER);
  await settle(
    ctx,
    ctx.message.text?.startsWith('/')
      ? reject('UNKNOWN_ACTION', 'unknown command', ctx.t('unknown-command'))
      : noop('message outside a form', ctx.t('text-outside-form')),
  );
});

fallback.drop(
  (ctx) => ctx.callbackQuery !== undefined,
  (ctx) => {
    // Nobody wrote to us (an edit, a member change): recorded, not answered.
    ctx.telemetry.routed(FALLBACK_HANDLER);
    ctx.telemetry.reject('NOOP', `update type not handled: ${ctx.telemetry.updateType}`);
  },
);
