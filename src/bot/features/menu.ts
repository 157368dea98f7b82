import { EVENT } from '../../telemetry/conventions.js';
import { Feature } from '../buttons.js';
import { initialSession } from '../context.js';
import { showScreen } from '../screen.js';

/** /start, /help and the main menu's own buttons. */
export const menu = new Feature('menu');

menu.command('start', async (ctx) => {
  ctx.telemetry.received(EVENT.COMMAND_START);
  ctx.telemetry.routed('menu');
  // /start is the way out of any state: the draft goes, the old live keyboard is stripped by showScreen.
  ctx.session = { ...initialSession(), liveMessageId: ctx.session.liveMessageId };
  await showScreen(ctx, 'MAIN_MENU', 'send');
  ctx.telemetry.accept();
});

menu.command('help', async (ctx) => {
  ctx.telemetry.received(EVENT.COMMAND_HELP);
  ctx.telemetry.routed('menu');
  await showScreen(ctx, 'HELP', 'send');
  ctx.telemetry.accept();
});

for (const button of ['HELP', 'BALANCE', 'HISTORY'] as const) {
  menu.button(button, async (ctx, action) => {
    await showScreen(ctx, action.target, 'edit');
    ctx.telemetry.accept();
  });
}
