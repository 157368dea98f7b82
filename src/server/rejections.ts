import type { FastifyInstance } from 'fastify';
import { describeError } from '../errors.js';
import type { EventName } from '../telemetry/conventions.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * What our HTTP servers answer when a request is refused: `{ status: 'rejected', reason }` with one of these
 * reasons (docs/telemetry.md). Fastify's own codes (`FST_ERR_CTP_BODY_TOO_LARGE`, …) name its internals;
 * they go into the log line's `detail`, never into the answer.
 */
export const HTTP_REASON = {
  UNAUTHORIZED: 'UNAUTHORIZED',
  MALFORMED_UPDATE: 'MALFORMED_UPDATE',
  BAD_REQUEST: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  DB_ERROR: 'DB_ERROR',
} as const;

export type HttpReason = (typeof HTTP_REASON)[keyof typeof HTTP_REASON];

/** The body of every health answer and refusal. */
export const statusSchema = {
  type: 'object',
  properties: { status: { type: 'string' }, reason: { type: 'string' } },
  required: ['status'],
} as const;

function reasonFor(status: number, malformedBody: HttpReason): HttpReason {
  if (status === 413) return HTTP_REASON.BODY_TOO_LARGE;
  if (status === 415) return HTTP_REASON.UNSUPPORTED_MEDIA_TYPE;
  if (status === 404) return HTTP_REASON.NOT_FOUND;
  if (status >= 400 && status < 500) return malformedBody;
  return HTTP_REASON.INTERNAL_ERROR;
}

export interface RejectionOptions {
  logger: Logger;
  /** The log event of a request refused on `path`. */
  event: (path: string) => EventName;
  /** What an unreadable body on `path` is called (an update that is not one, on the webhook). */
  malformedBody: (path: string) => HttpReason;
}

/**
 * Unknown routes, unparsable or oversized bodies and handlers that threw all end here: logged with a reason
 * and fastify's detail, answered with our reason only.
 */
export function answerRejectionsWithOurReasons(app: FastifyInstance, options: RejectionOptions): void {
  app.setErrorHandler((error: { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    const path = request.routeOptions.url ?? request.url.split('?')[0] ?? '';
    const reason = reasonFor(status, options.malformedBody(path));
    options.logger.warn(
      { event: options.event(path), reason, status, path, detail: error.code ?? describeError(error) },
      'HTTP request rejected',
    );
    void reply.code(status).send({ status: 'rejected', reason });
  });
  // Scanners probe paths all day: not worth a log line each, and the answer names nothing of ours.
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ status: 'rejected', reason: HTTP_REASON.NOT_FOUND });
  });
}
