import { randomBytes } from 'node:crypto';
import type { Meter } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { MODELS } from '../catalogue/models.js';
import type { Config } from '../config.js';
import { describeError, StoreError } from '../errors.js';
import type { Store } from '../store/index.js';
import { EVENT } from '../telemetry/conventions.js';
import type { Logger } from '../telemetry/logger.js';
import { CALLBACK_PATH, providerCallbackRoute } from './callback-route.js';
import { Generation, type JobNotifier } from './generation.js';
import { JobMetrics } from './job-metrics.js';
import { LOCAL_PROVIDER_PREFIX, localProvider } from './provider/local-provider.js';
import { createProviderClient } from './provider/provider-client.js';
import { type JobQueue, openJobQueue } from './queue.js';

export interface GenerationModuleDeps {
  config: Pick<Config, 'generation' | 'publicUrl'>;
  store: Store;
  http: FastifyInstance;
  logger: Logger;
  meter: Meter;
  notifier: JobNotifier;
  pseudonymize: (userId: number) => string;
  /** The HTTP server's own base URL, known once it listens. */
  httpUrl: () => string | undefined;
  /** pg-boss schema (tests sharing one PostgreSQL database give each app its own). */
  queueSchema?: string;
  now?: () => number;
}

export interface GenerationModule {
  readonly generation: Generation;
  /** Opens the pg-boss queue on the (open) store. */
  open(): Promise<void>;
  /** Starts the workers and the deadline sweep; once the HTTP server listens (callbacks come to it). */
  startWorkers(): Promise<void>;
  /** Stops the sweep and the workers: no new jobs are taken; running ones finish their step. */
  stopWorkers(): Promise<void>;
  /** Stops pg-boss, within `timeoutMs` (after the bot, whose last updates may still enqueue). */
  close(timeoutMs: number): Promise<void>;
}

/**
 * Wires generation from the config, without I/O: the provider adapter (a real provider at PROVIDER_URL, or
 * the built-in local one on this server), the callback route and, when the lifecycle opens it, the queue on
 * the store. Routes are registered here, before the HTTP server listens.
 */
export function createGenerationModule(deps: GenerationModuleDeps): GenerationModule {
  const { config, logger } = deps;
  const settings = config.generation;
  // Without a real provider the local one lives in this process: its key and secret never leave it.
  const local = settings.provider === undefined;
  const apiKey = settings.provider?.apiKey ?? randomBytes(24).toString('base64url');
  const callbackSecret = settings.provider?.callbackSecret ?? randomBytes(32).toString('base64url');
  const selfUrl = () => (deps.httpUrl() ?? '').replace('://0.0.0.0', '://127.0.0.1');
  const providerUrl = () => settings.provider?.url ?? `${selfUrl()}${LOCAL_PROVIDER_PREFIX}`;
  // A real provider must reach us from outside (PUBLIC_URL); the local one calls back over loopback.
  const callbackBase = () => (local ? selfUrl() : (config.publicUrl ?? selfUrl()));

  let queue: JobQueue | undefined;
  let working = false;
  let closing: Promise<void> | undefined;
  // Generate can be pressed once the bot runs; the queue opens before the bot starts taking updates.
  const openQueue = (): JobQueue => {
    if (!queue) throw new StoreError('job queue: not open', { detail: 'closed' });
    return queue;
  };

  const metrics = new JobMetrics(
    deps.meter,
    MODELS.map((model) => model.id),
  );
  const generation = new Generation({
    db: deps.store.db,
    queue: {
      enqueue: (tx, jobId) => openQueue().enqueue(tx, jobId),
      work: (handler) => openQueue().work(handler),
      stopWorking: () => openQueue().stopWorking(),
      stop: (timeoutMs) => openQueue().stop(timeoutMs),
    },
    ledger: deps.store.ledger,
    provider: createProviderClient({ baseUrl: providerUrl, apiKey: () => apiKey, metrics }),
    notifier: deps.notifier,
    logger,
    metrics,
    pseudonymize: deps.pseudonymize,
    jobTimeoutS: settings.jobTimeoutS,
    callbackUrl: (jobId) => `${callbackBase()}${CALLBACK_PATH}?job=${jobId}`,
    ...(deps.now ? { now: deps.now } : {}),
  });

  void deps.http.register(
    providerCallbackRoute({
      secret: callbackSecret,
      logger,
      handle: (jobId, payload, traceparent) => generation.onCallback(jobId, payload, traceparent),
      ...(deps.now ? { now: deps.now } : {}),
    }),
  );
  if (local) {
    void deps.http.register(
      localProvider({
        apiKey,
        callbackSecret,
        delayMs: settings.localProvider.delayMs,
        fault: settings.localProvider.fault,
        publicBase: selfUrl,
        logger,
      }),
      { prefix: LOCAL_PROVIDER_PREFIX },
    );
  }

  return {
    generation,
    async open() {
      queue = await openJobQueue({
        connection: deps.store.connection(),
        ...(deps.queueSchema ? { schema: deps.queueSchema } : {}),
        concurrency: settings.workerConcurrency,
        expireInSeconds: settings.jobTimeoutS,
        onError: (error) =>
          logger.error({ event: EVENT.QUEUE_ERROR, detail: describeError(error) }, 'job queue error'),
        onWarning: (warning) =>
          logger.warn({ event: EVENT.QUEUE_ERROR, detail: warning.message }, 'job queue warning'),
      });
    },
    async startWorkers() {
      await openQueue().work((jobId) => generation.run(jobId));
      working = true;
      generation.startSweeping();
    },
    async stopWorkers() {
      await generation.stopSweeping();
      if (working) await queue?.stopWorking();
    },
    close(timeoutMs) {
      closing ??= queue?.stop(timeoutMs) ?? Promise.resolve();
      return closing;
    },
  };
}
