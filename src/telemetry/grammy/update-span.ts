import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Update } from 'grammy/types';
import type { Logger } from '../logger.js';
import { safely } from '../safely.js';
import { inSpan, recordFailure, tracer } from '../tracer.js';
import {
  PLUGIN_ATTR as ATTR,
  MESSAGING_OPERATION_PROCESS,
  MESSAGING_SYSTEM_TELEGRAM,
  SEMCONV,
  PLUGIN_SPAN as SPAN,
} from './conventions.js';

export interface StageLog {
  event: string;
  message: string;
  /** Default `debug`: the stage span already says it; decisions worth a line at `info` say so. */
  level?: 'debug' | 'info' | 'warn' | 'error';
}

/**
 * The span lifecycle of one update: the root span (CONSUMER; its trace id is the cid), the instant stage
 * spans under it, and the render span. Attribute writes are guarded: telemetry never throws into a handler.
 */
export class UpdateSpan {
  readonly root: Span;
  readonly #logger: Logger;

  constructor(update: Update, rootAttributes: Attributes, logger: Logger) {
    this.#logger = logger;
    this.root = tracer.startSpan(`${SPAN.UPDATE_PREFIX}${updateTypeOf(update)}`, {
      kind: SpanKind.CONSUMER,
      attributes: {
        [SEMCONV.MESSAGING_SYSTEM]: MESSAGING_SYSTEM_TELEGRAM,
        [SEMCONV.MESSAGING_OPERATION_TYPE]: 'process',
        [SEMCONV.MESSAGING_OPERATION_NAME]: MESSAGING_OPERATION_PROCESS,
        [SEMCONV.MESSAGING_MESSAGE_ID]: String(update.update_id),
        ...rootAttributes,
      },
    });
  }

  get traceId(): string {
    return this.root.spanContext().traceId;
  }

  /** Runs `fn` with the root span active. */
  run<T>(fn: () => T): T {
    return context.with(trace.setSpan(context.active(), this.root), fn);
  }

  tag(attributes: Attributes): void {
    safely('tagging the update', () => this.root.setAttributes(attributes));
  }

  /**
   * A stage span is an instant under the root: it marks a decision and carries its attributes. Its log line
   * is written at `log.level`; the routine stages (received, routed, accepted) only at `debug`.
   */
  stage(name: string, attributes: Attributes, log: StageLog, failed = false): void {
    safely('recording a stage', () => {
      const span = tracer.startSpan(name, { attributes }, trace.setSpan(context.active(), this.root));
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
      const level = log.level ?? 'debug';
      if (this.#logger.isLevelEnabled(level)) {
        context.with(trace.setSpan(context.active(), span), () =>
          this.#logger[level]({ event: log.event, ...logFields(attributes) }, log.message),
        );
      }
      span.end();
    });
  }

  /** The root span becomes a real failure: status ERROR, `error.type` and the exception. */
  fail(error: unknown, errorType: string): void {
    safely('recording the failure', () => recordFailure(this.root, error, errorType));
  }

  /** The one span with a duration under the root: the Bot API calls that draw a screen are its children. */
  render<T>(screenId: string, fn: () => Promise<T>): Promise<T> {
    return inSpan(SPAN.RENDER, { attributes: { [ATTR.SCREEN_ID]: screenId } }, fn);
  }

  /** Logs with the root span as the active one (trace_id/span_id on the line). */
  log(fn: (logger: Logger) => void): void {
    this.run(() => fn(this.#logger));
  }

  end(): void {
    this.root.end();
  }
}

/**
 * Stage attributes become log fields without the `tracegram.` prefix and with every further dot an
 * underscore: `tracegram.reason_code` → `reason_code`, `tracegram.update.queue.wait_s` → `update_queue_wait_s`.
 */
export function logFields(attributes: Attributes): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    fields[key.startsWith('tracegram.') ? key.slice('tracegram.'.length).replaceAll('.', '_') : key] = value;
  }
  return fields;
}

export function updateTypeOf(update: Update): string {
  return Object.keys(update).find((key) => key !== 'update_id') ?? 'unknown';
}
