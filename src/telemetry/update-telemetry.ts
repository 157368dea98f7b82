import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import type { Update } from 'grammy/types';
import { StoreError, TracegramError } from '../errors.js';
import { ATTR, EVENT, type EventName, MESSAGING_SYSTEM_TELEGRAM, SEMCONV, SPAN } from './conventions.js';
import type { Logger } from './logger.js';
import type { BotMetrics } from './metrics.js';
import { isFailure, NO_REASON_CODE, type Outcome, outcomeOf, type ReasonCode } from './reason-codes.js';
import { safely } from './safely.js';
import { recordFailure, tracer } from './tracer.js';

/** The `handler` of an update no journey routed (yet). */
export const NO_HANDLER = 'none';

export interface RecordedOutcome {
  code: ReasonCode;
  detail: string | undefined;
}

/** The outcome of one finished update, as kept for /debug and the embedded trace view. */
export interface UpdateSummary {
  traceId: string;
  updateId: number;
  updateType: string;
  handler: string;
  outcome: Outcome;
  reasonCode: ReasonCode | typeof NO_REASON_CODE;
  detail: string | undefined;
  screenId: string | undefined;
  userPseudonym: string | undefined;
  endedAt: number;
  durationMs: number;
}

export interface UpdateTelemetryDeps {
  logger: Logger;
  metrics: BotMetrics;
  pseudonymize: (userId: number) => string;
  instanceRole: () => string;
  onUpdateEnd?: (summary: UpdateSummary) => void;
}

/**
 * One update's telemetry: the root span (its trace id is the cid), the stage spans, the single outcome.
 * Handlers call `received`, `routed`, `accept` / `reject` / `fail` and `render`; everything here is
 * guarded so that a telemetry fault never changes what the user gets.
 */
export class UpdateTelemetry {
  readonly root: Span;
  readonly updateType: string;
  readonly updateId: number;
  readonly log: Logger;
  handler: string = NO_HANDLER;
  screenId: string | undefined;
  outcome: RecordedOutcome | undefined;
  /** accept/reject calls: more than one is a handler bug (a missing `return`), reported at the end. */
  #decisions = 0;
  readonly #deps: UpdateTelemetryDeps;
  readonly #startedAt = performance.now();
  readonly #userPseudonym: string | undefined;

  constructor(update: Update, deps: UpdateTelemetryDeps) {
    this.#deps = deps;
    this.updateType = updateTypeOf(update);
    this.updateId = update.update_id;
    const from = senderOf(update);
    this.#userPseudonym = from ? deps.pseudonymize(from.id) : undefined;
    const attributes: Attributes = {
      [SEMCONV.MESSAGING_SYSTEM]: MESSAGING_SYSTEM_TELEGRAM,
      [SEMCONV.MESSAGING_OPERATION_TYPE]: 'process',
      [SEMCONV.MESSAGING_MESSAGE_ID]: String(update.update_id),
      [ATTR.UPDATE_TYPE]: this.updateType,
      [ATTR.INSTANCE_ROLE]: deps.instanceRole(),
      // Until a handler routes the update: the same value its metrics carry, so links from them resolve.
      [ATTR.HANDLER]: NO_HANDLER,
    };
    if (this.#userPseudonym) attributes[ATTR.USER_PSEUDONYM] = this.#userPseudonym;
    const chatType = chatTypeOf(update);
    if (chatType) attributes[ATTR.CHAT_TYPE] = chatType;
    this.root = tracer.startSpan(`${SPAN.UPDATE_PREFIX}${this.updateType}`, {
      kind: SpanKind.CONSUMER,
      attributes,
    });
    this.log = deps.logger;
  }

  get traceId(): string {
    return this.root.spanContext().traceId;
  }

  /** Runs the rest of the update's middleware with the root span active. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return context.with(trace.setSpan(context.active(), this.root), fn);
  }

  /** First stage: what arrived (a button, a command, a message), with its decoding attributes. */
  received(event: EventName, attributes: Attributes = {}): void {
    this.#stage(SPAN.RECEIVED, attributes, { event, message: 'received' });
  }

  /** A handler took the update. Exactly one handler routes an update. */
  routed(handler: string, attributes: Attributes = {}): void {
    this.handler = handler;
    safely('tagging the handler', () => this.root.setAttribute(ATTR.HANDLER, handler));
    const event = this.#isCallback ? EVENT.CALLBACK_ROUTED : EVENT.MESSAGE_ROUTED;
    this.#stage(SPAN.ROUTED, { [ATTR.HANDLER]: handler, ...attributes }, { event, message: 'routed' });
  }

  accept(): void {
    this.#decisions += 1;
    this.#record('SUCCESS', undefined);
    const event = this.#isCallback ? EVENT.CALLBACK_ACCEPTED : EVENT.MESSAGE_ACCEPTED;
    this.#stage(SPAN.ACCEPTED, { [ATTR.REASON_CODE]: 'SUCCESS' }, { event, message: 'accepted' });
  }

  /** An expected rejection (stale button, bad input, no-op): span status stays unset. */
  reject(code: ReasonCode, detail: string): void {
    this.#decisions += 1;
    this.#record(code, detail);
    this.#stage(
      SPAN.REJECTED,
      { [ATTR.REASON_CODE]: code, [ATTR.REASON_DETAIL]: detail },
      // A no-op is ordinary chat, not a warning for the failure-logs panel.
      { event: this.#rejectedEvent, message: 'rejected', level: code === 'NOOP' ? 'info' : 'warn' },
    );
  }

  get #isCallback(): boolean {
    return this.updateType === 'callback_query';
  }

