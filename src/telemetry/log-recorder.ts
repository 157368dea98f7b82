/**
 * Keeps the log lines of the most recent traces in process, next to the span recorder, so the trace page
 * and /debug show an update's lines without a log backend. A pino destination: it receives each line as
 * written, keeps the ones that carry a trace id (raw, parsed only when read), and forgets the oldest
 * traces first. Lines outside any update (start-up, shutdown) are not kept.
 */
const TRACE_ID_FIELD = '"trace_id":"';

export class LogRecorder {
  readonly #traces = new Map<string, string[]>();
  readonly #maxTraces: number;
  readonly #maxLinesPerTrace: number;

  constructor(options: { maxTraces?: number; maxLinesPerTrace?: number } = {}) {
    this.#maxTraces = options.maxTraces ?? 500;
    this.#maxLinesPerTrace = options.maxLinesPerTrace ?? 200;
  }

  write(line: string): void {
    const at = line.indexOf(TRACE_ID_FIELD);
    if (at < 0) return;
    const start = at + TRACE_ID_FIELD.length;
    const traceId = line.slice(start, start + 32);
    let lines = this.#traces.get(traceId);
    if (!lines) {
      if (this.#traces.size >= this.#maxTraces) {
        const oldest = this.#traces.keys().next().value;
        if (oldest !== undefined) this.#traces.delete(oldest);
      }
      lines = [];
      this.#traces.set(traceId, lines);
    }
    if (lines.length < this.#maxLinesPerTrace) lines.push(line);
  }

  /** One trace's lines, parsed, in the order they were written. */
  lines(traceId: string): Array<Record<string, unknown>> {
    const parsed: Array<Record<string, unknown>> = [];
    for (const line of this.#traces.get(traceId) ?? []) {
      try {
        parsed.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A line cut short by the size bound of another writer; the trace still has its spans.
      }
    }
    return parsed;
  }
}
