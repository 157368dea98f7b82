import { EVENT } from '../../telemetry/conventions.js';
import { Feature } from '../buttons.js';
import { initialSession } from '../context.js';
import { success } from '../outcome.js';
import { showScreen } from '../screen.js';

/** /start, /help and the main menu's own buttons. */
export const menu = new Feature('menu');

menu.onCommand('start', async (ctx) => {
  // `/start ref_<code>` is how a referral link arrives; the first /start is what makes a user new.
  const referralCode = /^ref_([a-z2-7]{1,32})$/.exec(String(ctx.match ?? ''))?.[1];
  if (ctx.from) {
    const started = await ctx.money.users.start({
      userId: ctx.from.id,
      referralCode,
      referralBonus: ctx.money.referralBonus,
      cid: ctx.telemetry.traceId,
    });
    ctx.log.info(
      { event: EVENT.USER_STARTED, first_visit: started.status === 'new', referral: started.referral },
      'user started',
    );
  }
  // /start is the way out of any state: the draft goes, the old live keyboard is stripped by showScreen.
  ctx.session = { ...initialSession(), liveMessageId: ctx.session.liveMessageId };
  await showScreen(ctx, 'MAIN_MENU', 'send');
  return success;
});

menu.onCommand('help', async (ctx) => {
  await showScreen(ctx, 'HELP', 'send');
  return success;
});

menu.button('HELP', async (ctx, action) => {
  await showScreen(ctx, action.target, 'edit');
  return success;
});
