import { FINAL_STATES, type FinalState } from '../../generation/job-store.js';
import { failureText, resultMessage, type Translate } from '../../generation/result-message.js';
import { Feature } from '../buttons.js';
import type { BotContext } from '../context.js';
import { noop, reject, success } from '../outcome.js';
import { ownJob } from '../own-job.js';
import { showScreen } from '../screen.js';
import { HISTORY_PAGE_SIZE } from '../views.js';

const PAGE = /^\d{1,4}$/;

/**
 * History: the user's jobs, newest first, paged. Opening one re-sends its result from Telegram's own copy
 * (with a fresh Repeat button) or explains why it failed and that it was refunded, as a new message; the
 * list stays the live screen.
 */
export const history = new Feature('history');

history.button('HISTORY', async (ctx, action) => {
  await drawHistory(ctx, 0);
  await showScreen(ctx, action.target, 'edit');
  return success;
});

history.button('HISTORY_PAGE', async (ctx, action) => {
  const page = PAGE.test(action.args.page ?? '') ? Number(action.args.page) : undefined;
  if (page === undefined) return reject('UNKNOWN_ACTION', 'malformed page number');
  await drawHistory(ctx, page);
  await showScreen(ctx, action.target, 'edit');
  return success;
});

history.button('HISTORY_JOB', async (ctx, action) => {
  const entry = await ownJob(ctx, action.args.job);
  if (!entry) return reject('UNKNOWN_ACTION', 'no such job of this user');
  const { job } = entry;
  if (!FINAL_STATES.includes(job.state as FinalState)) {
    return noop(`job still ${job.state}`, ctx.t('history-job-open'));
  }
  const file = job.resultFile;
  if (job.state === 'delivered' && !file) {
    return noop('delivered without a file to re-send', ctx.t('history-result-gone'));
  }
  // Re-sent in the user's language of today, not the one stored for the first delivery.
  const t: Translate = (_locale, key, variables) => ctx.t(key, variables);
  await ctx.telemetry.render(action.target, async () => {
    if (!file) return ctx.reply(failureText(job, job.reasonCode, t), { parse_mode: 'HTML' });
    const { caption, keyboard } = resultMessage(job, t);
    const options = { caption, reply_markup: keyboard };
    return file.kind === 'photo'
      ? ctx.replyWithPhoto(file.fileId, options)
      : ctx.replyWithDocument(file.fileId, options);
  });
  return success;
});

/** Loads one page (and whether another follows) for the HISTORY view, which is synchronous. */
async function drawHistory(ctx: BotContext, page: number): Promise<void> {
  const entries = ctx.from ? await ctx.generation.history(ctx.from.id, page, HISTORY_PAGE_SIZE) : [];
  ctx.historyView = {
    entries: entries.slice(0, HISTORY_PAGE_SIZE),
    page,
    hasNext: entries.length > HISTORY_PAGE_SIZE,
    locale: await ctx.i18n.getLocale(),
  };
}
