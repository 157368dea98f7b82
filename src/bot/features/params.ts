import { checkPrompt, findModel, isValidOption } from '../../catalogue/models.js';
import { ATTR, EVENT } from '../../telemetry/conventions.js';
import { Feature } from '../buttons.js';
import { rejectUpdate, showScreen } from '../screen.js';

/** The parameters form: the prompt arrives as a text message, options as buttons, each checked per model. */
export const params = new Feature('params');

params.button('OPTION', async (ctx, action) => {
  const model = findModel(ctx.session.model);
  const { param = '', value = '' } = action.args;
  if (!model || !isValidOption(model, param, value)) {
    return rejectUpdate(ctx, 'VALIDATION_FAILED', 'option not offered by this model');
  }
  if (ctx.session.options[param] === value) {
    return rejectUpdate(ctx, 'NOOP', 'option already selected', ctx.t('option-unchanged'));
  }
  ctx.session.options[param] = value;
  await showScreen(ctx, action.target, 'edit');
  ctx.telemetry.accept();
});

params.button('PARAMS_DONE', async (ctx, action) => {
  if (ctx.session.prompt === undefined) {
    return rejectUpdate(ctx, 'VALIDATION_FAILED', 'prompt missing', ctx.t('prompt-required'));
  }
  await showScreen(ctx, action.target, 'edit');
  ctx.telemetry.accept();
});

params
  .on('message:text')
  .filter((ctx) => ctx.session.screen === 'PARAMS_FORM' && !ctx.message.text.startsWith('/'))
  .use(async (ctx) => {
    ctx.telemetry.received(EVENT.MESSAGE_RECEIVED, { [ATTR.MESSAGE_LENGTH]: ctx.message.text.length });
    ctx.telemetry.routed('params', {}, EVENT.MESSAGE_RECEIVED);
    const model = findModel(ctx.session.model);
    if (!model) return rejectUpdate(ctx, 'STATE_MISMATCH', 'no model chosen');
    const checked = checkPrompt(model, ctx.message.text);
    if (!checked.ok) {
      const text =
        checked.detail === 'prompt empty'
          ? ctx.t('prompt-empty')
          : ctx.t('prompt-too-long', { max: model.promptMaxLength });
      return rejectUpdate(ctx, 'VALIDATION_FAILED', checked.detail, text);
    }
    ctx.session.prompt = checked.prompt;
    await showScreen(ctx, 'PARAMS_FORM', 'send');
    ctx.telemetry.accept(EVENT.MESSAGE_ACCEPTED);
  });
