import { Feature } from '../buttons.js';
import { initialSession } from '../context.js';
import { success } from '../outcome.js';
import { showScreen } from '../screen.js';

/** /start, /help and the main menu's own buttons. */
export const menu = new Feature('menu');

menu.onCommand('start', async (ctx) => {
  // /start is the way out of any state: the draft goes, the old live keyboard is stripped by showScreen.
  ctx.session = { ...initialSession(), liveMessageId: ctx.session.liveMessageId };
  await showScreen(ctx, 'MAIN_MENU', 'send');
  return success;
});

menu.onCommand('help', async (ctx) => {
  await showScreen(ctx, 'HELP', 'send');
  return success;
});

for (const button of ['HELP', 'BALANCE', 'HISTORY'] as const) {
  menu.button(button, async (ctx, action) => {
    await showScreen(ctx, action.target, 'edit');
    return success;
  });
}
