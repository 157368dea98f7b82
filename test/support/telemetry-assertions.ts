import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { expect } from 'vitest';
import { ATTR, SPAN } from '../../src/telemetry/conventions.js';

/** All spans of one trace, and helpers to walk its tree. */
export class TraceView {
  constructor(
    readonly traceId: string,
    readonly spans: readonly ReadableSpan[],
  ) {}

  static of(traceId: string, all: readonly ReadableSpan[]): TraceView {
    return new TraceView(
      traceId,
      all.filter((span) => span.spanContext().traceId === traceId),
    );
  }

  get root(): ReadableSpan {
    const roots = this.spans.filter((span) => span.name.startsWith(SPAN.UPDATE_PREFIX));
    expect(roots, `root spans in trace ${this.traceId}`).toHaveLength(1);
    return roots[0] as ReadableSpan;
  }

  named(name: string): ReadableSpan[] {
    return this.spans.filter((span) => span.name === name);
  }

  one(name: string): ReadableSpan {
    const found = this.named(name);
    expect(found, `spans named "${name}" in ${this.spans.map((s) => s.name).join(', ')}`).toHaveLength(1);
    return found[0] as ReadableSpan;
  }

  parentOf(span: ReadableSpan): ReadableSpan | undefined {
    const parentId = span.parentSpanContext?.spanId;
    return this.spans.find((candidate) => candidate.spanContext().spanId === parentId);
  }

  /** Names of the stage spans directly under the root, in start order. */
  stages(): string[] {
    const rootId = this.root.spanContext().spanId;
    return this.spans
      .filter((span) => span.parentSpanContext?.spanId === rootId && span.name.startsWith('stage '))
      .sort((a, b) => compareTime(a.startTime, b.startTime))
      .map((span) => span.name);
  }
}

function compareTime(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Checks the root span's outcome contract: reason code, outcome, and status set only for real failures. */
export function assertOutcome(view: TraceView, reasonCode: string, outcome: string): void {
  const root = view.root;
  expect(root.attributes[ATTR.REASON_CODE]).toBe(reasonCode);
  expect(root.attributes[ATTR.OUTCOME]).toBe(outcome);
  const failed = outcome === 'error' || outcome === 'silent';
  expect(root.status.code).toBe(failed ? SpanStatusCode.ERROR : SpanStatusCode.UNSET);
  if (outcome !== 'success' && outcome !== 'silent') {
    const decision = view.one(SPAN.REJECTED);
    expect(decision.attributes[ATTR.REASON_CODE]).toBe(reasonCode);
  }
}
