import { ATTR } from '../telemetry/conventions.js';
import { LOKI_FIELD, traceLogsQuery } from '../telemetry/grafana.js';
import { getJson } from './http-json.js';
import { logViewsFromLoki } from './loki.js';
import { spanViewsFromOtlp } from './otlp-json.js';
import type { SupportCode } from './support-code.js';
import type { Lookup, TraceSource, UserTraces } from './trace-source.js';
import { rootOf, type SpanView, sortSpans, type TraceView } from './trace-view.js';

/**
 * Traces from Tempo's HTTP API (trace by id: `/api/v2/traces/<id>`, search: `/api/search` with TraceQL)
 * and their log lines from Loki's (`/loki/api/v1/query_range`, by the trace id in structured metadata).
 * A short support code is resolved through Loki (every update's lines carry its trace id), or through
 * Tempo's search when Loki is not configured.
 */
export interface TempoLokiOptions {
  tempoUrl: string;
  lokiUrl?: string | undefined;
  /** How far back a short code or a user's session is searched. */
  lookbackMs?: number;
  now?: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class TempoLokiSource implements TraceSource {
  readonly name: string;
  readonly #tempo: string;
  readonly #loki: string | undefined;
  readonly #lookbackMs: number;
  readonly #now: () => number;

  constructor(options: TempoLokiOptions) {
    this.#tempo = options.tempoUrl.replace(/\/+$/, '');
    this.#loki = options.lokiUrl?.replace(/\/+$/, '');
    this.#lookbackMs = options.lookbackMs ?? 7 * DAY_MS;
    this.#now = options.now ?? Date.now;
    this.name = this.#loki ? `Tempo (${this.#tempo}) and Loki (${this.#loki})` : `Tempo (${this.#tempo})`;
  }

  async find(code: SupportCode): Promise<Lookup> {
    let cid: string;
    if (code.kind === 'cid') cid = code.cid;
    else {
      const found = await this.#resolvePrefix(code.prefix);
      if (found.status !== 'ok') return found.lookup;
      cid = found.cid;
    }
    const trace = await this.#trace(cid);
    return trace;
  }

  async userTraces(pseudonym: string, sinceMs: number, limit: number): Promise<UserTraces> {
    const q = `{ span.${ATTR.USER_PSEUDONYM} = ${JSON.stringify(pseudonym)} }`;
    const search = await this.#search(q, sinceMs, limit);
    if (search.status === 'unreachable') return search;
    const traces: TraceView[] = [];
    for (const cid of search.cids) {
      const lookup = await this.#trace(cid);
      if (lookup.status === 'unreachable') return lookup;
      if (lookup.status === 'found') traces.push(lookup.trace);
    }
    traces.sort((a, b) => (rootOf(a)?.startMs ?? 0) - (rootOf(b)?.startMs ?? 0));
    return { status: 'found', traces };
  }

  async #trace(cid: string): Promise<Lookup> {
    const answer = await getJson(`${this.#tempo}/api/v2/traces/${cid}`);
    if (answer.status === 'unreachable') return answer;
    const own = answer.status === 'ok' ? spanViewsFromOtlp(answer.body, cid) : [];
    if (own.length === 0) return { status: 'not-found', message: `Tempo has no trace ${cid}` };
    // Traces linked to this one (a job's deadline sweep) are later steps of the same request.
    const linked = await this.#linkedTraces(cid, Math.min(...own.map((s) => s.startMs)));
    if (linked.status === 'unreachable') return linked;
    const spans = sortSpans([...own, ...linked.spans]);
    const start = Math.min(...spans.map((s) => s.startMs));
    const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
    const ids = [cid, ...new Set(linked.spans.map((s) => s.traceId))];
    const logs = await this.#logs(ids, start - 60_000, end + 60_000);
    if (logs.status === 'unreachable') return logs;
    return { status: 'found', trace: { traceId: cid, spans, logs: logs.logs } };
  }

