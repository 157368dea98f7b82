import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { fromPglite, PgBoss } from 'pg-boss';
import type { Queryable, StoreConnection } from '../store/index.js';

/** The pg-boss queue that carries generation job ids to workers. */
export const GENERATION_QUEUE = 'generation';
/** pg-boss's own schema; tests sharing one PostgreSQL database give each app its own. */
export const DEFAULT_QUEUE_SCHEMA = 'pgboss';

export interface JobQueueOptions {
  /** Its own pool on PostgreSQL, or the store's one PGlite instance. */
  connection: StoreConnection;
  schema?: string;
  /** Jobs this process works at once (WORKER_CONCURRENCY). */
  concurrency: number;
  /** How long pg-boss lets one worker hold a job before it counts as abandoned. */
  expireInSeconds: number;
  /** pg-boss reports errors of its background work (maintenance, polling) as events. */
  onError: (error: Error) => void;
  onWarning: (warning: { message: string }) => void;
}

export interface JobQueue {
  /** Adds a job id to the queue inside the caller's transaction: it is visible to workers only on commit. */
  enqueue(tx: Queryable, jobId: string): Promise<void>;
  /** Starts this process's workers; each job id is handed to exactly one of them. */
  work(handler: (jobId: string) => Promise<void>): Promise<void>;
  /** Stops this process's workers: no new jobs are taken; resolves when the running ones have finished. */
  stopWorking(): Promise<void>;
  /** Stops pg-boss (graceful), up to `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

interface JobData {
  jobId: string;
}

/**
 * pg-boss on the store's database. On PGlite it runs through pg-boss's own `fromPglite` adapter, which keeps
 * LISTEN/NOTIFY (a hand-made adapter falls back to slow polling). pg-boss's OpenTelemetry support stores
 * the W3C trace context on each job, so the worker's `process generation` span continues the trace of the
 * update that enqueued it.
 */
export async function openJobQueue(options: JobQueueOptions): Promise<JobQueue> {
  const schema = options.schema ?? DEFAULT_QUEUE_SCHEMA;
  const telemetry = { propagateContext: true, propagator: new W3CTraceContextPropagator() };
  const connection = options.connection;
  const boss =
    'pglite' in connection
      ? new PgBoss({
          db: fromPglite(connection.pglite),
          backend: 'pglite',
          schema,
          useListenNotify: true,
          openTelemetry: telemetry,
        })
      : new PgBoss({
          connectionString: connection.databaseUrl,
          application_name: 'tracegram-queue',
          schema,
          max: 4,
          useListenNotify: true,
          openTelemetry: telemetry,
        });
  // An EventEmitter 'error' without a listener would crash the process.
  boss.on('error', options.onError);
  boss.on('warning', options.onWarning);
  await boss.start();
  // Failures are the job's business (refund, tell the user), not pg-boss's: no retries of a paid job.
  await boss.createQueue(GENERATION_QUEUE, {
    retryLimit: 0,
    expireInSeconds: options.expireInSeconds,
    notify: true,
  });

  return {
    async enqueue(tx, jobId) {
      const data: JobData = { jobId };
      await boss.send(GENERATION_QUEUE, data, {
        // The same transaction as the job row and the reservation: all three commit, or none.
        db: {
          executeSql: (text, values) => tx.query(text, values ?? [], { operation: 'INSERT', table: 'job' }),
        },
      });
    },

    async work(handler) {
      await boss.work<JobData>(
        GENERATION_QUEUE,
        {
          batchSize: 1,
          localConcurrency: options.concurrency,
          // NOTIFY wakes only idle workers; one that finishes a job waits this long before it fetches again
          // (pg-boss's notify default is 30 s), so a backlog drains at `concurrency` jobs per half second.
          pollingIntervalSeconds: 0.5,
          notifyPollingIntervalSeconds: 0.5,
        },
        async ([job]) => {
          if (job) await handler(job.data.jobId);
        },
      );
    },

    async stopWorking() {
      await boss.offWork(GENERATION_QUEUE, { wait: true });
    },

    async stop(timeoutMs = 5000) {
      await boss.stop({ graceful: true, timeout: timeoutMs });
    },
  };
}
