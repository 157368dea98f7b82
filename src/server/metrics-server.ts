import Fastify, { type FastifyInstance } from 'fastify';
import { EVENT } from '../telemetry/conventions.js';
import type { Logger } from '../telemetry/logger.js';
import { type AdminApiDeps, adminApi } from './admin-api.js';
import { answerRejectionsWithOurReasons, HTTP_REASON } from './rejections.js';

export interface MetricsServerDeps {
  logger: Logger;
  /** The Prometheus text exposition of the app's metrics. */
  renderMetrics: () => Promise<string>;
  /** The admin API for `npm run diagnose`/`replay`; present only when ADMIN_API_TOKEN is set. */
  adminApi?: Omit<AdminApiDeps, 'logger'>;
}

/**
 * `GET /metrics` and, with ADMIN_API_TOKEN, the admin API on their own listener (METRICS_HOST:METRICS_PORT,
 * loopback by default), so the port that faces Telegram's webhook calls serves no internals. Scrapes are
 * not logged.
 */
export function createMetricsServer(deps: MetricsServerDeps): FastifyInstance {
  const app = Fastify({ logger: false });
  answerRejectionsWithOurReasons(app, {
    logger: deps.logger,
    event: () => EVENT.HTTP_ERROR,
    malformedBody: () => HTTP_REASON.BAD_REQUEST,
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(await deps.renderMetrics()),
  );
  if (deps.adminApi) void app.register(adminApi, { ...deps.adminApi, logger: deps.logger });
  return app;
}
