import { type Attributes, SpanStatusCode } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import type { Update } from 'grammy/types';
import { classifyError } from '../../error-classifier.js';
import { outcomeOf, type ReasonCode } from '../reason-codes.js';
import { safely } from '../safely.js';
import { PLUGIN_ATTR as ATTR, PLUGIN_EVENT as EVENT, PLUGIN_SPAN as SPAN } from './conventions.js';
import { receiptOf, sentAtOf } from './receipt.js';
import type { TracegramTelemetryOptions } from './types.js';
import { OutcomeState } from './update-outcome.js';
import { UpdateSpan, updateTypeOf } from './update-span.js';

/** The `handler` of an update no journey routed (yet). */
export const NO_HANDLER = 'none';

/**
 * One update's telemetry, as handlers see it (`ctx.telemetry`): `received`, `routed`, one decision
 * (`accept` / `reject`, or `fail` for a thrown error) and `render`. It joins the span lifecycle
 * (UpdateSpan) and the outcome state (OutcomeState), and at the end writes the metrics, the closing log
 * line and the summary hook, once.
 */
export class UpdateTelemetry {
  readonly updateType: string;
  readonly updateId: number;
  handler: string = NO_HANDLER;
  screenId: string | undefined;
  /** Set once the update's callback query was answered (the callback guard answers the rest). */
  callbackAnswered = false;
  readonly #span: UpdateSpan;
  readonly #outcome = new OutcomeState();
  readonly #options: TracegramTelemetryOptions;
  readonly #startedAt = performance.now();
  readonly #userPseudonym: string | undefined;

  constructor(update: Update, options: TracegramTelemetryOptions) {
    this.#options = options;
    this.updateType = updateTypeOf(update);
    this.updateId = update.update_id;
    const from = senderOf(update);
    this.#userPseudonym = from ? options.pseudonymize(from.id) : undefined;
    const chatType = chatTypeOf(update);
    this.#span = new UpdateSpan(
      update,
      {
        [ATTR.UPDATE_TYPE]: this.updateType,
        [ATTR.INSTANCE_ROLE]: options.metrics.instanceRole(),
        // Until a handler routes the update: the same value its metrics carry, so links from them resolve.
        [ATTR.HANDLER]: NO_HANDLER,
        ...(this.#userPseudonym ? { [ATTR.USER_PSEUDONYM]: this.#userPseudonym } : {}),
        ...(chatType ? { [ATTR.CHAT_TYPE]: chatType } : {}),
      },
      options.logger,
    );
  }

  get traceId(): string {
    return this.#span.traceId;
  }

  /** The outcome recorded so far, if any. */
  get outcome() {
    return this.#outcome.recorded;
  }

