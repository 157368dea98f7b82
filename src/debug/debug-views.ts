import type { Diagnosis } from './diagnosis.js';
import type { ErrorRatio } from './outcome-window.js';
import { shortCode } from './support-code.js';
import type { TraceLink } from './trace-links.js';

/**
 * What /debug answers, as Telegram HTML (only <b>, <i>, <code>, <a href> are used; every value is escaped),
 * split into pages that each fit one message.
 */
export const TELEGRAM_MESSAGE_LIMIT = 4096;

export function escapeTelegramHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
const e = escapeTelegramHtml;

/** One finished update as /debug lists it. */
export interface RecentOutcome {
  readonly traceId: string;
  readonly updateType: string;
  readonly handler: string;
  readonly outcome: string;
  readonly reasonCode: string;
  readonly screenId: string | undefined;
  readonly userPseudonym: string | undefined;
  readonly endedAt: number;
  readonly durationMs: number;
}

export interface TelemetryHealthView {
  /** `embedded` or where OTLP goes. */
  readonly export: string;
  readonly signals: ReadonlyArray<{ signal: string; exported: number; failed: number; dropped: number }>;
  readonly lastError: { message: string; at: number } | undefined;
}

export interface InstanceView {
  readonly role: string;
  readonly version: string;
  readonly uptimeMs: number;
}

const FAILED_OUTCOMES = new Set(['error', 'silent']);
const ICON: Record<string, string> = { success: '✅', noop: '▫️', rejected: '⚠️', error: '❌', silent: '🔇' };

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

function ratio(r: ErrorRatio): string {
  return r.updates === 0
    ? 'no updates'
    : `${r.failed}/${r.updates} (${((r.failed / r.updates) * 100).toFixed(1)}%)`;
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** One line per update: time, user, type, screen, outcome, reason and its code (a link to the trace page). */
export function outcomeLine(o: RecentOutcome, link: string | undefined): string {
  const code = link
    ? `<a href="${e(link)}">${e(shortCode(o.traceId))}</a>`
    : `<code>${e(shortCode(o.traceId))}</code>`;
  return `${ICON[o.outcome] ?? '•'} ${time(o.endedAt)} ${e(o.userPseudonym ?? '—')} ${e(o.updateType)} ${e(o.screenId ?? o.handler)} <b>${e(o.reasonCode)}</b> ${Math.round(o.durationMs)} ms ${code}`;
}

export function isFailedOutcome(o: RecentOutcome): boolean {
  return FAILED_OUTCOMES.has(o.outcome) || o.outcome === 'rejected';
}

export function overviewBlocks(input: {
  instance: InstanceView;
  health: TelemetryHealthView;
  last5: ErrorRatio;
  last60: ErrorRatio;
  recent: readonly RecentOutcome[];
  errorsOnly: boolean;
  link: (cid: string) => string | undefined;
}): string[] {
  const { instance, health } = input;
  const signals = health.signals
    .map((s) => `${e(s.signal)} ${s.exported} exported, ${s.failed} failed, ${s.dropped} dropped`)
    .join(' · ');
  const lastError = health.lastError
    ? `last export error ${formatDuration(Date.now() - health.lastError.at)} ago: ${e(health.lastError.message)}`
    : 'no export error';
  return [
    `<b>Instance</b> ${e(instance.role)} · v${e(instance.version)} · up ${formatDuration(instance.uptimeMs)}`,
    `<b>Telemetry</b> ${e(health.export)}${signals ? `\n${signals}` : ''}\n${lastError}`,
    `<b>Errors</b> (error or silent) 5 min: ${ratio(input.last5)} · 60 min: ${ratio(input.last60)}`,
    `<b>Last ${input.recent.length} ${input.errorsOnly ? 'failed or rejected updates' : 'updates'}</b>${input.recent.length === 0 ? '\nnone yet' : ''}`,
    ...input.recent.map((o) => outcomeLine(o, input.link(o.traceId))),
  ];
}

/** `/debug <code>`: the update's chain, the diagnosis and every way to open the trace. */
export function chainBlocks(d: Diagnosis, links: readonly TraceLink[]): string[] {
  const row = (label: string, value: string | undefined) => `<b>${label}</b> ${e(value ?? '—')}`;
  const step = (s: Diagnosis['chain'][number]) =>
    `<code>+${Math.round(s.offsetMs)}ms ${s.durationMs < 1 ? s.durationMs.toFixed(1) : Math.round(s.durationMs)}ms ${s.failed ? '✗' : '·'} ${'  '.repeat(s.depth)}${e(s.name)}</code> ${e(s.result)}`;
  return [
    `<b>Support code</b> <code>${e(shortCode(d.cid))}</code> · cid <code>${e(d.cid)}</code>${d.startedAt ? ` · ${e(d.startedAt.toISOString().replace('T', ' ').slice(0, 19))} UTC` : ''}`,
    row('user did', `${d.whatUserDid}${d.userPseudonym ? ` (${d.userPseudonym})` : ''}`),
    row('outcome', `${d.outcome} · ${d.reasonCode}${d.reasonDetail ? ` (${d.reasonDetail})` : ''}`),
    row('failing stage', d.failingStage),
    row('error', [d.errorType, d.errorMessage].filter(Boolean).join(': ') || undefined),
    row('downstream', d.downstream),
    row('user was told', d.toldUser),
    row('next step', d.nextStep),
    `<b>Chain</b> (${d.chain.length} spans, ${Math.round(d.durationMs ?? 0)} ms)`,
    ...d.chain.map(step),
    ...(d.laterSteps.length > 0 ? ['<b>Later under the same cid</b>', ...d.laterSteps.map(step)] : []),
    links.map((l) => `<a href="${e(l.href)}">${e(l.label)}</a>`).join(' · ') ||
      'no links: set PUBLIC_URL or GRAFANA_URL',
  ];
}

/** Pages of whole blocks, each within Telegram's limit; a block too long for any page is cut (it is escaped text). */
export function paginate(blocks: readonly string[], limit = TELEGRAM_MESSAGE_LIMIT): string[] {
  const pages: string[] = [];
  let page = '';
  // Room for the "(2/3)" marker added to each page.
  const room = limit - 16;
  for (const raw of blocks) {
    // Tags dropped before cutting, so no cut leaves one open; entities are not cut in half.
    const block =
      raw.length > room
        ? `${raw
            .replace(/<[^>]+>/g, '')
            .slice(0, room - 1)
            .replace(/&[^;]*$/, '')}…`
        : raw;
    if (page && page.length + 1 + block.length > room) {
      pages.push(page);
      page = block;
    } else page = page ? `${page}\n${block}` : block;
  }
  if (page) pages.push(page);
  return pages.length <= 1 ? pages : pages.map((p, i) => `${p}\n<i>(${i + 1}/${pages.length})</i>`);
}
