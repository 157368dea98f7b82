import type { FastifyInstance } from 'fastify';
import { type LinkSigner, TRACE_PAGE_PREFIX } from '../debug/signed-link.js';
import { EVENT } from '../telemetry/conventions.js';
import type { Logger } from '../telemetry/logger.js';

export interface TracePageDeps {
  signer: LinkSigner;
  /** The page of one kept trace, or undefined when this process no longer keeps it. */
  render: (cid: string) => string | undefined;
  logger: Logger;
}

/** The page is self-contained: nothing may load from elsewhere, and nothing it shows is cached. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

/** `GET /debug/traces/:cid?exp=…&sig=…`: reachable only through a link /debug signed; anything else is 403. */
export async function tracePageRoute(app: FastifyInstance, deps: TracePageDeps): Promise<void> {
  app.get<{ Params: { cid: string }; Querystring: { exp?: string; sig?: string } }>(
    `${TRACE_PAGE_PREFIX}:cid`,
    {
      schema: {
        params: { type: 'object', properties: { cid: { type: 'string', pattern: '^[0-9a-f]{32}$' } } },
        querystring: {
          type: 'object',
          properties: { exp: { type: 'string', maxLength: 16 }, sig: { type: 'string', maxLength: 64 } },
        },
      },
      attachValidation: true,
    },
    async (request, reply) => {
      const { cid } = request.params;
      const check = request.validationError
        ? ({ ok: false, reason: 'forged' } as const)
        : deps.signer.verify(cid, request.query.exp, request.query.sig);
      if (!check.ok) {
        deps.logger.warn(
          { event: EVENT.DEBUG_LINK_REJECTED, reason: check.reason, status: 403 },
          'trace page link refused',
        );
        return reply
          .code(403)
          .headers(PAGE_HEADERS)
          .send(errorPage('This link is not valid (or has expired). Ask /debug for a fresh one.'));
      }
      const page = deps.render(cid);
      if (page === undefined) {
        return reply
          .code(404)
          .headers(PAGE_HEADERS)
          .send(
            errorPage(
              'This trace is no longer kept by this instance. Use the Grafana links, or npm run diagnose.',
            ),
          );
      }
      return reply.headers(PAGE_HEADERS).send(page);
    },
  );
}

function errorPage(text: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Trace</title></head><body><p>${text}</p></body></html>`;
}
