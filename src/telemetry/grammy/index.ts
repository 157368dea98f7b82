import { autoRetry } from '@grammyjs/auto-retry';
import type { Context, MiddlewareFn, MiddlewareObj, Transformer } from 'grammy';
import { safely } from '../safely.js';
import { apiDeadline, DEFAULT_BOTAPI_DEADLINE_MS } from './api-deadline.js';
import { apiTracing, markWebhookReply } from './api-tracing.js';
import { PLUGIN_EVENT as EVENT } from './conventions.js';
import type { TelemetryFlavor, TracegramTelemetryOptions } from './types.js';
import { UpdateTelemetry } from './update-telemetry.js';

export { WEBHOOK_REPLY_METHODS } from './api-tracing.js';
export { markReceived } from './receipt.js';
export type { TelemetryFlavor, TelemetryHooks, TracegramTelemetryOptions, UpdateSummary } from './types.js';
export { NO_HANDLER, UpdateTelemetry } from './update-telemetry.js';

export interface TracegramTelemetry<C extends Context & TelemetryFlavor> extends MiddlewareObj<C> {
  /** Install where an update stops waiting (after the per-chat lock): its age and queue wait are taken there. */
  readonly queueEnds: MiddlewareFn<C>;
  /** Install once on `bot.api.config`, in this order: tracing, bounded retries (429, 5xx), the call deadline. */
  readonly transformers: readonly Transformer[];
}

/**
 * Tracegram's bot-side telemetry as one grammY plugin, in the shape of grammY's own plugins and of the
 * opentelemetry-js-contrib instrumentations:
 *
 * ```ts
 * const telemetry = tracegramTelemetry<MyContext>(options);
 * bot.api.config.use(...telemetry.transformers);
 * bot.use(telemetry);
 * bot.use(sequentialize(chatKey), telemetry.queueEnds);
 * ```
 *
 * The middleware opens each update's root span before anything else runs, makes it active for everything
 * after it, and ends it after everything, errors included; the transformers make each Bot API call attempt
 * a CLIENT span, retry what Telegram asks to retry (429 retry_after, 5xx), and bound the whole call. Nothing here throws into the bot: faults go to the OTel diag logger.
 */
export function tracegramTelemetry<C extends Context & TelemetryFlavor>(
  options: TracegramTelemetryOptions,
): TracegramTelemetry<C> {
  const deadlineMs = options.apiDeadlineMs ?? DEFAULT_BOTAPI_DEADLINE_MS;
  // grammY runs the last-installed transformer outermost: each attempt is its own CLIENT span, and the
  // deadline bounds all attempts of a call together.
  const transformers = [
    apiTracing(options),
    autoRetry({
      maxRetryAttempts: 3,
      // A longer wait than this would outlast the deadline anyway: fail now, with the 429 as the outcome.
      maxDelaySeconds: Math.floor(deadlineMs / 2000),
      // A network failure may have reached Telegram: resending a sendMessage could post it twice.
      rethrowHttpErrors: true,
    }),
    apiDeadline(deadlineMs),
  ];
  const middleware: MiddlewareFn<C> = async (ctx, next) => {
    const telemetry = new UpdateTelemetry(ctx.update, options);
    ctx.telemetry = telemetry;
    ctx.log = options.logger;
    if (ctx.callbackQuery) ctx.api.config.use(answerTracking(ctx));
    try {
      await telemetry.run(async () => {
        // The root span carries this line's fields, and the update's last line repeats them: at `info` an
        // update writes that one line (and one per decision that is not a plain success).
        if (options.logger.isLevelEnabled('debug')) {
          safely('logging the update', () =>
            options.logger.debug(
              {
                event: EVENT.UPDATE_RECEIVED,
                update_id: telemetry.updateId,
                update_type: telemetry.updateType,
              },
              'update received',
            ),
          );
        }
        await next();
      });
    } catch (error) {
      // The last boundary: an error the bot's own handling let through (its error handler failed) is the
      // update's failure, recorded in its trace with one closing line. Rethrown, grammY would report it
      // after the root span ended, without trace context, as a second failure.
      telemetry.fail(error);
    } finally {
      telemetry.end();
    }
  };
  const queueEnds: MiddlewareFn<C> = (ctx, next) => {
    ctx.telemetry.handlingStarts(ctx.update);
    return next();
  };
  return { transformers, queueEnds, middleware: () => middleware };
}

/** Notes (and logs) that this update's callback query was answered, so the bot can answer the rest. */
function answerTracking(ctx: TelemetryFlavor): Transformer {
  return async (prev, method, payload, signal) => {
    if (method !== 'answerCallbackQuery') return prev(method, payload, signal);
    ctx.telemetry.callbackAnswered = true;
    const response = await prev(method, payload, signal);
    if (response.ok) {
      safely('logging the answer', () =>
        ctx.log.debug(
          { event: EVENT.ANSWER_CALLBACK_QUERY, has_text: 'text' in payload },
          'callback answered',
        ),
      );
    }
    return response;
  };
}

/**
 * One webhook request's answer. grammY hands it at most one Bot API call (one of `WEBHOOK_REPLY_METHODS`,
 * when the bot's client allows it), which the HTTP route sends as its body; that call's span is marked
 * `tracegram.botapi.webhook_reply`. Once the route has answered (an update that outlived the webhook
 * timeout) no call can ride on it any more: it fails, on its span, rather than vanish.
 */
export class WebhookAnswer {
  #body: string | undefined;
  #closed = false;

  /** The `respond` of grammY's `callback` webhook adapter. */
  readonly respond = (json: string): void => {
    if (this.#closed) throw new Error('the webhook request was already answered');
    this.#body = json;
    markWebhookReply();
  };

  /** The route answers now: the call to send as the body, if one was handed over. */
  close(): string | undefined {
    this.#closed = true;
    return this.#body;
  }
}
