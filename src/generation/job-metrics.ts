import type { Meter } from '@opentelemetry/api';
import { LABEL, METRIC } from '../telemetry/conventions.js';
import { outcomeOf, type ReasonCode } from '../telemetry/reason-codes.js';
import { safely } from '../telemetry/safely.js';
import { OPEN_STATES, type OpenState } from './job-store.js';

/** Seconds: from a fast local generation to a slow video model near its deadline. */
const JOB_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Seconds: provider HTTP calls. */
const PROVIDER_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type ProviderOperation = 'submit' | 'result';
/** `ok`, `timeout` (DOWNSTREAM_TIMEOUT) or `error` (PROVIDER_ERROR). */
export type ProviderCallOutcome = 'ok' | 'timeout' | 'error';

/** Reason codes a job can end with; their series exist from start-up at 0 for every model. */
export const JOB_REASON_CODES: readonly ReasonCode[] = [
  'SUCCESS',
  'PROVIDER_ERROR',
  'DOWNSTREAM_TIMEOUT',
  'BOT_BLOCKED',
  'INTERNAL_ERROR',
];

/**
 * Generation metrics. Labels are the model, the outcome and reason code of the job: never a user or job id.
 * Queue depth and the oldest queued job's age are gauges read from the last backlog sample (the sweep
 * takes one each tick), so a scrape never queries the database.
 */
export class JobMetrics {
  readonly #jobs;
  readonly #duration;
  readonly #provider;
  readonly #refunds;
  #backlog: { byState: Record<OpenState, number>; oldestQueuedS: number } | undefined;

  constructor(meter: Meter, models: readonly string[]) {
    this.#jobs = meter.createCounter(METRIC.JOBS.name, {
      description: 'Generation jobs finished, by model, outcome and reason code',
    });
    this.#duration = meter.createHistogram(METRIC.JOB_DURATION.name, {
      description: 'Time from pressing Generate to the job ending (delivered, failed or undeliverable)',
      unit: METRIC.JOB_DURATION.unit,
      advice: { explicitBucketBoundaries: JOB_BUCKETS },
    });
    this.#provider = meter.createHistogram(METRIC.PROVIDER_DURATION.name, {
      description: 'Provider HTTP call duration, by operation and outcome',
      unit: METRIC.PROVIDER_DURATION.unit,
      advice: { explicitBucketBoundaries: PROVIDER_BUCKETS },
    });
    this.#refunds = meter.createCounter(METRIC.REFUNDS.name, {
      description: 'Job reservations refunded, by the reason the job failed',
    });
    meter
      .createObservableGauge(METRIC.JOB_QUEUE_DEPTH.name, {
        description: 'Open generation jobs by state (queued: waiting for a worker)',
      })
      .addCallback((result) => {
        for (const state of OPEN_STATES)
          result.observe(this.#backlog?.byState[state] ?? 0, { [LABEL.STATE]: state });
      });
    meter
      .createObservableGauge(METRIC.JOB_QUEUE_OLDEST_AGE.name, {
        description: 'How long the oldest queued job has waited for a worker',
        unit: METRIC.JOB_QUEUE_OLDEST_AGE.unit,
      })
      .addCallback((result) => result.observe(this.#backlog?.oldestQueuedS ?? 0));
    safely('declaring job metric series', () => {
      for (const model of models) {
        for (const code of JOB_REASON_CODES) {
          this.#jobs.add(0, {
            [LABEL.MODEL]: model,
            [LABEL.OUTCOME]: outcomeOf(code),
            [LABEL.REASON_CODE]: code,
          });
        }
      }
      for (const code of JOB_REASON_CODES.filter((code) => code !== 'SUCCESS')) {
        this.#refunds.add(0, { [LABEL.REASON_CODE]: code });
      }
    });
  }

  jobEnded(model: string, reasonCode: ReasonCode, seconds: number): void {
    safely('recording job metrics', () => {
      const outcome = outcomeOf(reasonCode);
      this.#jobs.add(1, { [LABEL.MODEL]: model, [LABEL.OUTCOME]: outcome, [LABEL.REASON_CODE]: reasonCode });
      this.#duration.record(seconds, { [LABEL.MODEL]: model, [LABEL.OUTCOME]: outcome });
    });
  }

  providerCall(operation: ProviderOperation, outcome: ProviderCallOutcome, seconds: number): void {
    safely('recording provider metrics', () =>
      this.#provider.record(seconds, { [LABEL.OPERATION]: operation, [LABEL.OUTCOME]: outcome }),
    );
  }

  refunded(reasonCode: ReasonCode): void {
    safely('recording a refund', () => this.#refunds.add(1, { [LABEL.REASON_CODE]: reasonCode }));
  }

  backlog(sample: { byState: Record<OpenState, number>; oldestQueuedS: number }): void {
    this.#backlog = sample;
  }
}
