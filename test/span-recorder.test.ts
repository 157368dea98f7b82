import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type ReadableSpan, type SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { expect, test } from 'vitest';
import { SpanRecorder } from '../src/telemetry/span-recorder.js';

const noopProcessor: SpanProcessor = {
  onStart: () => {},
  onEnd: () => {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

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

test('keeps every span of a recent trace, looked up by its trace id (the cid), root first', () => {
  const recorder = new SpanRecorder();
  const [id] = tracesThrough(recorder, 1, 3);
  expect(recorder.trace(id as string).map((s) => s.name)).toEqual(['update 0', 'child 1', 'child 2']);
  expect(recorder.trace('0'.repeat(32))).toEqual([]);
});

test('a trace bigger than the per-trace cap keeps its root (which ends last), and counts what it dropped', () => {
  const recorder = new SpanRecorder();
  const [id] = tracesThrough(recorder, 1, 251);
  const kept = recorder.trace(id as string);
  expect(kept[0]?.name).toBe('update 0');
  expect(kept).toHaveLength(201);
  expect(kept[1]?.name).toBe('child 1');
  expect(recorder.droppedSpans(id as string)).toBe(50);
});

test('stays bounded: the oldest traces go first, and one huge trace cannot fill memory', () => {
  const recorder = new SpanRecorder({ maxTraces: 3, maxSpansPerTrace: 4 });
  const ids = tracesThrough(recorder, 5, 10);
  expect(ids.slice(0, 2).map((id) => recorder.trace(id).length)).toEqual([0, 0]);
  expect(ids.slice(2).map((id) => recorder.trace(id).length)).toEqual([5, 5, 5]);
  expect(recorder.spans()).toHaveLength(15);
});

test('the total span budget evicts whole traces, oldest first, never half of one', () => {
  const recorder = new SpanRecorder({ maxSpans: 12 });
  const ids = tracesThrough(recorder, 4, 5);
  expect(ids.map((id) => recorder.trace(id).length)).toEqual([0, 0, 5, 5]);
  expect(recorder.spans().length).toBeLessThanOrEqual(12);
});

test('a later step that continues the trace from a stored context (a job worker, a callback) keeps the root', () => {
  const recorder = new SpanRecorder();
  const provider = new TracerProvider({ spanProcessors: [recorder] });
  const tracer = provider.getTracer('test');
  const root = tracer.startSpan('update callback_query');
  tracer.startSpan('job enqueue', {}, trace.setSpan(context.active(), root)).end();
  root.end();
  // What a worker or callback does with the job's stored traceparent: a remote parent, ending after the root.
  const stored = trace.setSpanContext(context.active(), { ...root.spanContext(), isRemote: true });
  tracer.startSpan('provider callback', {}, stored).end();
  const id = root.spanContext().traceId;
  const names = recorder.trace(id).map((s) => s.name);
  expect(names[0]).toBe('update callback_query');
  expect(names.slice(1).sort()).toEqual(['job enqueue', 'provider callback']);
});

test('a kept span reads as the SDK made it (context, parent, times, status, attributes, events, links), without the SDK object', () => {
  const ended: ReadableSpan[] = [];
  const recorder = new SpanRecorder();
  const provider = new TracerProvider({
    spanProcessors: [recorder, { ...noopProcessor, onEnd: (span: ReadableSpan) => void ended.push(span) }],
  });
  const tracer = provider.getTracer('test');
  const root = tracer.startSpan('update message');
  const linked = tracer.startSpan('job enqueue');
  const child = tracer.startSpan(
    'botapi sendMessage',
    { attributes: { 'tracegram.botapi.method': 'sendMessage' }, links: [{ context: linked.spanContext() }] },
    trace.setSpan(context.active(), root),
  );
  child.addEvent('retry', { 'tracegram.botapi.retry_after': 3 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'Too Many Requests' });
  child.end();
  root.end();

  const sdkChild = ended.find((span) => span.name === 'botapi sendMessage') as ReadableSpan;
  const kept = recorder.trace(root.spanContext().traceId).find((span) => span.name === 'botapi sendMessage');
  expect(kept).toBeDefined();
  expect(kept).not.toBe(sdkChild);
  for (const field of [
    'name',
    'kind',
    'parentSpanContext',
    'startTime',
    'endTime',
    'duration',
    'status',
  ] as const) {
    expect(kept?.[field], field).toEqual(sdkChild[field]);
  }
  expect(kept?.spanContext()).toEqual(sdkChild.spanContext());
  expect(kept?.attributes).toEqual({ 'tracegram.botapi.method': 'sendMessage' });
  expect(kept?.events.map((event) => [event.name, event.attributes])).toEqual([
    ['retry', { 'tracegram.botapi.retry_after': 3 }],
  ]);
  expect(kept?.links.map((link) => link.context.spanId)).toEqual([linked.spanContext().spanId]);
  const keptRoot = recorder.trace(root.spanContext().traceId)[0];
  expect([keptRoot?.events, keptRoot?.links]).toEqual([[], []]);
});
