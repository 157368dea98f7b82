import type { Attributes, Meter } from '@opentelemetry/api';
import type { LedgerSample } from '../store/ledger.js';
import { LABEL, METRIC } from './conventions.js';
import {
  ALL_REASON_CODES,
  NO_REASON_CODE,
  type Outcome,
  outcomeOf,
  type ReasonCode,
} from './reason-codes.js';
import { safely } from './safely.js';

const EXPORT_SIGNALS = ['traces', 'logs', 'metrics'] as const;
export type ExportSignal = (typeof EXPORT_SIGNALS)[number];

/** Seconds, from a 5 ms Bot API round trip to a 10 s stuck store. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds an update waited: from a hot queue to a backlog after a restart (Telegram keeps 24 h). */
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];

export interface UpdateSample {
  updateType: string;
  handler: string;
  outcome: Outcome;
  reasonCode: ReasonCode | typeof NO_REASON_CODE;
  seconds: number;
}

export interface BotApiSample {
  method: string;
  errorCode: string;
  /** Absent for long polls: their duration is waiting for users, not Telegram's latency. */
  seconds: number | undefined;
}

/**
 * The app's instruments. Recording never throws: a broken meter must not change a reply.
 * Labels are the low-cardinality set in conventions.ts (METRIC_LABELS).
 */
export class BotMetrics {
  readonly #updates;
  readonly #updateDuration;
  readonly #silentUpdates;
  readonly #botApiCalls;
  readonly #botApiDuration;
  readonly #screenViews;
  readonly #exportFailures;
  readonly #ledgerOperations;
  readonly #ledgerCredits;
  readonly #paymentStars;
  readonly #logLinesDropped;
  readonly #updateAge;
  readonly #updateQueueWait;
  /** This instance's role, given once at SDK start: the gauge reports it and root spans carry it. */
  readonly instanceRole: () => string;

