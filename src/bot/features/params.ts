import { checkPrompt, findModel, isValidOption, type Model, validOptions } from '../../catalogue/models.js';
import { Feature } from '../buttons.js';
import type { BotContext } from '../context.js';
import { noop, reject, success } from '../outcome.js';
import { showScreen } from '../screen.js';

/** The parameters form: the prompt arrives as a text message, options as buttons, each checked per model. */
export const params = new Feature('params');

params.button('OPTION', async (ctx, action) => {
  const model = findModel(ctx.session.model);
  const { param = '', value = '' } = action.args;
  if (!model || !isValidOption(model, param, value)) {
    return reject('VALIDATION_FAILED', 'option not offered by this model');
  }
  if (ctx.session.options[param] === value) {
    return noop('option already selected', ctx.t('option-unchanged'));
  }
  ctx.session.options[param] = value;
  await showScreen(ctx, action.target, 'edit');
  return success;
});

params.button('PARAMS_DONE', async (ctx, action) => {
  const model = findModel(ctx.session.model);
  if (!model) return reject('STATE_MISMATCH', 'no model chosen');
  if (ctx.session.prompt === undefined) {
    return reject('VALIDATION_FAILED', 'prompt missing', ctx.t('prompt-required'));
  }
  // The whole draft is checked again here: CONFIRM is what the next step will charge for.
  const prompt = checkPrompt(model, ctx.session.prompt);
  if (!prompt.ok) return reject('VALIDATION_FAILED', prompt.detail, promptProblem(ctx, model, prompt.detail));
  if (Object.keys(validOptions(model, ctx.session.options)).length !== model.options.length) {
    return reject('VALIDATION_FAILED', 'options do not fit this model');
  }
  await showScreen(ctx, action.target, 'edit');
  return success;
});

params.text(
  (ctx) => ctx.session.screen === 'PARAMS_FORM' && !ctx.message.text.startsWith('/'),
  async (ctx) => {
    const model = findModel(ctx.session.model);
    if (!model) return reject('STATE_MISMATCH', 'no model chosen');
    const checked = checkPrompt(model, ctx.message.text);
    if (!checked.ok)
      return reject('VALIDATION_FAILED', checked.detail, promptProblem(ctx, model, checked.detail));
    ctx.session.prompt = checked.prompt;
    await showScreen(ctx, 'PARAMS_FORM', 'send');
    return success;
  },
);

function promptProblem(ctx: BotContext, model: Model, detail: 'prompt empty' | 'prompt too long'): string {
  return detail === 'prompt empty'
    ? ctx.t('prompt-empty')
    : ctx.t('prompt-too-long', { max: model.promptMaxLength });
}
