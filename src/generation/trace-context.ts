import {
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** Only the W3C traceparent is stored with a job: baggage could carry anything, and it is not ours to keep. */
const propagator = new W3CTraceContextPropagator();

/** The active span's W3C `traceparent`, to store with a job. */
export function activeTraceparent(): string {
  const carrier: Record<string, string> = {};
  propagator.inject(context.active(), carrier, defaultTextMapSetter);
  return carrier.traceparent ?? '';
}

/** A context whose parent is the stored span: later steps of a job continue its trace. */
export function contextOf(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}

/** The span context a traceparent names, for span links; undefined when it is missing or malformed. */
export function spanContextOf(traceparent: string | undefined): SpanContext | undefined {
  const spanContext = trace.getSpanContext(contextOf(traceparent));
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}
