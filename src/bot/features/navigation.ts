import { Feature } from '../buttons.js';
import type { SessionData } from '../context.js';
import { rejectUpdate, showScreen } from '../screen.js';

/** Back and Cancel on every screen; where they lead comes from the registry's transitions. */
export const navigation = new Feature('navigation');

navigation.button('BACK', async (ctx, action) => {
  await showScreen(ctx, action.target, 'edit');
  ctx.telemetry.accept();
});

navigation.button('CANCEL', async (ctx, action) => {
  if (!hasDraft(ctx.session)) {
    return rejectUpdate(ctx, 'NOOP', 'cancel on an empty form', ctx.t('nothing-to-cancel'));
  }
  ctx.session.prompt = undefined;
  ctx.session.options = {};
  ctx.session.model = undefined;
  await showScreen(ctx, action.target, 'edit');
  ctx.telemetry.accept();
});

function hasDraft(session: SessionData): boolean {
  return session.prompt !== undefined || Object.keys(session.options).length > 0;
}
