import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import { HttpError, type Transformer } from 'grammy';
import type { Update } from 'grammy/types';
import { isBenignRefusal } from '../../error-classifier.js';
import type { Logger } from '../logger.js';
import type { BotMetrics } from '../metrics.js';
import { recordFailure, tracer } from '../tracer.js';
import { isDeadlineAbort } from './api-deadline.js';
import {
  PLUGIN_ATTR as ATTR,
  BOTAPI_NETWORK_ERROR_CODE,
  BOTAPI_OK_CODE,
  BOTAPI_URL_TEMPLATE,
  PLUGIN_EVENT as EVENT,
  SEMCONV,
  PLUGIN_SPAN as SPAN,
} from './conventions.js';
import { markReceived } from './receipt.js';

/**
 * Long polling is a loop of waits, not work: it gets no span (every idle minute would be a trace), but its
 * failures are logged and counted like any call, since grammY retries them quietly and a dead Telegram
 * must not be silent.
 */
const UNTRACED_METHODS = new Set(['getUpdates']);

const DEFAULT_API_ROOT = 'https://api.telegram.org';

/**
 * The methods a webhook update may answer in its HTTP answer instead of a call of its own (grammY's
 * `canUseWebhookReply`): answering a button press only stops its spinner, and it is the update's last
 * call, so the answer goes out when it would have anyway, with one round trip less. Telegram reports no
 * result for such a call; its span says so (`tracegram.botapi.webhook_reply`).
 */
export const WEBHOOK_REPLY_METHODS: ReadonlySet<string> = new Set(['answerCallbackQuery']);

/** Spans of calls handed to the webhook's answer, as marked by `markWebhookReply`. */
const webhookReplies = new WeakSet<Span>();

/**
 * Called where the webhook answer takes a call (the envelope's `send`): the active span is that call's
 * own, since the tracing transformer runs the webhook-reply methods with their span active.
 */
export function markWebhookReply(): void {
  const span = trace.getActiveSpan();
  if (span) webhookReplies.add(span);
}

/** `server.address` and `server.port` of the Bot API root (the port from its scheme when not written). */
function serverOf(apiRoot: string): { address: string; port: number } {
  const url = new URL(apiRoot);
  return { address: url.hostname, port: url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443 };
}

/**
 * One grammY API transformer makes every outgoing Bot API call a CLIENT span (child of whatever stage is
 * active), a metric sample, and a BOTAPI_ERROR log line when it fails. It sees grammY's `{ ok: false }`
 * payloads before grammY turns them into a GrammyError, and network failures as thrown HttpErrors (grammY
 * redacts the token from those messages). Nothing here records the URL, the token or the payload.
 */
