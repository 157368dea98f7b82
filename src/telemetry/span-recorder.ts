import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * Keeps the most recent finished traces in process, bounded by trace count, so /debug and the embedded
 * trace view work without a collector. Oldest traces are evicted first; memory stays flat under load.
 */
export class SpanRecorder implements SpanProcessor {
  readonly #traces = new Map<string, ReadableSpan[]>();
  readonly #maxTraces: number;
  readonly #maxSpansPerTrace: number;

  constructor(options: { maxTraces?: number; maxSpansPerTrace?: number } = {}) {
    this.#maxTraces = options.maxTraces ?? 500;
    this.#maxSpansPerTrace = options.maxSpansPerTrace ?? 200;
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    let spans = this.#traces.get(traceId);
    if (!spans) {
      if (this.#traces.size >= this.#maxTraces) {
        const oldest = this.#traces.keys().next().value;
        if (oldest !== undefined) this.#traces.delete(oldest);
      }
      spans = [];
      this.#traces.set(traceId, spans);
    }
    if (spans.length < this.#maxSpansPerTrace) spans.push(span);
  }

  /** Spans of one trace in end order, or an empty list if it was never seen or already evicted. */
  trace(traceId: string): readonly ReadableSpan[] {
    return this.#traces.get(traceId) ?? [];
  }

  /** The kept trace ids (cids), oldest first: support codes resolve against these. */
  traceIds(): IterableIterator<string> {
    return this.#traces.keys();
  }

  /** Every kept span, oldest trace first. */
  spans(): ReadableSpan[] {
    return [...this.#traces.values()].flat();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
