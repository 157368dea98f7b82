import type { RecentUpdates } from '../../debug/recent-updates.js';
import { shortCode } from '../../debug/support-code.js';
import type { UpdateSummary } from '../../telemetry/grammy/index.js';
import { Feature } from '../buttons.js';
import type { BotContext } from '../context.js';
import { type Outcome, reject, success } from '../outcome.js';

/** The `handler` of /debug. */
export const DEBUG_HANDLER = 'debug';

/** How many of a user's updates `/debug user` lists. */
const USER_UPDATES_SHOWN = 10;

export interface DebugDeps {
  /** ADMIN_IDS: the only users /debug answers. */
  adminIds: readonly number[];
  /** The same keyed pseudonym telemetry carries, so an admin never needs the key. */
  pseudonymize: (userId: number) => string;
  recent: RecentUpdates;
}

const USAGE = 'Usage: /debug user <telegram id>';

/**
 * `/debug` for admins (ADMIN_IDS). `/debug user <telegram id>` answers that user's pseudonym and their
 * recent updates on this instance (time, type, handler, outcome, reason code, support code), so an admin
 * finds the press a user complains about without holding any key. Anyone else gets exactly what an unknown
 * command gets; the span records FORBIDDEN. Admin answers are English, plain text.
 */
export function debugFeature(deps: DebugDeps): Feature {
  const admins = new Set(deps.adminIds);
  return new Feature(DEBUG_HANDLER).onCommand('debug', async (ctx) => {
    if (ctx.from === undefined || !admins.has(ctx.from.id)) return reject('FORBIDDEN', 'not an admin');
    const [subcommand, id, ...rest] = argumentsOf(ctx);
    if (subcommand === 'user' && id !== undefined && /^\d{1,20}$/.test(id) && rest.length === 0) {
      return userReport(ctx, deps, Number(id));
    }
    return reject('VALIDATION_FAILED', 'debug: unknown or malformed subcommand', USAGE);
  });
}

/** The words after `/debug` (or `/debug@bot_name`). */
function argumentsOf(ctx: BotContext): string[] {
  return (ctx.message?.text ?? '').trim().split(/\s+/).slice(1);
}

async function userReport(ctx: BotContext, deps: DebugDeps, userId: number): Promise<Outcome> {
  const pseudonym = deps.pseudonymize(userId);
  const updates = deps.recent.ofUser(pseudonym, USER_UPDATES_SHOWN);
  const lines = [
    `User ${userId} appears in telemetry as ${pseudonym}.`,
    updates.length === 0
      ? `No updates from them among the last ${deps.recent.capacity} this instance kept.`
      : `Their last ${updates.length} updates on this instance, newest first:`,
    ...updates.map(describe),
    '',
    `Tempo: { span.tracegram.user.pseudonym = "${pseudonym}" }`,
    `Logs: grep ${pseudonym}`,
  ];
  await ctx.reply(lines.join('\n'));
  return success;
}

function describe(summary: UpdateSummary): string {
  const time = new Date(summary.endedAt).toISOString().replace('T', ' ').slice(0, 19);
  return `${time} · ${summary.updateType} · ${summary.handler} → ${summary.outcome} ${summary.reasonCode} · code ${shortCode(summary.traceId)}`;
}
