import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { expect, test } from 'vitest';
import { SpanRecorder } from '../src/telemetry/span-recorder.js';

/** The embedded mode's memory of recent traces: what /debug reads without a collector. */
function tracesThrough(recorder: SpanRecorder, count: number, spansEach = 2): string[] {
  const provider = new TracerProvider({ spanProcessors: [recorder] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracer = provider.getTracer('test');
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const root = tracer.startSpan(`update ${i}`);
    const parent = trace.setSpan(context.active(), root);
    for (let j = 1; j < spansEach; j += 1) tracer.startSpan(`child ${j}`, {}, parent).end();
    root.end();
    ids.push(root.spanContext().traceId);
  }
  return ids;
}

test('keeps every span of a recent trace, looked up by its trace id (the cid)', () => {
  const recorder = new SpanRecorder();
  const [id] = tracesThrough(recorder, 1, 3);
  expect(recorder.trace(id as string).map((s) => s.name)).toEqual(['child 1', 'child 2', 'update 0']);
  expect(recorder.trace('0'.repeat(32))).toEqual([]);
});

test('stays bounded: the oldest traces go first, and one huge trace cannot fill memory', () => {
  const recorder = new SpanRecorder({ maxTraces: 3, maxSpansPerTrace: 4 });
  const ids = tracesThrough(recorder, 5, 10);
  expect(ids.slice(0, 2).map((id) => recorder.trace(id).length)).toEqual([0, 0]);
  expect(ids.slice(2).map((id) => recorder.trace(id).length)).toEqual([4, 4, 4]);
  expect(recorder.spans()).toHaveLength(12);
});
