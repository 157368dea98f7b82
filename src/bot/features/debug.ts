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
    if (!id || !USER_ID.test(id) || args.length > 2) return usage();
    return send(ctx, userView(diagnostics, id));
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

/** ◀ ▶: the same answer, drawn again (fresh), at another page of the pressed message. */
debug.button('DEBUG_PAGE', async (ctx, action) => {
  const diagnostics = admin(ctx);
  if (!diagnostics) return forbidden(ctx);
  const { view, key = '', page } = action.args;
  const answer = await (async () => {
    if (view === 'list' && (key === 'all' || key === 'errors')) return overview(diagnostics, key);
    if (view === 'user' && USER_ID.test(key)) return userView(diagnostics, key);
    const code = view === 'chain' ? parseSupportCode(key) : undefined;
    return code ? chainView(diagnostics, code) : undefined;
  })();
  if (!answer || !/^\d{1,3}$/.test(page ?? '')) return usage();
  return edit(ctx, answer, Number(page));
});

function admin(ctx: BotContext): Diagnostics | undefined {
  return isAdmin(ctx) ? ctx.diagnostics : undefined;
}

const USER_ID = /^\d{1,20}$/;

/**
 * One /debug answer: its pages (each within Telegram's limit), the buttons under every page, and what
 * the ◀ ▶ buttons carry to draw it again at another page (`view` and its `key`, each a registry slug).
 */
interface Answer {
  pages: string[];
  rows: ButtonSpec[][];
  view: 'list' | 'chain' | 'user';
  key: string;
}

export const DEBUG_USAGE =
  'Usage: /debug (this instance and the last updates) · /debug errors · /debug <support code> · ' +
  '/debug user <telegram id>';

/** A malformed request: the admin is told the usage, and the update says so. */
function usage(): Outcome {
  return reject('VALIDATION_FAILED', 'debug: unknown or malformed subcommand', DEBUG_USAGE);
}

/** Buttons under a list: the filter, refresh, then one per entry (its short code), two per row. */
function listRows(filter: Filter, entries: readonly RecentOutcome[]): ButtonSpec[][] {
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
  return rows;
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
    rows: listRows(filter, recent),
    view: 'list',
    key: filter,
  };
}

/** Callback data carries at most 24 characters of a code: 96 bits of a cid still name one trace. */
const CODE_IN_BUTTON = 24;

function chainView(d: Diagnostics, code: Parameters<Diagnostics['find']>[0]): Answer {
  const lookup = d.find(code);
  const rows: ButtonSpec[][] = [[{ button: 'DEBUG_LIST', label: '⬅️ Last updates', args: ['all'] }]];
  const typed = code.kind === 'cid' ? code.cid : code.prefix;
  if (lookup.status === 'found') {
    const diagnosis = d.diagnose(lookup.trace);
    return {
      pages: paginate(chainBlocks(diagnosis, d.links(diagnosis.cid))),
      rows,
      view: 'chain',
      key: diagnosis.cid.slice(0, CODE_IN_BUTTON),
    };
  }
  const key = typed.slice(0, CODE_IN_BUTTON);
  if (lookup.status === 'ambiguous') {
    return {
      pages: paginate([
        `<b>${lookup.cids.length} updates</b> start with that code; send more characters:`,
        ...lookup.cids.map((cid) => `<code>${cid}</code>`),
      ]),
      rows,
      view: 'chain',
      key,
    };
  }
  return {
    pages: [
      'No such update among the traces this instance keeps (the last 500). Try the Grafana links or ' +
        '<code>npm run diagnose</code>, which read Tempo and Loki.',
    ],
    rows,
    view: 'chain',
    key,
  };
}

function userView(d: Diagnostics, id: string): Answer {
  const telegramId = Number(id);
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
    rows: listRows('all', updates.slice(0, LIST_SIZE)),
    view: 'user',
    key: id,
  };
}

const HTML = { parse_mode: 'HTML', link_preview_options: { is_disabled: true } } as const;

/** The page's text and its buttons: ◀ ▶ first when there is more than one page, then the answer's own. */
function pageOf(answer: Answer, requested: number) {
  const last = Math.max(0, answer.pages.length - 1);
  const page = Math.min(Math.max(0, requested), last);
  const turn = (label: string, to: number): ButtonSpec => ({
    button: 'DEBUG_PAGE',
    label,
    args: [answer.view, answer.key, String(to)],
  });
  const nav = [...(page > 0 ? [turn('◀', page - 1)] : []), ...(page < last ? [turn('▶', page + 1)] : [])];
  return {
    text: answer.pages[page] ?? '',
    reply_markup: buildKeyboard('DEBUG', [nav, ...answer.rows]),
  };
}

/** A new message: the answer's first page, with ◀ ▶ when it has more. */
async function send(ctx: BotContext, answer: Answer): Promise<Outcome> {
  await ctx.telemetry.render('DEBUG', async () => {
    const { text, reply_markup } = pageOf(answer, 0);
    await ctx.reply(text, { ...HTML, reply_markup });
  });
  return success;
}

/** Redraws the pressed message at `page`; without one (it is gone), sends the answer anew. */
async function edit(ctx: BotContext, answer: Answer, page = 0): Promise<Outcome> {
  if (!ctx.callbackQuery?.message) return send(ctx, answer);
  await ctx.telemetry.render('DEBUG', async () => {
    const { text, reply_markup } = pageOf(answer, page);
    await ctx
      .editMessageText(text, { ...HTML, reply_markup })
      // Refresh with nothing new: Telegram refuses an edit that changes nothing; the admin sees it already.
      .catch((error: unknown) => {
        if (!String((error as Error).message).includes('message is not modified')) throw error;
      });
  });
  return success;
}
