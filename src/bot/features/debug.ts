import type { InlineKeyboard } from 'grammy';
import {
  chainBlocks,
  outcomeLine,
  overviewBlocks,
  paginate,
  type RecentOutcome,
} from '../../debug/debug-views.js';
import type { Diagnostics } from '../../debug/diagnostics.js';
import { parseSupportCode, shortCode } from '../../debug/support-code.js';
import { type ButtonSpec, buildKeyboard } from '../../ui/keyboard.js';
import { forbidden, isAdmin } from '../admin-gate.js';
import { Feature } from '../buttons.js';
import type { BotContext } from '../context.js';
import { type Outcome, reject, success } from '../outcome.js';

/**
 * `/debug` for admins (ADMIN_IDS): this instance, its telemetry, error ratios and the last outcomes;
 * `/debug <support code>`: one update's chain; `/debug user <telegram id>`: that user's recent updates.
 * Anyone else gets exactly what an unknown command gets, and the update records FORBIDDEN.
 */
export const debug = new Feature('debug');

const LIST_SIZE = 10;
type Filter = 'all' | 'errors';

debug.onCommand('debug', async (ctx) => {
  const diagnostics = admin(ctx);
  if (!diagnostics) return forbidden(ctx);
  const args = String(ctx.match ?? '')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (args.length === 0) return send(ctx, await overview(diagnostics, 'all'));
  if (args[0] === 'errors' && args.length === 1) return send(ctx, await overview(diagnostics, 'errors'));
  if (args[0] === 'user') {
    const id = args[1];
    if (!id || !/^\d{1,20}$/.test(id) || args.length > 2) return usage();
    return send(ctx, userView(diagnostics, Number(id)));
  }
  const code = args.length === 1 ? parseSupportCode(args[0] as string) : undefined;
  if (!code) return usage();
  return send(ctx, chainView(diagnostics, code));
});

debug.button('DEBUG_LIST', async (ctx, action) => {
  const diagnostics = admin(ctx);
  if (!diagnostics) return forbidden(ctx);
  return edit(ctx, await overview(diagnostics, action.args.filter === 'errors' ? 'errors' : 'all'));
});

debug.button('DEBUG_TRACE', async (ctx, action) => {
  const diagnostics = admin(ctx);
  if (!diagnostics) return forbidden(ctx);
  const code = parseSupportCode(action.args.code ?? '');
  return code ? send(ctx, chainView(diagnostics, code)) : usage();
});

function admin(ctx: BotContext): Diagnostics | undefined {
  return isAdmin(ctx) ? ctx.diagnostics : undefined;
}

interface Answer {
  pages: string[];
  keyboard?: InlineKeyboard;
}

export const DEBUG_USAGE =
  'Usage: /debug (this instance and the last updates) · /debug errors · /debug <support code> · ' +
  '/debug user <telegram id>';

/** A malformed request: the admin is told the usage, and the update says so. */
function usage(): Outcome {
  return reject('VALIDATION_FAILED', 'debug: unknown or malformed subcommand', DEBUG_USAGE);
}

/** Buttons under a list: the filter, refresh, then one per entry (its short code), two per row. */
function listKeyboard(filter: Filter, entries: readonly RecentOutcome[]): InlineKeyboard {
  const rows: ButtonSpec[][] = [
    [
      filter === 'errors'
        ? { button: 'DEBUG_LIST', label: 'All updates', args: ['all'] }
        : { button: 'DEBUG_LIST', label: 'Errors only', args: ['errors'] },
      { button: 'DEBUG_LIST', label: '🔄 Refresh', args: [filter] },
    ],
  ];
  for (let i = 0; i < entries.length; i += 2) {
    rows.push(
      entries.slice(i, i + 2).map((entry) => ({
        button: 'DEBUG_TRACE',
        label: `🔎 ${shortCode(entry.traceId)} ${entry.reasonCode}`,
        args: [shortCode(entry.traceId)],
      })),
    );
  }
  return buildKeyboard('DEBUG', rows);
}

async function overview(d: Diagnostics, filter: Filter): Promise<Answer> {
  const recent = d.recent(LIST_SIZE, filter === 'errors');
  return {
    pages: paginate(
      overviewBlocks({
        instance: d.instance(),
        health: await d.health(),
        last5: d.errorRatio(5),
        last60: d.errorRatio(60),
        recent,
        errorsOnly: filter === 'errors',
        link: (cid) => d.entryLink(cid),
      }),
    ),
    keyboard: listKeyboard(filter, recent),
  };
}

function chainView(d: Diagnostics, code: Parameters<Diagnostics['find']>[0]): Answer {
  const lookup = d.find(code);
  const back = buildKeyboard('DEBUG', [[{ button: 'DEBUG_LIST', label: '⬅️ Last updates', args: ['all'] }]]);
  if (lookup.status === 'found') {
    const diagnosis = d.diagnose(lookup.trace);
    return { pages: paginate(chainBlocks(diagnosis, d.links(diagnosis.cid))), keyboard: back };
  }
  if (lookup.status === 'ambiguous') {
    return {
      pages: paginate([
        `<b>${lookup.cids.length} updates</b> start with that code; send more characters:`,
        ...lookup.cids.map((cid) => `<code>${cid}</code>`),
      ]),
      keyboard: back,
    };
  }
  return {
    pages: [
      'No such update among the traces this instance keeps (the last 500). Try the Grafana links or ' +
        '<code>npm run diagnose</code>, which read Tempo and Loki.',
    ],
    keyboard: back,
  };
}

function userView(d: Diagnostics, telegramId: number): Answer {
  const { pseudonym, updates } = d.userUpdates(telegramId);
  // The admin typed the id; the answer may name it. Telemetry never does (the arguments are not logged).
  const header =
    `<b>User</b> ${telegramId} appears in telemetry as <code>${pseudonym}</code>: ` +
    (updates.length === 0
      ? 'no updates among those this instance keeps.'
      : `their last ${updates.length} updates on this instance, newest first:`);
  return {
    pages: paginate([
      header,
      ...updates.map((u) => outcomeLine(u, d.entryLink(u.traceId))),
      `Tempo: <code>{ span.tracegram.user.pseudonym = "${pseudonym}" }</code> · logs: <code>grep ${pseudonym}</code>`,
    ]),
    keyboard: listKeyboard('all', updates.slice(0, LIST_SIZE)),
  };
}

const HTML = { parse_mode: 'HTML', link_preview_options: { is_disabled: true } } as const;

/** New messages, the keyboard under the last page. */
async function send(ctx: BotContext, answer: Answer): Promise<Outcome> {
  await ctx.telemetry.render('DEBUG', async () => {
    for (const [i, page] of answer.pages.entries()) {
      const last = i === answer.pages.length - 1;
      await ctx.reply(page, {
        ...HTML,
        ...(last && answer.keyboard ? { reply_markup: answer.keyboard } : {}),
      });
    }
  });
  return success;
}

/** Redraws the pressed message when the answer fits in one; otherwise sends the pages. */
async function edit(ctx: BotContext, answer: Answer): Promise<Outcome> {
  if (answer.pages.length !== 1 || !ctx.callbackQuery?.message) return send(ctx, answer);
  await ctx.telemetry.render('DEBUG', async () => {
    await ctx
      .editMessageText(answer.pages[0] as string, {
        ...HTML,
        ...(answer.keyboard ? { reply_markup: answer.keyboard } : {}),
      })
      // Refresh with nothing new: Telegram refuses an edit that changes nothing; the admin sees it already.
      .catch((error: unknown) => {
        if (!String((error as Error).message).includes('message is not modified')) throw error;
      });
  });
  return success;
}