  /** Runs the rest of the update's middleware with the root span active. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.#span.run(fn);
  }

  /**
   * The update leaves the queues (the runner's, the chat's lock) and its handling starts: its age and the
   * time it queued go on the root span and into histograms, so "I pressed and nothing happened" shows up.
   */
  handlingStarts(update: Update): void {
    safely('recording the wait', () => {
      const now = Date.now();
      const receivedAt = receiptOf(update);
      const since = sentAtOf(update) ?? receivedAt;
      const ageSeconds = since === undefined ? undefined : Math.max(0, now - since) / 1000;
      const queueWaitSeconds = receivedAt === undefined ? undefined : (now - receivedAt) / 1000;
      this.#span.tag({
        ...(ageSeconds === undefined ? {} : { [ATTR.UPDATE_AGE]: ageSeconds }),
        ...(queueWaitSeconds === undefined ? {} : { [ATTR.UPDATE_QUEUE_WAIT]: queueWaitSeconds }),
      });
      if (ageSeconds !== undefined) {
        this.#options.metrics.updateStarted({ updateType: this.updateType, ageSeconds, queueWaitSeconds });
      }
    });
  }

  /** First stage: what arrived (a button, a command, a message), with its decoding attributes. */
  received(event: string, attributes: Attributes = {}): void {
    this.#span.stage(SPAN.RECEIVED, attributes, { event, message: 'received' });
  }

  /** A handler took the update. Exactly one handler routes an update. */
  routed(handler: string, attributes: Attributes = {}): void {
    this.handler = handler;
    this.#span.tag({ [ATTR.HANDLER]: handler });
    const event = this.#isCallback ? EVENT.CALLBACK_ROUTED : EVENT.MESSAGE_ROUTED;
    this.#span.stage(SPAN.ROUTED, { [ATTR.HANDLER]: handler, ...attributes }, { event, message: 'routed' });
  }

  accept(): void {
    this.#outcome.decide('SUCCESS', undefined);
    const event = this.#isCallback ? EVENT.CALLBACK_ACCEPTED : EVENT.MESSAGE_ACCEPTED;
    this.#span.stage(SPAN.ACCEPTED, { [ATTR.REASON_CODE]: 'SUCCESS' }, { event, message: 'accepted' });
  }

  /** An expected rejection (stale button, bad input, no-op): span status stays unset. */
  reject(code: ReasonCode, detail: string): void {
    this.#outcome.decide(code, detail);
    this.#span.stage(
      SPAN.REJECTED,
      { [ATTR.REASON_CODE]: code, [ATTR.REASON_DETAIL]: detail },
      // A no-op is ordinary chat, not a warning for the failure-logs panel.
      {
        event: this.#rejectedEvent,
        message: 'rejected',
        level: outcomeOf(code) === 'noop' ? 'info' : 'warn',
      },
    );
  }

  /** A real failure: the root span gets status ERROR, `error.type` and the exception. */
  fail(error: unknown): ReasonCode {
    const { reasonCode, errorType, detail } = classifyError(error);
    this.#outcome.fail(reasonCode, detail);
    this.#span.fail(error, errorType);
    this.#span.stage(
      SPAN.REJECTED,
      { [ATTR.REASON_CODE]: reasonCode, [ATTR.REASON_DETAIL]: detail, [ATTR_ERROR_TYPE]: errorType },
      {
        event: reasonCode === 'DB_ERROR' ? EVENT.STORE_ERROR : this.#rejectedEvent,
        message: 'failed',
        level: 'error',
      },
      true,
    );
    return reasonCode;
  }

  /** Wraps the Bot API calls that draw a screen, so they appear as children of one render stage. */
  async render<T>(screenId: string, fn: () => Promise<T>): Promise<T> {
    this.screenId = screenId;
    this.#span.tag({ [ATTR.SCREEN_ID]: screenId });
    return this.#span.render(screenId, async () => {
      const result = await fn();
      safely('recording the render', () => {
        this.#options.logger.debug({ event: EVENT.UI_RENDER, screen_id: screenId }, 'screen rendered');
        this.#options.metrics.screenView(screenId);
      });
      return result;
    });
  }

  /** Ends the root span; an update that recorded no outcome is reported as silent. */
  end(): void {
    safely('ending the update', () => this.#finish());
    this.#span.end();
  }

  #finish(): void {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const outcome = this.#outcome.label;
    const reasonCode = this.#outcome.reasonCode;
    const failed = outcome === 'error' || outcome === 'silent';
    const root = this.#span.root;
    root.setAttribute(ATTR.OUTCOME, outcome);
    if (this.#outcome.recorded) root.setAttribute(ATTR.REASON_CODE, reasonCode);
    if (outcome === 'silent') {
      root.setAttribute(ATTR.SILENT, true);
      root.setStatus({ code: SpanStatusCode.ERROR, message: 'update ended without an outcome' });
      root.setAttribute(ATTR_ERROR_TYPE, 'SilentUpdate');
      this.#span.log((log) =>
        log.error(
          { event: EVENT.SILENT_UPDATE, handler: this.handler, update_type: this.updateType },
          'update ended without recording an outcome',
        ),
      );
    }
    const decisions = this.#outcome.decisions;
    if (decisions > 1) {
      root.setAttribute(ATTR.DECISIONS, decisions);
      this.#span.log((log) =>
        log.error(
          { event: EVENT.DUPLICATE_OUTCOME, handler: this.handler, decisions },
          'handler decided more than once; the first decision stands',
        ),
      );
    }
    const durationMs = Math.round(seconds * 1000);
    this.#span.log((log) =>
      log[failed ? 'error' : 'info'](
        {
          event: failed ? EVENT.DISPATCH_FAIL : EVENT.DISPATCH_OK,
          update_id: this.updateId,
          update_type: this.updateType,
          outcome,
          reason_code: reasonCode,
          handler: this.handler,
          // At `info` this line stands for the update and its stages: what the user was shown, if anything.
          ...(this.screenId ? { screen_id: this.screenId } : {}),
          duration_ms: durationMs,
          // `grep u_…` over plain logs finds a user's updates; the raw id never enters a line.
          user_pseudonym: this.#userPseudonym,
        },
        failed ? 'update failed' : 'update handled',
      ),
    );
    this.#options.metrics.update({
      updateType: this.updateType,
      handler: this.handler,
      outcome,
      reasonCode,
      seconds,
    });
    this.#options.hooks?.onUpdateEnd?.({
      traceId: this.traceId,
      updateId: this.updateId,
      updateType: this.updateType,
      handler: this.handler,
      outcome,
      reasonCode,
      detail: this.#outcome.recorded?.detail,
      screenId: this.screenId,
      userPseudonym: this.#userPseudonym,
      endedAt: Date.now(),
      durationMs,
    });
  }

  get #isCallback(): boolean {
    return this.updateType === 'callback_query';
  }

  get #rejectedEvent(): string {
    return this.#isCallback ? EVENT.CALLBACK_REJECTED : EVENT.MESSAGE_REJECTED;
  }
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
