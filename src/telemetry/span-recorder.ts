import type {
  Attributes,
  Context,
  HrTime,
  Link,
  SpanContext,
  SpanKind,
  SpanStatus,
} from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, Span, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace';

export interface SpanRecorderOptions {
  /** How many traces are kept; the oldest goes first. */
  maxTraces?: number;
  /** How many spans all kept traces hold together; past it, the oldest traces go. */
  maxSpans?: number;
  /** How many children one trace keeps; its root span is always kept on top of them. */
  maxSpansPerTrace?: number;
}

interface KeptTrace {
  spans: ReadableSpan[];
  /**
   * The trace's root, and the spans that continue it from a stored or propagated context (a job's worker,
   * a provider callback: their parent is remote). All are kept whatever the cap; the root comes first.
   */
  roots: ReadableSpan[];
  /** Children not kept because the trace was over `maxSpansPerTrace`. */
  dropped: number;
}

/**
 * Keeps the most recent finished traces in process, so /debug and the embedded trace view work without a
 * collector. A root span ends after its children, so a per-trace cap must never drop it: roots are always
 * kept, children beyond the cap are counted instead. Memory is bounded by trace count and by total span
 * count, evicting whole traces, oldest first.
 */
export class SpanRecorder implements SpanProcessor {
  readonly #traces = new Map<string, KeptTrace>();
  readonly #maxTraces: number;
  readonly #maxSpans: number;
  readonly #maxSpansPerTrace: number;
  #spanCount = 0;

  constructor(options: SpanRecorderOptions = {}) {
    this.#maxTraces = options.maxTraces ?? 500;
    this.#maxSpans = options.maxSpans ?? 20_000;
    this.#maxSpansPerTrace = options.maxSpansPerTrace ?? 200;
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    let kept = this.#traces.get(traceId);
    if (!kept) {
      kept = { spans: [], roots: [], dropped: 0 };
      this.#traces.set(traceId, kept);
    }
    if (isRoot(span)) {
      kept.roots.push(new RecordedSpan(span));
    } else if (kept.spans.length < this.#maxSpansPerTrace) {
      kept.spans.push(new RecordedSpan(span));
    } else {
      kept.dropped += 1;
      return;
    }
    this.#spanCount += 1;
    this.#evictOldest(traceId);
  }

  /** Spans of one trace, root first, then in start order; empty if never seen or already evicted. */
  trace(traceId: string): readonly ReadableSpan[] {
    const kept = this.#traces.get(traceId);
    if (!kept) return [];
    // The root (no parent at all) first, then everything else in start order.
    const first = kept.roots.filter((span) => span.parentSpanContext === undefined);
    const rest = [...kept.roots.filter((span) => span.parentSpanContext !== undefined), ...kept.spans].sort(
      (a, b) => compareTime(a.startTime, b.startTime),
    );
    return [...first, ...rest];
  }

  /** How many spans of this trace were not kept (it had more than `maxSpansPerTrace` children). */
  droppedSpans(traceId: string): number {
    return this.#traces.get(traceId)?.dropped ?? 0;
  }

  /** The kept trace ids (cids), oldest first: support codes resolve against these. */
  traceIds(): IterableIterator<string> {
    return this.#traces.keys();
  }

  /** Every kept span, oldest trace first. */
  spans(): ReadableSpan[] {
    return [...this.#traces.keys()].flatMap((traceId) => this.trace(traceId));
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  #evictOldest(current: string): void {
    while (this.#traces.size > this.#maxTraces || this.#spanCount > this.#maxSpans) {
      const [oldest, kept] = this.#traces.entries().next().value ?? [];
      // The trace being written is never evicted for its own growth; its per-trace cap bounds it.
      if (oldest === undefined || kept === undefined || oldest === current) return;
      this.#traces.delete(oldest);
      this.#spanCount -= kept.spans.length + kept.roots.length;
    }
  }
}

const NONE: never[] = [];

/**
 * What the recorder keeps of a finished span: the SDK's span object carries its processor, limits and
 * bookkeeping, and every update's spans stay here for hundreds of updates, long enough for the garbage
 * collector to move them to the old generation and mark them again and again. Keeping the fields alone,
 * with one shared array for the usual absent events and links, cut ~100 µs of CPU per update at full load
 * (docs/benchmarks.md).
 */
class RecordedSpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly events: TimedEvent[];
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly droppedAttributesCount: number;
  readonly droppedEventsCount: number;
  readonly droppedLinksCount: number;
  readonly ended = true;
  readonly #context: SpanContext;

  constructor(span: ReadableSpan) {
    this.name = span.name;
    this.kind = span.kind;
    this.#context = span.spanContext();
    this.parentSpanContext = span.parentSpanContext;
    this.startTime = span.startTime;
    this.endTime = span.endTime;
    this.duration = span.duration;
    this.status = span.status;
    this.attributes = span.attributes;
    this.links = span.links.length > 0 ? span.links : NONE;
    this.events = span.events.length > 0 ? span.events : NONE;
    this.resource = span.resource;
    this.instrumentationScope = span.instrumentationScope;
    this.droppedAttributesCount = span.droppedAttributesCount;
    this.droppedEventsCount = span.droppedEventsCount;
    this.droppedLinksCount = span.droppedLinksCount;
  }

  spanContext(): SpanContext {
    return this.#context;
  }
}

/** A local root: no parent, or a parent in another process (a propagated context). */
function isRoot(span: ReadableSpan): boolean {
  return span.parentSpanContext === undefined || span.parentSpanContext.isRemote === true;
}

function compareTime(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}
