import { checkPrompt, defaultOptions, findModel, type Model, validOptions } from '../../catalogue/models.js';
import { Feature } from '../buttons.js';
import type { BotContext } from '../context.js';
import { type Outcome, reject, success } from '../outcome.js';
import { ownJob } from '../own-job.js';
import { showScreen } from '../screen.js';

/**
 * Generate on CONFIRM and Repeat on a delivered result. Either way the order is checked, then the price
 * is reserved, the job created and queued in one transaction (Generation.create, in this update's trace:
 * its trace id is the job's cid), and the user sees the "queued" line. The result arrives later as a new
 * message.
 */
export const generate = new Feature('generate');

generate.button('GENERATE', async (ctx, action) => {
  const model = findModel(ctx.session.model);
  if (!model) return reject('STATE_MISMATCH', 'no model chosen');
  const ordered = await order(ctx, model, ctx.session.prompt ?? '', ctx.session.options);
  if (ordered.code !== 'SUCCESS') return ordered;
  // The confirm message itself becomes the "queued" line.
  await showScreen(ctx, action.target, 'edit');
  return success;
});

generate.button('REPEAT', async (ctx, action) => {
  const source = await ownJob(ctx, action.args.job);
  // Forged or someone else's: the button never came from a result of this user's.
  if (!source) return reject('UNKNOWN_ACTION', 'no such job of this user');
  if (source.job.state !== 'delivered')
    return reject('STATE_MISMATCH', `repeat of a ${source.job.state} job`);
  const model = findModel(source.job.model);
  if (!model) return reject('VALIDATION_FAILED', 'model no longer offered', ctx.t('repeat-model-gone'));
  const { prompt, options } = source.job.input;
  const ordered = await order(ctx, model, prompt, options, source.job.id);
  if (ordered.code !== 'SUCCESS') return ordered;
  // The chat's order becomes the repeated one, so Back from here and the "queued" line name it.
  ctx.session = { ...ctx.session, category: model.category, model: model.id, prompt, options };
  // The result is a photo: the "queued" line is a new message, which becomes the live one.
  await showScreen(ctx, action.target, 'send');
  return success;
});

/** The checks both buttons make (prompt, options, balance), then the order itself. */
async function order(
  ctx: BotContext,
  model: Model,
  rawPrompt: string,
  options: Record<string, string>,
  repeatOf?: string,
): Promise<Outcome> {
  const chatId = ctx.chat?.id;
  const userId = ctx.from?.id;
  if (chatId === undefined || userId === undefined) return reject('STATE_MISMATCH', 'no chat or user');
  const prompt = checkPrompt(model, rawPrompt);
  if (!prompt.ok) return reject('VALIDATION_FAILED', prompt.detail, ctx.t('prompt-required'));

  const created = await ctx.generation.create({
    userId,
    chatId,
    model: model.id,
    input: { prompt: prompt.prompt, options: { ...defaultOptions(model), ...validOptions(model, options) } },
    price: model.price,
    locale: await ctx.i18n.getLocale(),
    ...(repeatOf ? { repeatOf } : {}),
  });
  if (created.ok) return success;
  if (created.reasonCode === 'REPEAT_OPEN') {
    return reject(
      'STATE_MISMATCH',
      'a repeat of this result is already queued',
      ctx.t('repeat-already-queued'),
    );
  }
  // On CONFIRM the Top up button next to Generate is the offer; on a result, the reply says where.
  return reject('INSUFFICIENT_FUNDS', 'balance below the price', ctx.t('reply-insufficient-funds'));
}
