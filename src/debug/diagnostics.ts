import type { UpdateSummary } from '../telemetry/grammy/index.js';
import { lastTelemetryError, signalHealth } from '../telemetry/telemetry-health.js';
import type { InstanceView, RecentOutcome, TelemetryHealthView } from './debug-views.js';
import { type DiagnoseOptions, type Diagnosis, diagnose } from './diagnosis.js';
import type { LocalTraceSource } from './local-source.js';
import type { ErrorRatio, OutcomeWindow } from './outcome-window.js';
import type { RecentUpdates } from './recent-updates.js';
import type { LinkSigner } from './signed-link.js';
import type { SupportCode } from './support-code.js';
import { type TraceLink, traceLinks } from './trace-links.js';
import type { Lookup } from './trace-source.js';
import type { TraceView } from './trace-view.js';

/**
 * Everything /debug reads, in one object the composition root builds: this instance, its telemetry's
 * health, the recent outcomes and error ratios, the traces it keeps, and the links to open them. The bot
 * feature only formats what it gets here.
 */
export interface Diagnostics {
  instance(): InstanceView;
  health(): Promise<TelemetryHealthView>;
  errorRatio(minutes: number): ErrorRatio;
  recent(limit: number, errorsOnly: boolean): RecentOutcome[];
  find(code: SupportCode): Lookup;
  diagnose(trace: TraceView): Diagnosis;
  links(cid: string): TraceLink[];
  /** The link for a list entry (the trace page when a base URL is known). */
  entryLink(cid: string): string | undefined;
  /** A user's recent updates in this process, found by the pseudonym of their Telegram id. */
  userUpdates(telegramId: number): { pseudonym: string; updates: RecentOutcome[] };
}

export interface DiagnosticsDeps {
  version: string;
  role: () => string;
  startedAt: number;
  /** Where telemetry goes (`embedded`, or the OTLP endpoint). */
  exportTarget: string;
  /** The `/metrics` exposition, where the SDK's self-observability counters are. */
  renderMetrics: () => Promise<string>;
  window: OutcomeWindow;
  recent: RecentUpdates;
  traces: LocalTraceSource;
  signer: LinkSigner;
  /** Where admins reach the trace page (PUBLIC_URL, else the HTTP server's own URL). */
  pageBaseUrl: () => string | undefined;
  grafanaUrl: string | undefined;
  pseudonymize: (userId: number) => string;
  diagnoseOptions?: DiagnoseOptions;
  now?: () => number;
}

const FAILED = new Set(['error', 'silent', 'rejected']);
/** How many of a user's updates `/debug user` lists. */
const USER_UPDATES_SHOWN = 10;

export function createDiagnostics(deps: DiagnosticsDeps): Diagnostics {
  const now = deps.now ?? Date.now;
  const toRecent = (s: UpdateSummary): RecentOutcome => s;
  return {
    instance: () => ({
      role: deps.role(),
      version: deps.version,
      uptimeMs: now() - deps.startedAt,
    }),
    health: async () => ({
      export: deps.exportTarget,
      signals: signalHealth(await deps.renderMetrics().catch(() => '')),
      lastError: lastTelemetryError(),
    }),
    errorRatio: (minutes) => deps.window.over(minutes),
    recent: (limit, errorsOnly) =>
      deps.recent.latest(limit, errorsOnly ? (s) => FAILED.has(s.outcome) : undefined).map(toRecent),
    find: (code) => deps.traces.lookup(code),
    diagnose: (trace) => diagnose(trace, deps.diagnoseOptions),
    links: (cid) =>
      traceLinks(cid, { pageBaseUrl: deps.pageBaseUrl(), signer: deps.signer, grafanaUrl: deps.grafanaUrl }),
    entryLink: (cid) => {
      const base = deps.pageBaseUrl();
      return base ? `${base}${deps.signer.tracePath(cid)}` : undefined;
    },
    userUpdates: (telegramId) => {
      const pseudonym = deps.pseudonymize(telegramId);
      return { pseudonym, updates: deps.recent.ofUser(pseudonym, USER_UPDATES_SHOWN).map(toRecent) };
    },
  };
}