  constructor(meter: Meter, instanceRole: () => string) {
    this.instanceRole = instanceRole;
    this.#updates = meter.createCounter(METRIC.UPDATES.name, {
      description: 'Telegram updates handled, by type, handler, outcome and reason code',
    });
    this.#updateDuration = meter.createHistogram(METRIC.UPDATE_DURATION.name, {
      description: 'Time from receiving an update to its outcome',
      unit: METRIC.UPDATE_DURATION.unit,
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.#silentUpdates = meter.createCounter(METRIC.SILENT_UPDATES.name, {
      description: 'Updates that ended without recording an outcome (a bug: every update must end with one)',
    });
    this.#botApiCalls = meter.createCounter(METRIC.BOTAPI_CALLS.name, {
      description: 'Outgoing Bot API calls by method and error code (0 = ok, network = no HTTP answer)',
    });
    this.#botApiDuration = meter.createHistogram(METRIC.BOTAPI_DURATION.name, {
      description: 'Bot API call duration',
      unit: METRIC.BOTAPI_DURATION.unit,
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.#screenViews = meter.createCounter(METRIC.SCREEN_VIEWS.name, {
      description: 'Screens rendered to users, by screen id (the journey funnel)',
    });
    this.#updateAge = meter.createHistogram(METRIC.UPDATE_AGE.name, {
      description:
        'Age of an update when its handling starts: since the user sent it, else since we received it',
      unit: METRIC.UPDATE_AGE.unit,
      advice: { explicitBucketBoundaries: WAIT_BUCKETS },
    });
    this.#updateQueueWait = meter.createHistogram(METRIC.UPDATE_QUEUE_WAIT.name, {
      description:
        'Time an update waited between its receipt and the start of its handling (queue, chat lock)',
      unit: METRIC.UPDATE_QUEUE_WAIT.unit,
      advice: { explicitBucketBoundaries: WAIT_BUCKETS },
    });
    this.#exportFailures = meter.createCounter(METRIC.TELEMETRY_EXPORT_FAILURES.name, {
      description: 'Telemetry export batches that failed, by signal',
    });
    this.#logLinesDropped = meter.createCounter(METRIC.LOG_LINES_DROPPED.name, {
      description: 'Log lines dropped because stdout could not keep up (its buffer is bounded)',
    });
    this.#logLinesDropped.add(0);
    this.#ledgerOperations = meter.createCounter(METRIC.LEDGER_OPERATIONS.name, {
      description: 'Money operations on the ledger by operation and result (counted once committed)',
    });
    this.#ledgerCredits = meter.createCounter(METRIC.LEDGER_CREDITS.name, {
      description:
        'Credits moved by ledger entries, by entry kind (payment, reserve, charge, refund, bonus, …)',
    });
    this.#paymentStars = meter.createCounter(METRIC.PAYMENT_STARS.name, {
      description: 'Telegram Stars received in credited payments, by top-up package',
    });
    meter
      .createObservableGauge(METRIC.INSTANCE_ROLE.name, {
        description: 'The role of this instance (1 for the current role)',
      })
      .addCallback((result) => result.observe(1, { [LABEL.ROLE]: instanceRole() }));
    for (const signal of EXPORT_SIGNALS) this.#exportFailures.add(0, { [LABEL.SIGNAL]: signal });
  }

  /**
   * Creates every known counter series at 0. Prometheus's increase() and rate() need a series to exist
   * before its first event, or the first silent update, the first screen view of a new deployment, the
   * first export failure are invisible to panels and alerts. The label sets are finite and come from the
   * registry and the reason-code table; series for other values still appear on their first event.
   */
  declareSeries(known: {
    updateTypes: readonly string[];
    handlers: readonly string[];
    screens: readonly string[];
  }): void {
    safely('declaring metric series', () => {
      for (const updateType of known.updateTypes) {
        for (const handler of known.handlers) {
          const labels = { [LABEL.UPDATE_TYPE]: updateType, [LABEL.HANDLER]: handler };
          for (const code of ALL_REASON_CODES) {
            this.#updates.add(0, { ...labels, [LABEL.OUTCOME]: outcomeOf(code), [LABEL.REASON_CODE]: code });
          }
          this.#updates.add(0, { ...labels, [LABEL.OUTCOME]: 'silent', [LABEL.REASON_CODE]: NO_REASON_CODE });
          this.#silentUpdates.add(0, labels);
        }
      }
      for (const screen of known.screens) this.#screenViews.add(0, { [LABEL.SCREEN_ID]: screen });
    });
  }

  update(sample: UpdateSample): void {
    safely('recording update metrics', () => {
      const labels: Attributes = {
        [LABEL.UPDATE_TYPE]: sample.updateType,
        [LABEL.HANDLER]: sample.handler,
        [LABEL.OUTCOME]: sample.outcome,
      };
      this.#updates.add(1, { ...labels, [LABEL.REASON_CODE]: sample.reasonCode });
      this.#updateDuration.record(sample.seconds, labels);
      if (sample.outcome === 'silent') {
        this.#silentUpdates.add(1, {
          [LABEL.UPDATE_TYPE]: sample.updateType,
          [LABEL.HANDLER]: sample.handler,
        });
      }
    });
  }

  /** When an update's handling starts: how old it is and how long it queued (undefined: receipt unknown). */
  updateStarted(sample: {
    updateType: string;
    ageSeconds: number;
    queueWaitSeconds: number | undefined;
  }): void {
    safely('recording update waiting', () => {
      const labels = { [LABEL.UPDATE_TYPE]: sample.updateType };
      this.#updateAge.record(sample.ageSeconds, labels);
      if (sample.queueWaitSeconds !== undefined)
        this.#updateQueueWait.record(sample.queueWaitSeconds, labels);
    });
  }

  botApiCall(sample: BotApiSample): void {
    safely('recording Bot API metrics', () => {
      const labels = { [LABEL.METHOD]: sample.method, [LABEL.ERROR_CODE]: sample.errorCode };
      this.#botApiCalls.add(1, labels);
      if (sample.seconds !== undefined) this.#botApiDuration.record(sample.seconds, labels);
    });
  }

  /** Every money series at 0 from start-up, so the first payment or refund shows in increase(). */
  declareMoneySeries(known: {
    results: Readonly<Record<string, readonly string[]>>;
    entryKinds: readonly string[];
    packages: readonly string[];
  }): void {
    safely('declaring money series', () => {
      for (const [operation, results] of Object.entries(known.results)) {
        for (const result of results) {
          this.#ledgerOperations.add(0, { [LABEL.OPERATION]: operation, [LABEL.RESULT]: result });
        }
      }
      for (const kind of known.entryKinds) this.#ledgerCredits.add(0, { [LABEL.KIND]: kind });
      for (const pkg of known.packages) this.#paymentStars.add(0, { [LABEL.PACKAGE]: pkg });
    });
  }

  ledgerOperation(sample: LedgerSample): void {
    safely('recording a ledger operation', () => {
      this.#ledgerOperations.add(1, { [LABEL.OPERATION]: sample.operation, [LABEL.RESULT]: sample.result });
      if (sample.entry) this.#ledgerCredits.add(sample.entry.credits, { [LABEL.KIND]: sample.entry.kind });
      if (sample.payment)
        this.#paymentStars.add(sample.payment.stars, { [LABEL.PACKAGE]: sample.payment.packageId });
    });
  }

  screenView(screenId: string): void {
    safely('recording a screen view', () => this.#screenViews.add(1, { [LABEL.SCREEN_ID]: screenId }));
  }

  logLineDropped(): void {
    safely('recording a dropped log line', () => this.#logLinesDropped.add(1));
  }

  exportFailure(signal: ExportSignal): void {
    safely('recording an export failure', () => this.#exportFailures.add(1, { [LABEL.SIGNAL]: signal }));
  }
}
