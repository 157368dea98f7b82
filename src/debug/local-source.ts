import { ATTR } from '../telemetry/conventions.js';
import type { LogRecorder } from '../telemetry/log-recorder.js';
import type { SpanRecorder } from '../telemetry/span-recorder.js';
import { resolveSupportCode, type SupportCode } from './support-code.js';
import type { Lookup, TraceSource, UserTraces } from './trace-source.js';
import { logViewFromLine, rootOf, sortLogs, spanViewsFromSdk, type TraceView } from './trace-view.js';

/** The bot's own memory of recent traces: the span recorder and the log recorder. */
export class LocalTraceSource implements TraceSource {
  readonly name = 'this process';
  readonly #spans: SpanRecorder;
  readonly #logs: LogRecorder | undefined;

  constructor(spans: SpanRecorder, logs?: LogRecorder) {
    this.#spans = spans;
    this.#logs = logs;
  }

  /**
   * Synchronous: the trace as kept now, or undefined. Traces that link to it (a job's deadline sweep runs
   * in a trace of its own, linked to the job's) are merged in: they are later steps of the same request.
   */
  trace(cid: string): TraceView | undefined {
    const ids = [cid, ...this.#linkedTo(cid)];
    const spans = ids.flatMap((id) => [...this.#spans.trace(id)]);
    const lines = ids.flatMap((id) => this.#logs?.lines(id) ?? []);
    if (spans.length === 0 && lines.length === 0) return undefined;
    return { traceId: cid, spans: spanViewsFromSdk(spans), logs: sortLogs(lines.map(logViewFromLine)) };
  }

  #linkedTo(cid: string): string[] {
    const linked: string[] = [];
    for (const id of this.#spans.traceIds()) {
      if (id === cid) continue;
      if (this.#spans.trace(id).some((span) => span.links.some((link) => link.context.traceId === cid))) {
        linked.push(id);
      }
    }
    return linked;
  }

  lookup(code: SupportCode): Lookup {
    const resolution = resolveSupportCode(code, this.#spans.traceIds());
    if (resolution.status === 'ambiguous') return { status: 'ambiguous', cids: resolution.cids };
    const trace = resolution.status === 'found' ? this.trace(resolution.cid) : undefined;
    return trace
      ? { status: 'found', trace }
      : { status: 'not-found', message: 'not among the traces this process keeps (the most recent 500)' };
  }

  async find(code: SupportCode): Promise<Lookup> {
    return this.lookup(code);
  }

  userTracesNow(pseudonym: string, sinceMs: number, limit: number): TraceView[] {
    const traces: TraceView[] = [];
    for (const cid of this.#spans.traceIds()) {
      const trace = this.trace(cid);
      const root = trace && rootOf(trace);
      if (!trace || !root || root.attributes[ATTR.USER_PSEUDONYM] !== pseudonym || root.startMs < sinceMs)
        continue;
      traces.push(trace);
    }
    traces.sort((a, b) => (rootOf(a)?.startMs ?? 0) - (rootOf(b)?.startMs ?? 0));
    return traces.slice(-limit);
  }

  async userTraces(pseudonym: string, sinceMs: number, limit: number): Promise<UserTraces> {
    return { status: 'found', traces: this.userTracesNow(pseudonym, sinceMs, limit) };
  }
}