export function apiTracing(deps: { metrics: BotMetrics; logger: Logger; apiRoot?: string }): Transformer {
  // Named on every "unreachable" line, so a wrong TELEGRAM_API_ROOT is seen at once; the path holds the token.
  const apiHost = deps.apiRoot === undefined ? undefined : new URL(deps.apiRoot).host;
  // HTTP client semantic conventions, fixed at start-up: grammY POSTs every call to `<apiRoot>/bot<token>/<method>`.
  const server = serverOf(deps.apiRoot ?? DEFAULT_API_ROOT);
  return async (prev, method, payload, signal) => {
    const span = UNTRACED_METHODS.has(method)
      ? undefined
      : tracer.startSpan(`${SPAN.BOTAPI_PREFIX}${method}`, {
          kind: SpanKind.CLIENT,
          attributes: {
            [ATTR.BOTAPI_METHOD]: method,
            [ATTR_HTTP_REQUEST_METHOD]: 'POST',
            [SEMCONV.URL_TEMPLATE]: BOTAPI_URL_TEMPLATE,
            [ATTR_SERVER_ADDRESS]: server.address,
            [ATTR_SERVER_PORT]: server.port,
          },
        });
    const startedAt = performance.now();
    let errorCode = BOTAPI_OK_CODE;
    let stoppedByUs = false;
    try {
      const response = await (span && WEBHOOK_REPLY_METHODS.has(method)
        ? context.with(trace.setSpan(context.active(), span), () => prev(method, payload, signal))
        : prev(method, payload, signal));
      if (method === 'getUpdates' && response.ok) {
        const now = Date.now();
        for (const update of response.result as Update[]) markReceived(update, now);
      }
      if (span && webhookReplies.has(span)) {
        // Handed to Telegram in the webhook's answer: sent, but Telegram answers it with nothing to read.
        span.setAttributes({ [ATTR.BOTAPI_OK]: true, [ATTR.BOTAPI_WEBHOOK_REPLY]: true });
        return response;
      }
      // The Bot API answers a refused call with the HTTP status equal to its error_code; grammY hands the
      // transformer the parsed body only, so the status is read from there.
      span?.setAttributes({
        [ATTR.BOTAPI_OK]: response.ok,
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: response.ok ? 200 : response.error_code,
      });
      if (!response.ok) {
        errorCode = String(response.error_code);
        const retryAfter = response.parameters?.retry_after;
        span?.setAttributes({
          // A string, like `network`, so one TraceQL comparison works for every failure.
          [ATTR.BOTAPI_ERROR_CODE]: errorCode,
          [ATTR_ERROR_TYPE]: errorCode,
          ...(retryAfter === undefined ? {} : { [ATTR.BOTAPI_RETRY_AFTER]: retryAfter }),
        });
        // An answer that only says there was nothing to do is not a failure (error-classifier.ts).
        const benign = isBenignRefusal(response.description);
        if (!benign) span?.setStatus({ code: SpanStatusCode.ERROR, message: response.description });
        deps.logger[benign ? 'info' : 'warn'](
          {
            event: EVENT.BOTAPI_ERROR,
            method,
            error_code: response.error_code,
            description: response.description,
            retry_after: retryAfter,
          },
          'Bot API call failed',
        );
      }
      return response;
    } catch (error) {
      // Stopping the bot aborts the pending long poll: that is neither a failure nor a call to count.
      if (signal?.aborted && !span && !isDeadlineAbort(signal)) {
        stoppedByUs = true;
        throw error;
      }
      errorCode = BOTAPI_NETWORK_ERROR_CODE;
      if (span) {
        span.setAttributes({ [ATTR.BOTAPI_OK]: false, [ATTR.BOTAPI_ERROR_CODE]: BOTAPI_NETWORK_ERROR_CODE });
        recordFailure(span, error, BOTAPI_NETWORK_ERROR_CODE);
      }
      // A call cut off by our deadline reached Telegram, which never answered: saying "unreachable" would
      // send the operator to check TELEGRAM_API_ROOT and the egress instead.
      const timedOut = isDeadlineAbort(signal);
      const where = apiHost === undefined ? '' : ` at ${apiHost} (TELEGRAM_API_ROOT)`;
      deps.logger.warn(
        {
          event: EVENT.BOTAPI_ERROR,
          method,
          error_code: errorCode,
          host: apiHost,
          detail: timedOut ? BOTAPI_DEADLINE_DETAIL : networkFailure(error),
        },
        timedOut ? `Bot API gave no answer in time${where}` : `Bot API unreachable${where}`,
      );
      throw error;
    } finally {
      span?.end();
      const seconds = span ? (performance.now() - startedAt) / 1000 : undefined;
      if (!stoppedByUs) deps.metrics.botApiCall({ method, errorCode, seconds });
    }
  };
}

/** `detail` of a call our deadline cut off (api-deadline.ts). */
const BOTAPI_DEADLINE_DETAIL = 'deadline';

/**
 * Why a call got no HTTP answer, as the system names it (`ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`,
 * `AbortError`). Never the message: the fetch error's message quotes the URL, and the URL holds the token.
 */
function networkFailure(error: unknown): string {
  const cause = error instanceof HttpError ? error.error : error;
  for (const candidate of [cause, (cause as { cause?: unknown } | undefined)?.cause]) {
    const code = (candidate as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
  }
  return cause instanceof Error ? cause.name : 'unknown';
}
