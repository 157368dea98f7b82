import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_API_PATH } from '../debug/admin-api-source.js';
import type { LocalTraceSource } from '../debug/local-source.js';
import { parseSupportCode } from '../debug/support-code.js';
import { EVENT } from '../telemetry/conventions.js';
import type { Logger } from '../telemetry/logger.js';

export interface AdminApiDeps {
  /** ADMIN_API_TOKEN; the routes exist only when it is set. */
  token: string;
  traces: LocalTraceSource;
  pseudonymize: (userId: number) => string;
  logger: Logger;
  now?: () => number;
}

const MAX_USER_TRACES = 200;

/**
 * The bot's in-process traces for `npm run diagnose` and `npm run replay` when no Tempo/Loki is at hand.
 * Served behind a bearer token (ADMIN_API_TOKEN; unset: not served at all); a wrong or missing token is a
 * 401 and a log line. Answers carry pseudonyms only: a user is looked up by id, and the id is turned
 * into its pseudonym here, so the caller never needs the key.
 */
export async function adminApi(app: FastifyInstance, deps: AdminApiDeps): Promise<void> {
  const expected = Buffer.from(deps.token);
  const authorised = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
    deps.logger.warn(
      { event: EVENT.ADMIN_API_REJECTED, reason: header ? 'token wrong' : 'token missing', status: 401 },
      'admin API request without the right token',
    );
    return reply.code(401).send({ status: 'rejected', reason: 'UNAUTHORIZED' });
  };

  app.get<{ Params: { code: string } }>(
    `${ADMIN_API_PATH.TRACE}:code`,
    {
      onRequest: authorised,
      schema: { params: { type: 'object', properties: { code: { type: 'string', maxLength: 64 } } } },
    },
    async (request, reply) => {
      const code = parseSupportCode(request.params.code);
      if (!code) return reply.code(400).send({ status: 'rejected', reason: 'not a support code' });
      const lookup = deps.traces.lookup(code);
      if (lookup.status === 'not-found') return reply.code(404).send(lookup);
      return lookup;
    },
  );

  app.get<{ Params: { user: string }; Querystring: { since?: number; limit?: number } }>(
    `${ADMIN_API_PATH.USER_TRACES}:user/traces`,
    {
      onRequest: authorised,
      schema: {
        params: {
          type: 'object',
          properties: { user: { type: 'string', pattern: '^(\\d{1,15}|u_[A-Za-z0-9_-]{16})$' } },
        },
        querystring: {
          type: 'object',
          properties: {
            since: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_USER_TRACES },
          },
        },
      },
    },
    async (request) => {
      const { user } = request.params;
      const pseudonym = user.startsWith('u_') ? user : deps.pseudonymize(Number(user));
      const since = request.query.since ?? (deps.now ?? Date.now)() - 60 * 60 * 1000;
      return { pseudonym, traces: deps.traces.userTracesNow(pseudonym, since, request.query.limit ?? 50) };
    },
  );
}
