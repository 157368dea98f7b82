import { defaultOptions, findModel, isCategory, validOptions } from '../../catalogue/models.js';
import { Feature } from '../buttons.js';
import { reject, success } from '../outcome.js';
import { showScreen } from '../screen.js';

/** Category → models with prices → a model's card. */
export const catalogue = new Feature('catalogue');

catalogue.button('CATEGORY', async (ctx, action) => {
  const category = action.args.category;
  if (!isCategory(category)) return reject('UNKNOWN_ACTION', 'unknown category');
  ctx.session.category = category;
  await showScreen(ctx, action.target, 'edit');
  return success;
});

catalogue.button('MODEL', async (ctx, action) => {
  const model = findModel(action.args.model);
  if (!model || model.category !== ctx.session.category) {
    return reject('UNKNOWN_ACTION', 'unknown model for this category');
  }
  if (ctx.session.model !== model.id) {
    // A draft belongs to one model: another model has other options and another prompt limit.
    ctx.session.model = model.id;
    ctx.session.options = {};
    ctx.session.prompt = undefined;
  }
  await showScreen(ctx, action.target, 'edit');
  return success;
});

catalogue.button('OPEN_PARAMS', async (ctx, action) => {
  const model = findModel(ctx.session.model);
  if (!model) return reject('STATE_MISMATCH', 'no model chosen');
  ctx.session.options = { ...defaultOptions(model), ...validOptions(model, ctx.session.options) };
  await showScreen(ctx, action.target, 'edit');
  return success;
});
