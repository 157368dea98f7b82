import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import type { Transformer } from 'grammy';
import { ATTR, BOTAPI_NETWORK_ERROR_CODE, BOTAPI_OK_CODE, EVENT, SPAN } from './conventions.js';
import type { Logger } from './logger.js';
import type { BotMetrics } from './metrics.js';
import { recordFailure, tracer } from './tracer.js';

/** Long polling is a loop of waits, not work: it gets no span, or every idle minute would be a trace. */
const UNTRACED_METHODS = new Set(['getUpdates']);

/**
 * One grammY API transformer makes every outgoing Bot API call a CLIENT span (child of whatever stage is
 * active) and a metric sample. It sees grammY's `{ ok: false }` payloads before grammY turns them into a
 * GrammyError, and network failures as thrown HttpErrors (grammY redacts the token from those messages).
 * The span never carries the URL, the token or the payload.
 */
export function botApiTracing(deps: { metrics: BotMetrics; logger: Logger }): Transformer {
  return async (prev, method, payload, signal) => {
    if (UNTRACED_METHODS.has(method)) return prev(method, payload, signal);
    const span = tracer.startSpan(`${SPAN.BOTAPI_PREFIX}${method}`, {
      kind: SpanKind.CLIENT,
      attributes: { [ATTR.BOTAPI_METHOD]: method },
    });
    const startedAt = performance.now();
    let errorCode = BOTAPI_OK_CODE;
    try {
      const response = await prev(method, payload, signal);
      span.setAttribute(ATTR.BOTAPI_OK, response.ok);
      if (!response.ok) {
        errorCode = String(response.error_code);
        span.setAttribute(ATTR.BOTAPI_ERROR_CODE, response.error_code);
        if (response.parameters?.retry_after !== undefined) {
          span.setAttribute(ATTR.BOTAPI_RETRY_AFTER, response.parameters.retry_after);
        }
        span.setAttribute(ATTR_ERROR_TYPE, errorCode);
        span.setStatus({ code: SpanStatusCode.ERROR, message: response.description });
        deps.logger.warn(
          {
            event: EVENT.BOTAPI_ERROR,
            method,
            error_code: response.error_code,
            description: response.description,
            retry_after: response.parameters?.retry_after,
          },
          'Bot API call failed',
        );
      }
      return response;
    } catch (error) {
      errorCode = BOTAPI_NETWORK_ERROR_CODE;
      span.setAttribute(ATTR.BOTAPI_OK, false);
      span.setAttribute(ATTR.BOTAPI_ERROR_CODE, BOTAPI_NETWORK_ERROR_CODE);
      recordFailure(span, error, 'network');
      deps.logger.warn(
        { event: EVENT.BOTAPI_ERROR, method, error_code: BOTAPI_NETWORK_ERROR_CODE },
        'Bot API unreachable',
      );
      throw error;
    } finally {
      span.end();
      deps.metrics.botApiCall({ method, errorCode, seconds: (performance.now() - startedAt) / 1000 });
    }
  };
}
