import { type Attributes, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import packageJson from '../../package.json' with { type: 'json' };
import { classifyError } from '../error-classifier.js';
import { INSTRUMENTATION_SCOPE } from './conventions.js';

/**
 * The one tracer of the app, versioned like the app (the instrumentation scope's version tells which code
 * made a span); the API returns a proxy, so importing this before the SDK starts is safe.
 */
export const tracer = trace.getTracer(INSTRUMENTATION_SCOPE, packageJson.version);

/** Marks a span as a real failure: status ERROR, `error.type` (the classifier's unless given), the exception. */
export function recordFailure(span: Span, error: unknown, errorType?: string): void {
  const err = error instanceof Error ? error : new Error(String(error));
  span.recordException(err);
  span.setAttribute(ATTR_ERROR_TYPE, errorType ?? classifyError(error).errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

export interface InSpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** `error.type` to set when `fn` throws; defaults to the classifier's. */
  errorType?: (error: unknown) => string | undefined;
}

/**
 * Runs `fn` inside an active child span that always ends; a throw marks the span failed and is rethrown.
 */
export async function inSpan<T>(
  name: string,
  options: InSpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        recordFailure(span, error, options.errorType?.(error));
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

export { SpanKind };