  get #rejectedEvent(): EventName {
    return this.#isCallback ? EVENT.CALLBACK_REJECTED : EVENT.MESSAGE_REJECTED;
  }

  /** A real failure: the root span gets status ERROR, `error.type` and the exception. */
  fail(error: unknown): ReasonCode {
    const code: ReasonCode = error instanceof TracegramError ? error.reasonCode : 'INTERNAL_ERROR';
    const detail = error instanceof TracegramError && error.detail ? error.detail : errorTypeOf(error);
    this.#record(code, detail);
    safely('recording the failure', () => recordFailure(this.root, error, errorTypeOf(error)));
    this.#stage(
      SPAN.REJECTED,
      { [ATTR.REASON_CODE]: code, [ATTR.REASON_DETAIL]: detail, [ATTR_ERROR_TYPE]: errorTypeOf(error) },
      {
        event: error instanceof StoreError ? EVENT.STORE_ERROR : this.#rejectedEvent,
        message: 'failed',
        level: 'error',
      },
      true,
    );
    return code;
  }

  /** Wraps the Bot API calls that draw a screen, so they appear as children of one render stage. */
  async render<T>(screenId: string, fn: () => Promise<T>): Promise<T> {
    this.screenId = screenId;
    safely('tagging the screen', () => this.root.setAttribute(ATTR.SCREEN_ID, screenId));
    return tracer.startActiveSpan(
      SPAN.RENDER,
      { attributes: { [ATTR.SCREEN_ID]: screenId } },
      async (span) => {
        try {
          const result = await fn();
          safely('recording the render', () => {
            this.log.info({ event: EVENT.UI_RENDER, screen_id: screenId }, 'screen rendered');
            this.#deps.metrics.screenView(screenId);
          });
          return result;
        } catch (error) {
          safely('recording the render failure', () => recordFailure(span, error, errorTypeOf(error)));
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  /** Ends the root span; an update that recorded no outcome is reported as silent. */
  end(): void {
    safely('ending the update', () => {
      const seconds = (performance.now() - this.#startedAt) / 1000;
      const outcome: Outcome = this.outcome ? outcomeOf(this.outcome.code) : 'silent';
      const reasonCode = this.outcome?.code ?? NO_REASON_CODE;
      const failed = outcome === 'error' || outcome === 'silent';
      this.root.setAttribute(ATTR.OUTCOME, outcome);
      if (this.outcome) this.root.setAttribute(ATTR.REASON_CODE, this.outcome.code);
      if (outcome === 'silent') {
        this.root.setAttribute(ATTR.SILENT, true);
        this.root.setStatus({ code: SpanStatusCode.ERROR, message: 'update ended without an outcome' });
        this.root.setAttribute(ATTR_ERROR_TYPE, 'SilentUpdate');
        this.#withRoot(() =>
          this.log.error(
            { event: EVENT.SILENT_UPDATE, handler: this.handler, update_type: this.updateType },
            'update ended without recording an outcome',
          ),
        );
      }
      if (this.#decisions > 1) {
        this.root.setAttribute(ATTR.DECISIONS, this.#decisions);
        this.#withRoot(() =>
          this.log.error(
            { event: EVENT.DUPLICATE_OUTCOME, handler: this.handler, decisions: this.#decisions },
            'handler decided more than once; the first decision stands',
          ),
        );
      }
      this.#withRoot(() =>
        this.log[failed ? 'error' : 'info'](
          {
            event: failed ? EVENT.DISPATCH_FAIL : EVENT.DISPATCH_OK,
            outcome,
            reason_code: reasonCode,
            handler: this.handler,
            duration_ms: Math.round(seconds * 1000),
          },
          failed ? 'update failed' : 'update handled',
        ),
      );
      this.#deps.metrics.update({
        updateType: this.updateType,
        handler: this.handler,
        outcome,
        reasonCode,
        seconds,
      });
      this.#deps.onUpdateEnd?.({
        traceId: this.traceId,
        updateId: this.updateId,
        updateType: this.updateType,
        handler: this.handler,
        outcome,
        reasonCode,
        detail: this.outcome?.detail,
        screenId: this.screenId,
        userPseudonym: this.#userPseudonym,
        endedAt: Date.now(),
        durationMs: Math.round(seconds * 1000),
      });
    });
    this.root.end();
  }

  /** First outcome wins, except that a failure after a success replaces it (the user saw an error). */
  #record(code: ReasonCode, detail: string | undefined): void {
    if (!this.outcome || (isFailure(code) && !isFailure(this.outcome.code))) this.outcome = { code, detail };
  }

  /** Stage spans are instants under the root: they mark a decision and carry its attributes. */
  #stage(
    name: string,
    attributes: Attributes,
    log: { event: EventName; message: string; level?: 'info' | 'warn' | 'error' },
    failed = false,
  ): void {
    safely('recording a stage', () => {
      const span = tracer.startSpan(name, { attributes }, trace.setSpan(context.active(), this.root));
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
      context.with(trace.setSpan(context.active(), span), () =>
        this.log[log.level ?? 'info']({ event: log.event, ...logFields(attributes) }, log.message),
      );
      span.end();
    });
  }

  #withRoot(fn: () => void): void {
    context.with(trace.setSpan(context.active(), this.root), fn);
  }
}

/** Stage attributes become log fields without the `tracegram.` prefix: `tracegram.reason_code` → `reason_code`. */
function logFields(attributes: Attributes): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    fields[key.startsWith('tracegram.') ? key.slice('tracegram.'.length).replace('.', '_') : key] = value;
  }
  return fields;
}

export function updateTypeOf(update: Update): string {
  return Object.keys(update).find((key) => key !== 'update_id') ?? 'unknown';
}

function senderOf(update: Update): { id: number } | undefined {
  return (
    update.message?.from ??
    update.callback_query?.from ??
    update.edited_message?.from ??
    update.pre_checkout_query?.from ??
    update.my_chat_member?.from ??
    undefined
  );
}

function chatTypeOf(update: Update): string | undefined {
  return (
    update.message?.chat.type ??
    update.callback_query?.message?.chat.type ??
    update.edited_message?.chat.type ??
    update.my_chat_member?.chat.type
  );
}

export function errorTypeOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? code : error.name;
  }
  return 'NonError';
}
