import { checkPrompt, defaultOptions, findModel, validOptions } from '../../catalogue/models.js';
import { Feature } from '../buttons.js';
import { reject, success } from '../outcome.js';
import { showScreen } from '../screen.js';

/**
 * Generate on CONFIRM: the order is checked once more, then the price is reserved, the job created and
 * queued in one transaction (Generation.create, in this update's trace: its trace id is the job's cid),
 * and the confirm message becomes the "queued" line. The result arrives later as a new message.
 */
export const generate = new Feature('generate');

generate.button('GENERATE', async (ctx, action) => {
  const model = findModel(ctx.session.model);
  const chatId = ctx.chat?.id;
  const userId = ctx.from?.id;
  if (!model || chatId === undefined || userId === undefined)
    return reject('STATE_MISMATCH', 'no model chosen');
  const prompt = checkPrompt(model, ctx.session.prompt ?? '');
  if (!prompt.ok) return reject('VALIDATION_FAILED', prompt.detail, ctx.t('prompt-required'));

  const created = await ctx.generation.create({
    userId,
    chatId,
    model: model.id,
    input: {
      prompt: prompt.prompt,
      options: { ...defaultOptions(model), ...validOptions(model, ctx.session.options) },
    },
    price: model.price,
    locale: await ctx.i18n.getLocale(),
  });
  if (!created.ok) {
    // The confirm screen stays, with its Top up button next to Generate: that is the offer.
    return reject('INSUFFICIENT_FUNDS', 'balance below the price', ctx.t('reply-insufficient-funds'));
  }
  await showScreen(ctx, action.target, 'edit');
  return success;
});
