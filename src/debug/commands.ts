import { ATTR } from '../telemetry/conventions.js';
import { type DiagnoseOptions, diagnose } from './diagnosis.js';
import { formatDiagnosis } from './format-diagnosis.js';
import { parseSupportCode, shortCode } from './support-code.js';
import type { TraceSource } from './trace-source.js';
import { rootOf } from './trace-view.js';

/** What a tool prints and its exit status: 0 the update succeeded, 1 it failed, 2 not found or unreachable. */
export interface CommandResult {
  readonly exitCode: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

const fail = (message: string): CommandResult => ({ exitCode: 2, stdout: '', stderr: message });

/** `npm run diagnose -- <support code or cid>`: one screen from telemetry alone. */
export async function diagnoseCommand(
  input: string | undefined,
  source: TraceSource,
  options: DiagnoseOptions & { links?: (cid: string) => string[] } = {},
): Promise<CommandResult> {
  const code = input === undefined ? undefined : parseSupportCode(input);
  if (!code) return fail('usage: npm run diagnose -- <support code (8+ hex characters) or cid>');
  const lookup = await source.find(code);
  switch (lookup.status) {
    case 'unreachable':
      return fail(`cannot ask ${source.name}: ${lookup.message}`);
    case 'not-found':
      return fail(`no trace for ${input} in ${source.name}: ${lookup.message}`);
    case 'ambiguous':
      return fail(
        `${input} matches ${lookup.cids.length} traces; give more characters:\n${lookup.cids.join('\n')}`,
      );
    case 'found': {
      const d = diagnose(lookup.trace, options);
      return {
        exitCode: d.failed ? 1 : 0,
        stdout: `${formatDiagnosis(d, options.links?.(d.cid) ?? [])}\n`,
        stderr: '',
      };
    }
  }
}

/** `--since 1h` / `30m` / `2d` → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/**
 * `npm run replay -- <telegram id | pseudonym> [--since 1h]`: the user's session as a timeline of what
 * they did, what they saw (screen or reason), how long it took and the support code of each update.
 */
export async function replayCommand(
  args: readonly string[],
  source: TraceSource,
  options: DiagnoseOptions & { now?: () => number; pseudonymize?: ((id: number) => string) | undefined } = {},
): Promise<CommandResult> {
  const user = args.find((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--since');
  const sinceArg = args.includes('--since') ? args[args.indexOf('--since') + 1] : '1h';
  const sinceMs = sinceArg === undefined ? undefined : parseDuration(sinceArg);
  if (!user || !/^(\d{1,15}|u_[A-Za-z0-9_-]{16})$/.test(user) || sinceMs === undefined) {
    return fail('usage: npm run replay -- <telegram user id | u_pseudonym> [--since 1h|30m|2d]');
  }
  // The admin API turns an id into its pseudonym itself; Tempo only knows pseudonyms.
  const key = user.startsWith('u_') || !options.pseudonymize ? user : options.pseudonymize(Number(user));
  const now = (options.now ?? Date.now)();
  const answer = await source.userTraces(key, now - sinceMs, 200);
  if (answer.status === 'unreachable') return fail(`cannot ask ${source.name}: ${answer.message}`);
  if (answer.traces.length === 0) {
    return fail(`no updates from ${user} since ${new Date(now - sinceMs).toISOString()} in ${source.name}`);
  }
  const lines: string[] = [];
  let previousEnd: number | undefined;
  let pseudonym: string | undefined;
  for (const trace of answer.traces) {
    const root = rootOf(trace);
    const d = diagnose(trace, options);
    pseudonym ??= d.userPseudonym;
    const at = root ? new Date(root.startMs).toISOString().slice(11, 23) : '??:??:??.???';
    const gap =
      previousEnd !== undefined && root ? `  (+${((root.startMs - previousEnd) / 1000).toFixed(1)} s)` : '';
    const screen = root?.attributes[ATTR.SCREEN_ID];
    const shown =
      d.outcome === 'success'
        ? `→ ${screen ?? 'ok'}`
        : `✗ ${d.outcome} ${d.reasonCode}${d.reasonDetail ? ` (${d.reasonDetail})` : ''}`;
    lines.push(`${at}${gap}`);
    lines.push(
      `   ${d.whatUserDid.padEnd(40)} ${shown}  ${Math.round(d.durationMs ?? 0)} ms  code ${shortCode(d.cid)}`,
    );
    if (d.laterSteps.length > 0) {
      const failedLater = d.laterSteps.filter((step) => step.failed).length;
      lines.push(
        `   └ ${d.laterSteps.length} later steps under this cid${failedLater ? `, ${failedLater} failed` : ''}`,
      );
    }
    previousEnd = root ? root.startMs + root.durationMs : previousEnd;
  }
  const header = `session of ${pseudonym ?? key} since ${new Date(now - sinceMs).toISOString()} · ${answer.traces.length} updates · from ${source.name}`;
  return { exitCode: 0, stdout: `${header}\n\n${lines.join('\n')}\n`, stderr: '' };
}
