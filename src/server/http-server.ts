import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Update } from 'grammy/types';
import { EVENT } from '../telemetry/conventions.js';
import type { Logger } from '../telemetry/logger.js';
import { answerRejectionsWithOurReasons, HTTP_REASON, statusSchema } from './rejections.js';
import { type TracePageDeps, tracePageRoute } from './trace-page-route.js';

/** Telegram sends updates well under this; anything larger is not an update. */
export const WEBHOOK_BODY_LIMIT_BYTES = 256 * 1024;
export const WEBHOOK_PATH = '/telegram/webhook';
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

export interface HttpServerDeps {
  logger: Logger;
  /** Resolves when the store answers; throws otherwise. */
  checkReady: () => Promise<void>;
  /**
   * Present in webhook mode only: the secret Telegram must echo, and where updates go. `handleUpdate`
   * throws only when the update could not be handled at all; the route then answers 500 so Telegram retries.
   */
  webhook?: {
    secret: string;
    /** Resolves with a Bot API call (JSON with its `method`) to answer the request with, or undefined. */
    handleUpdate: (update: Update) => Promise<string | undefined>;
  };
  /** The signed trace page `/debug/traces/:cid` (admins reach it through /debug's links). */
  tracePage?: Omit<TracePageDeps, 'logger'>;
}

/**
 * Health, readiness and (in webhook mode) the Telegram webhook; `/metrics` has its own listener
 * (metrics-server.ts). Request logging is off: every update already has its own trace and log lines.
 */
export function createHttpServer(deps: HttpServerDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: WEBHOOK_BODY_LIMIT_BYTES });

  // Oversized or unparsable bodies, and updates the bot could not even start on (Telegram retries a 5xx).
  answerRejectionsWithOurReasons(app, {
    logger: deps.logger,
    event: (path) => (path === WEBHOOK_PATH ? EVENT.WEBHOOK_REJECTED : EVENT.HTTP_ERROR),
    malformedBody: (path) => (path === WEBHOOK_PATH ? HTTP_REASON.MALFORMED_UPDATE : HTTP_REASON.BAD_REQUEST),
  });

  app.get('/healthz', { schema: { response: { 200: statusSchema } } }, async () => ({ status: 'alive' }));

  app.get(
    '/readyz',
    { schema: { response: { 200: statusSchema, 503: statusSchema } } },
    async (_request, reply) => {
      try {
        await deps.checkReady();
        return { status: 'ready' };
      } catch {
        return reply.code(503).send({ status: 'unavailable', reason: HTTP_REASON.DB_ERROR });
      }
    },
  );

  if (deps.tracePage) void app.register(tracePageRoute, { ...deps.tracePage, logger: deps.logger });

  const webhook = deps.webhook;
  if (webhook) {
    const expected = Buffer.from(webhook.secret);
    app.post<{ Body: Update }>(
      WEBHOOK_PATH,
      {
        schema: {
          body: {
            type: 'object',
            required: ['update_id'],
            properties: { update_id: { type: 'integer', minimum: 0 } },
          },
          response: { 200: statusSchema, 400: statusSchema, 401: statusSchema },
        },
        attachValidation: true,
        // The secret is checked before the body is even parsed: a forged request learns nothing.
        onRequest: async (request, reply) => {
          const given = request.headers[SECRET_HEADER];
          const provided = Buffer.from(typeof given === 'string' ? given : '');
          if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
            deps.logger.warn(
              {
                event: EVENT.WEBHOOK_REJECTED,
                reason: given === undefined ? 'secret missing' : 'secret wrong',
                status: 401,
              },
              'webhook request without the right secret',
            );
            return reply.code(401).send({ status: 'rejected', reason: HTTP_REASON.UNAUTHORIZED });
          }
        },
      },
      async (request, reply) => {
        if (request.validationError) {
          deps.logger.warn(
            { event: EVENT.MALFORMED_UPDATE, reason: 'body is not a Telegram update', status: 400 },
            'malformed update rejected',
          );
          return reply.code(400).send({ status: 'rejected', reason: HTTP_REASON.MALFORMED_UPDATE });
        }
        const call = await webhook.handleUpdate(request.body);
        // Telegram runs a method call found in the answer (https://core.telegram.org/bots/api#making-requests-when-getting-updates).
        if (call !== undefined) return reply.type('application/json').send(call);
        return { status: 'ok' };
      },
    );
  }
  return app;
}
