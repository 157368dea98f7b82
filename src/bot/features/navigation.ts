import { defaultOptions, findModel } from '../../catalogue/models.js';
import { Feature } from '../buttons.js';
import type { SessionData } from '../context.js';
import { noop, success } from '../outcome.js';
import { showScreen } from '../screen.js';

/** Back and Cancel on every screen; where they lead comes from the registry's transitions. */
export const navigation = new Feature('navigation');

navigation.button('BACK', async (ctx, action) => {
  await showScreen(ctx, action.target, 'edit');
  return success;
});

navigation.button('CANCEL', async (ctx, action) => {
  // On the form, Cancel's job is to throw away a draft; with none, there is nothing to do.
  if (action.screen === 'PARAMS_FORM' && !hasDraft(ctx.session)) {
    return noop('cancel on an empty form', ctx.t('nothing-to-cancel'));
  }
  ctx.session.prompt = undefined;
  ctx.session.options = {};
  ctx.session.model = undefined;
  await showScreen(ctx, action.target, 'edit');
  return success;
});

/** A draft is anything the user typed or changed; a form showing only defaults has nothing to cancel. */
function hasDraft(session: SessionData): boolean {
  if (session.prompt !== undefined) return true;
  const model = findModel(session.model);
  const defaults = model ? defaultOptions(model) : {};
  return Object.entries(session.options).some(([name, value]) => defaults[name] !== value);
}
