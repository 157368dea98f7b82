import { randomUUID } from 'node:crypto';
import { context, ROOT_CONTEXT, type Span, SpanKind, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { GrammyError } from 'grammy';
import { classifyError } from '../error-classifier.js';
import { describeError, ProviderError } from '../errors.js';
import type { Db, Ledger } from '../store/index.js';
import { ATTR, EVENT, SPAN } from '../telemetry/conventions.js';
import type { Logger } from '../telemetry/logger.js';
import type { ReasonCode } from '../telemetry/reason-codes.js';
import { inSpan, recordFailure, tracer } from '../telemetry/tracer.js';
import type { JobMetrics } from './job-metrics.js';
import {
  type DeliveredFile,
  type FinalState,
  type HistoryEntry,
  type Job,
  type JobInput,
  jobStore,
  type OpenState,
} from './job-store.js';
import type { CallbackPayload } from './provider/contract.js';
import type { ProviderClient, ProviderResult } from './provider/provider-client.js';
import type { JobQueue } from './queue.js';
import { activeTraceparent, contextOf, spanContextOf } from './trace-context.js';

/** A submit never waits longer than this, however far the job's deadline is. */
const SUBMIT_TIMEOUT_MAX_MS = 30_000;
const RESULT_TIMEOUT_MS = 30_000;
/** Extra time a job whose result is being sent gets past its deadline before the sweep fails it. */
const DELIVERY_GRACE_S = 300;
const SWEEP_BATCH = 20;

/** What the bot does for a job in the chat: progress, the result, the bad news. */
export interface JobNotifier {
  /** Best effort: a chat action and the status line saying the job is being generated. */
  progress(job: Job): Promise<void>;
  /**
   * Sends the result (sendPhoto / sendDocument) with its Repeat button; returns Telegram's copy of the file
   * (for History). Throws what the Bot API threw.
   */
  deliver(job: Job, result: ProviderResult): Promise<DeliveredFile | undefined>;
  /** Tells the user the job failed, why, that it was refunded, and the support code. Throws on failure. */
  failed(job: Job, reasonCode: ReasonCode): Promise<void>;
}

export interface Order {
  userId: number;
  chatId: number;
  model: string;
  input: JobInput;
  price: number;
  locale: string;
  /** The delivered job whose Repeat button placed this order. */
  repeatOf?: string;
}

export type CreateResult =
  | { ok: true; job: Job }
  /** REPEAT_OPEN: the result being repeated already has a repeat queued (a double tap on Repeat). */
  | { ok: false; reasonCode: 'INSUFFICIENT_FUNDS' | 'REPEAT_OPEN' };

/** Thrown inside create's transaction to roll the reservation back with the refused insert. */
class RepeatAlreadyOpen extends Error {}
export type CallbackResult = 'accepted' | 'duplicate' | 'unknown';

export interface GenerationDeps {
  db: Db;
  queue: JobQueue;
  ledger: Ledger;
  provider: ProviderClient;
  notifier: JobNotifier;
  logger: Logger;
  metrics: JobMetrics;
  pseudonymize: (userId: number) => string;
  /** JOB_TIMEOUT_S: from Generate to the result. */
  jobTimeoutS: number;
  /** Where the provider calls back for a job. */
  callbackUrl: (jobId: string) => string;
  now?: () => number;
}

/**
 * A generation job from the press of Generate to the result: reserve + create + enqueue in one transaction,
 * a worker submits to the provider, the provider's callback delivers the result and charges, and every
 * failure (provider error, timeout, no callback by the deadline, the user blocked the bot) refunds once.
 * Each step runs in the trace of the Generate update (the job stores its traceparent); only the deadline
 * sweep starts traces of its own, linked to the job's.
 */
export class Generation {
  readonly #deps: GenerationDeps;
  readonly #now: () => number;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(deps: GenerationDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** Called in the update that pressed Generate: the job's trace is this update's trace. */
  async create(order: Order): Promise<CreateResult> {
    const { db, ledger, queue, logger } = this.#deps;
    return inSpan(
      SPAN.JOB_ENQUEUE,
      { attributes: { [ATTR.JOB_MODEL]: order.model, [ATTR.JOB_PRICE]: order.price } },
      async (span) => {
        const id = randomUUID();
        span.setAttribute(ATTR.JOB_ID, id);
        const cid = span.spanContext().traceId;
        if (order.repeatOf) span.setAttribute(ATTR.JOB_REPEAT_OF, order.repeatOf);
        const created = await db
          .transaction(async (tx): Promise<Job | 'INSUFFICIENT_FUNDS' | undefined> => {
            const reserved = await ledger.reserve(
              { userId: order.userId, amount: order.price, jobId: id, cid },
              tx,
            );
            if (reserved.status !== 'reserved') return 'INSUFFICIENT_FUNDS';
            const inserted = await jobStore.create(tx, {
              id,
              ...order,
              traceparent: activeTraceparent(),
              cid,
              deadlineAt: new Date(this.#now() + this.#deps.jobTimeoutS * 1000),
            });
            if (!inserted) throw new RepeatAlreadyOpen();
            await queue.enqueue(tx, id);
            return jobStore.get(tx, id);
          })
          .catch((error: unknown): 'REPEAT_OPEN' => {
            if (error instanceof RepeatAlreadyOpen) return 'REPEAT_OPEN';
            throw error;
          });
        if (created === undefined) throw new Error(`job ${id} vanished inside its own transaction`);
        if (typeof created === 'string') return { ok: false, reasonCode: created } as const;
        logger.info(
          { event: EVENT.JOB_ENQUEUED, job_id: id, model: order.model, price: order.price },
          'generation job enqueued',
        );
        return { ok: true, job: created } as const;
      },
    );
  }

  /** A page of the user's History: `pageSize + 1` entries are read, so the caller knows if another follows. */
  history(userId: number, page: number, pageSize: number): Promise<HistoryEntry[]> {
    return jobStore.history(this.#deps.db, userId, pageSize + 1, page * pageSize);
  }

  /** One of the user's jobs (History's entries, Repeat's source); undefined for anyone else's. */
  jobOf(userId: number, jobId: string): Promise<HistoryEntry | undefined> {
    return jobStore.ofUser(this.#deps.db, jobId, userId);
  }

  /** The queue worker: runs inside pg-boss's `process generation` span, which continues the job's trace. */
  async run(jobId: string): Promise<void> {
    const { db, logger, provider } = this.#deps;
    const job = await jobStore.take(db, jobId);
    if (!job) {
      logger.info({ event: EVENT.JOB_SKIPPED, job_id: jobId }, 'job already taken or settled');
      return;
    }
    this.#describe(trace.getActiveSpan(), job);
    logger.info({ event: EVENT.JOB_STARTED, job_id: job.id, model: job.model }, 'generation job started');
    await this.#notifyProgress(job);

    const timeoutMs = Math.max(1000, Math.min(SUBMIT_TIMEOUT_MAX_MS, job.deadlineAt.getTime() - this.#now()));
    let taskId: string;
    try {
      taskId = await provider.submit(
        {
          model: job.model,
          input: { prompt: job.input.prompt, ...job.input.options },
          callback_url: this.#deps.callbackUrl(job.id),
        },
        timeoutMs,
      );
    } catch (error) {
      await this.#fail(job, ['running'], 'failed', reasonOf(error), error);
      return;
    }
    trace.getActiveSpan()?.setAttribute(ATTR.PROVIDER_TASK_ID, taskId);
    // Undefined when a fast callback (or the sweep) moved the job on first: nothing left to record.
    await jobStore.submitted(db, job.id, taskId);
    logger.info(
      { event: EVENT.PROVIDER_SUBMITTED, job_id: job.id, model: job.model, task_id: taskId },
      'task submitted to the provider',
    );
  }

  /**
   * An authenticated provider callback. `jobId` comes from the callback URL we gave the provider; a
   * task id that does not match the job's is refused as unknown.
   */
  async onCallback(
    jobId: string | undefined,
    payload: CallbackPayload,
    incomingTraceparent: string | undefined,
  ): Promise<CallbackResult> {
    const { db, logger } = this.#deps;
    const job = jobId ? await jobStore.get(db, jobId) : await jobStore.byTaskId(db, payload.task_id);
    if (!job || (job.providerTaskId !== undefined && job.providerTaskId !== payload.task_id))
      return 'unknown';

    const incoming = spanContextOf(incomingTraceparent);
    const links = incoming && incoming.traceId !== job.cid ? [{ context: incoming }] : [];
    return tracer.startActiveSpan(
      SPAN.PROVIDER_CALLBACK,
      {
        kind: SpanKind.SERVER,
        links,
        attributes: { [ATTR.PROVIDER_TASK_ID]: payload.task_id, [ATTR.PROVIDER_STATE]: payload.state },
      },
      contextOf(job.traceparent),
      async (span) => {
        try {
          this.#describe(span, job);
          logger.info(
            {
              event: EVENT.PROVIDER_CALLBACK,
              job_id: job.id,
              task_id: payload.task_id,
              state: payload.state,
            },
            'provider callback',
          );
          const result = await this.#settleCallback(job, payload);
          span.setAttribute(ATTR.PROVIDER_DUPLICATE, result === 'duplicate');
          if (result === 'duplicate') {
            logger.info(
              { event: EVENT.PROVIDER_CALLBACK_DUPLICATE, job_id: job.id, task_id: payload.task_id },
              'callback for a task already settled: ignored',
            );
          }
          return result;
        } catch (error) {
          recordFailure(span, error);
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  async #settleCallback(job: Job, payload: CallbackPayload): Promise<CallbackResult> {
    if (payload.state === 'fail') {
      const failed = await this.#fail(
        job,
        ['running', 'submitted'],
        'failed',
        'PROVIDER_ERROR',
        new ProviderError('task_failed', `provider failed the task (${payload.error.code})`),
      );
      return failed ? 'accepted' : 'duplicate';
    }
    const url = payload.result_urls[0];
    if (url === undefined) {
      const failed = await this.#fail(
        job,
        ['running', 'submitted'],
        'failed',
        'PROVIDER_ERROR',
        new ProviderError('bad_response', 'provider reported success without a result'),
      );
      return failed ? 'accepted' : 'duplicate';
    }
    const delivering = await jobStore.resultArrived(this.#deps.db, job.id, payload.task_id, url);
    if (!delivering) return 'duplicate';
    await this.#deliver(delivering);
    return 'accepted';
  }

  async #deliver(job: Job): Promise<void> {
    const { db, ledger, logger, metrics, notifier, provider } = this.#deps;
    await inSpan(SPAN.JOB_DELIVER, { attributes: { [ATTR.JOB_ID]: job.id } }, async () => {
      let result: ProviderResult;
      try {
        result = await provider.fetchResult(job.resultUrl ?? '', RESULT_TIMEOUT_MS);
      } catch (error) {
        await this.#fail(job, ['delivering'], 'failed', reasonOf(error), error);
        return;
      }
      let file: DeliveredFile | undefined;
      try {
        file = await notifier.deliver(job, result);
      } catch (error) {
        if (error instanceof GrammyError && error.error_code === 403) {
          // The user blocked the bot: retrying cannot help, and telling them is impossible.
          logger.warn(
            {
              event: EVENT.JOB_UNDELIVERABLE,
              job_id: job.id,
              error_code: 403,
              description: error.description,
            },
            'result undeliverable: the user blocked the bot',
          );
          await this.#fail(job, ['delivering'], 'undeliverable', 'BOT_BLOCKED', error);
        } else {
          await this.#fail(job, ['delivering'], 'failed', 'INTERNAL_ERROR', error);
        }
        return;
      }
      const cid = currentTraceId() ?? job.cid;
      const delivered = await db.transaction(async (tx) => {
        const finished = await jobStore.delivered(tx, job.id, file);
        if (finished) await ledger.charge({ jobId: job.id, cid }, tx);
        return finished;
      });
      if (!delivered) return;
      metrics.jobEnded(job.model, 'SUCCESS', this.#ageS(job));
      logger.info(
        { event: EVENT.RESULT_DELIVERED, job_id: job.id, model: job.model, price: job.price },
        'result delivered and charged',
      );
    });
  }

  /**
   * Ends a job that failed, from one of the states it may be in, and refunds its reservation in the same
   * transaction: whoever wins the state change refunds, so a job is refunded exactly once however many
   * callbacks, workers and sweeps race for it. Returns whether this call ended the job.
   */
  async #fail(
    job: Job,
    from: readonly OpenState[],
    to: Exclude<FinalState, 'delivered'>,
    reasonCode: ReasonCode,
    cause?: unknown,
  ): Promise<boolean> {
    const { db, ledger, logger, metrics, notifier } = this.#deps;
    return inSpan(
      SPAN.JOB_FAIL,
      { attributes: { [ATTR.JOB_ID]: job.id, [ATTR.REASON_CODE]: reasonCode } },
      async (span) => {
        if (cause !== undefined && reasonCode !== 'BOT_BLOCKED') {
          recordFailure(span, cause);
        }
        const cid = currentTraceId() ?? job.cid;
        const outcome = await db.transaction(async (tx) => {
          const finished = await jobStore.finish(tx, job.id, from, to, reasonCode);
          if (!finished) return undefined;
          const refund = await ledger.refund({ jobId: job.id, cid }, tx);
          return { finished, refunded: refund.status === 'refunded' };
        });
        if (!outcome) return false;
        metrics.jobEnded(job.model, reasonCode, this.#ageS(job));
        logger.warn(
          {
            event: EVENT.JOB_FAILED,
            job_id: job.id,
            model: job.model,
            state: to,
            reason_code: reasonCode,
            ...(cause === undefined ? {} : { detail: describeError(cause) }),
          },
          'generation job failed',
        );
        if (outcome.refunded) {
          metrics.refunded(reasonCode);
          logger.info(
            { event: EVENT.REFUNDED, job_id: job.id, amount: job.price, reason_code: reasonCode },
            'job reservation refunded',
          );
        }
        if (reasonCode !== 'BOT_BLOCKED') {
          try {
            await notifier.failed(outcome.finished, reasonCode);
          } catch (error) {
            logger.warn(
              { event: EVENT.JOB_NOTIFY_FAILED, job_id: job.id, detail: describeError(error) },
              'could not tell the user their job failed',
            );
          }
        }
        return true;
      },
    );
  }

  /** Fails every open job past its deadline with DOWNSTREAM_TIMEOUT; each in a trace linked to the job's. */
  async sweep(): Promise<void> {
    const { db, logger, metrics } = this.#deps;
    const now = new Date(this.#now());
    // The poll itself is untraced: a span every tick would bury the traces that matter.
    const [expired, backlog] = await context.with(suppressTracing(ROOT_CONTEXT), () =>
      Promise.all([jobStore.expired(db, now, DELIVERY_GRACE_S, SWEEP_BATCH), jobStore.backlog(db, now)]),
    );
    metrics.backlog(backlog);
    for (const job of expired) {
      const link = spanContextOf(job.traceparent);
      await tracer.startActiveSpan(
        SPAN.JOB_SWEEP,
        { root: true, links: link ? [{ context: link }] : [], attributes: { [ATTR.JOB_STATE]: job.state } },
        ROOT_CONTEXT,
        async (span) => {
          try {
            this.#describe(span, job);
            logger.warn(
              { event: EVENT.JOB_EXPIRED, job_id: job.id, state: job.state, job_cid: job.cid },
              'job passed its deadline',
            );
            await this.#fail(
              job,
              ['queued', 'running', 'submitted', 'delivering'],
              'failed',
              'DOWNSTREAM_TIMEOUT',
              new ProviderError(
                'timeout',
                `no result within ${this.#deps.jobTimeoutS} s (job was ${job.state})`,
              ),
            );
          } catch (error) {
            recordFailure(span, error);
            logger.error(
              { event: EVENT.JOB_FAILED, job_id: job.id, detail: describeError(error) },
              'sweep failed',
            );
          } finally {
            span.end();
          }
        },
      );
    }
  }

  /** Starts the sweep timer: every quarter of the job timeout, between 0.25 and 15 s. */
  startSweeping(): void {
    const everyMs = Math.min(15_000, Math.max(250, (this.#deps.jobTimeoutS * 1000) / 4));
    this.#sweepTimer = setInterval(() => {
      if (this.#sweeping) return;
      this.#sweeping = this.sweep()
        .catch((error: unknown) =>
          this.#deps.logger.error(
            { event: EVENT.QUEUE_ERROR, detail: describeError(error) },
            'job sweep failed',
          ),
        )
        .finally(() => {
          this.#sweeping = undefined;
        });
    }, everyMs);
    this.#sweepTimer.unref();
  }

  async stopSweeping(): Promise<void> {
    clearInterval(this.#sweepTimer);
    await this.#sweeping;
  }

  async #notifyProgress(job: Job): Promise<void> {
    try {
      await this.#deps.notifier.progress(job);
    } catch (error) {
      this.#deps.logger.info(
        { event: EVENT.JOB_NOTIFY_FAILED, job_id: job.id, detail: describeError(error) },
        'progress not shown',
      );
    }
  }

  #describe(span: Span | undefined, job: Job): void {
    span?.setAttributes({
      [ATTR.JOB_ID]: job.id,
      [ATTR.JOB_MODEL]: job.model,
      [ATTR.USER_PSEUDONYM]: this.#deps.pseudonymize(job.userId),
    });
  }

  #ageS(job: Job): number {
    return Math.max(0, (this.#now() - job.createdAt.getTime()) / 1000);
  }
}

function reasonOf(error: unknown): ReasonCode {
  return classifyError(error).reasonCode;
}

function currentTraceId(): string | undefined {
  return trace.getActiveSpan()?.spanContext().traceId;
}