  async #linkedTraces(cid: string, sinceMs: number) {
    const search = await this.#search(`{ link:traceID = ${JSON.stringify(cid)} }`, sinceMs - 60_000, 20);
    if (search.status === 'unreachable') return search;
    const spans: Array<SpanView & { traceId: string }> = [];
    for (const id of search.cids.filter((id) => id !== cid)) {
      const answer = await getJson(`${this.#tempo}/api/v2/traces/${id}`);
      if (answer.status === 'unreachable') return answer;
      if (answer.status === 'ok')
        spans.push(...spanViewsFromOtlp(answer.body, id).map((s) => ({ ...s, traceId: id })));
    }
    return { status: 'ok' as const, spans };
  }

  async #logs(ids: readonly string[], fromMs: number, toMs: number) {
    if (!this.#loki) return { status: 'ok' as const, logs: [] };
    const query =
      ids.length === 1
        ? traceLogsQuery(ids[0] as string)
        : `{${LOKI_FIELD.SERVICE_NAME}=~".+"} | ${LOKI_FIELD.TRACE_ID}=~${JSON.stringify(ids.join('|'))}`;
    const answer = await this.#queryRange(query, fromMs, toMs, 1000);
    if (answer.status === 'unreachable') return answer;
    return { status: 'ok' as const, logs: answer.status === 'ok' ? logViewsFromLoki(answer.body) : [] };
  }

  #queryRange(query: string, fromMs: number, toMs: number, limit: number) {
    const params = new URLSearchParams({
      query,
      start: `${BigInt(Math.floor(fromMs)) * 1_000_000n}`,
      end: `${BigInt(Math.ceil(toMs)) * 1_000_000n}`,
      limit: String(limit),
      direction: 'forward',
    });
    // Structured metadata (trace_id, event, reason_code) apart from stream labels.
    return getJson(`${this.#loki}/loki/api/v1/query_range?${params}`, {
      headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' },
    });
  }

  async #search(q: string, sinceMs: number, limit: number) {
    const params = new URLSearchParams({
      q,
      start: String(Math.floor(sinceMs / 1000)),
      end: String(Math.ceil(this.#now() / 1000)),
      limit: String(limit),
    });
    const answer = await getJson(`${this.#tempo}/api/search?${params}`);
    if (answer.status === 'unreachable') return answer;
    const traces =
      answer.status === 'ok' ? ((answer.body as { traces?: Array<{ traceID?: string }> }).traces ?? []) : [];
    // Tempo's search drops leading zeros of trace ids.
    const cids = traces.flatMap((t) => (t.traceID ? [t.traceID.toLowerCase().padStart(32, '0')] : []));
    return { status: 'ok' as const, cids };
  }

  async #resolvePrefix(
    prefix: string,
  ): Promise<{ status: 'ok'; cid: string } | { status: 'no'; lookup: Lookup }> {
    const now = this.#now();
    let cids: string[];
    if (this.#loki) {
      const query = `{${LOKI_FIELD.SERVICE_NAME}=~".+"} | ${LOKI_FIELD.TRACE_ID}=~${JSON.stringify(`${prefix}.*`)}`;
      const answer = await this.#queryRange(query, now - this.#lookbackMs, now, 500);
      if (answer.status === 'unreachable') return { status: 'no', lookup: answer };
      const found = answer.status === 'ok' ? logViewsFromLokiTraceIds(answer.body) : [];
      cids = [...new Set(found)];
    } else {
      const search = await this.#search('{ }', now - this.#lookbackMs, 5000);
      if (search.status === 'unreachable') return { status: 'no', lookup: search };
      cids = search.cids.filter((cid) => cid.startsWith(prefix));
    }
    cids = [...new Set(cids.filter((cid) => cid.startsWith(prefix)))];
    if (cids.length === 1 && cids[0]) return { status: 'ok', cid: cids[0] };
    if (cids.length > 1) return { status: 'no', lookup: { status: 'ambiguous', cids } };
    return {
      status: 'no',
      lookup: {
        status: 'not-found',
        message: `no trace id starting with ${prefix} in the last ${Math.round(this.#lookbackMs / DAY_MS)} days`,
      },
    };
  }
}

/** The trace ids named by a Loki answer's lines. */
function logViewsFromLokiTraceIds(document: unknown): string[] {
  const ids: string[] = [];
  const body = document as {
    data?: { result?: Array<{ stream?: Record<string, string>; values?: unknown[][] }> };
  };
  for (const stream of body.data?.result ?? []) {
    const fromStream = stream.stream?.[LOKI_FIELD.TRACE_ID];
    if (fromStream) ids.push(fromStream);
    for (const entry of stream.values ?? []) {
      const meta = (entry[2] as { structuredMetadata?: Record<string, string> } | undefined)
        ?.structuredMetadata;
      const id = meta?.[LOKI_FIELD.TRACE_ID];
      if (id) ids.push(id);
    }
  }
  return ids.map((id) => id.toLowerCase());
}
