import type { FastifyPluginAsync } from 'fastify';
import { EVENT } from '../telemetry/conventions.js';
import type { Logger } from '../telemetry/logger.js';
import type { CallbackResult } from './generation.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyCallback } from './provider/callback-signature.js';
import { type CallbackPayload, callbackBodySchema } from './provider/contract.js';

export const CALLBACK_PATH = '/provider/callback';

export interface CallbackRouteOptions {
  secret: string;
  logger: Logger;
  handle: (
    jobId: string | undefined,
    payload: CallbackPayload,
    traceparent: string | undefined,
  ) => Promise<CallbackResult>;
  now?: () => number;
}

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received: the signature covers these bytes, not a re-serialisation. */
    rawBody?: string;
  }
}

/**
 * `POST /provider/callback`: the signature (HMAC-SHA256 of timestamp and raw body) is checked before the
 * body is looked at; a missing, wrong or replayed one is a 401 and a PROVIDER_CALLBACK_REJECTED line.
 * Encapsulated: its raw-body JSON parser applies to this route only.
 */
export function providerCallbackRoute(options: CallbackRouteOptions): FastifyPluginAsync {
  const now = options.now ?? Date.now;
  return async (app) => {
    app.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (request, body, done) => {
        request.rawBody = body as string;
        try {
          done(null, JSON.parse(body as string));
        } catch {
          done(
            Object.assign(new Error('callback body is not JSON'), {
              statusCode: 400,
              code: 'MALFORMED_CALLBACK',
            }),
          );
        }
      },
    );

    app.post<{ Body: CallbackPayload; Querystring: { job?: string } }>(
      CALLBACK_PATH,
      {
        schema: {
          body: callbackBodySchema,
          querystring: { type: 'object', properties: { job: { type: 'string', pattern: JOB_ID.source } } },
        },
        // After parsing (the signature needs the raw body), before validation: a forged request learns nothing.
        preValidation: async (request, reply) => {
          const header = (name: string) => {
            const value = request.headers[name];
            return typeof value === 'string' ? value : undefined;
          };
          const check = verifyCallback(
            options.secret,
            { signature: header(SIGNATURE_HEADER), timestamp: header(TIMESTAMP_HEADER) },
            request.rawBody ?? '',
            now(),
          );
          if (!check.ok) {
            options.logger.warn(
              { event: EVENT.PROVIDER_CALLBACK_REJECTED, reason: check.reason, status: 401 },
              'provider callback refused',
            );
            return reply.code(401).send({ status: 'rejected', reason: 'UNAUTHORIZED' });
          }
        },
      },
      async (request, reply) => {
        const payload = request.body;
        if (payload.state === 'success' && !Array.isArray(payload.result_urls)) {
          return reply.code(400).send({ status: 'rejected', reason: 'MALFORMED_CALLBACK' });
        }
        if (payload.state === 'fail' && typeof payload.error !== 'object') {
          (payload as { error: { code: string; message: string } }).error = { code: 'unknown', message: '' };
        }
        const traceparent = request.headers.traceparent;
        const result = await options.handle(
          request.query.job,
          payload,
          typeof traceparent === 'string' ? traceparent : undefined,
        );
        if (result === 'unknown') {
          options.logger.warn(
            { event: EVENT.PROVIDER_CALLBACK_REJECTED, reason: 'unknown task', status: 404 },
            'provider callback for a task we do not know',
          );
          return reply.code(404).send({ status: 'rejected', reason: 'UNKNOWN_TASK' });
        }
        return { status: result };
      },
    );
  };
}
