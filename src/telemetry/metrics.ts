import type { Attributes, Meter } from '@opentelemetry/api';
import { LABEL, METRIC } from './conventions.js';
import type { Outcome, ReasonCode } from './reason-codes.js';
import { safely } from './safely.js';

/** Seconds, from a 5 ms Bot API round trip to a 10 s stuck store. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface UpdateSample {
  updateType: string;
  handler: string;
  outcome: Outcome;
  reasonCode: ReasonCode | 'NONE';
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

  constructor(meter: Meter, instanceRole: () => string) {
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
    this.#exportFailures = meter.createCounter(METRIC.TELEMETRY_EXPORT_FAILURES.name, {
      description: 'Telemetry export batches that failed, by signal',
    });
    meter
      .createObservableGauge(METRIC.INSTANCE_ROLE.name, {
        description: 'The role of this instance (1 for the current role)',
      })
      .addCallback((result) => result.observe(1, { [LABEL.ROLE]: instanceRole() }));
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

  botApiCall(sample: BotApiSample): void {
    safely('recording Bot API metrics', () => {
      const labels = { [LABEL.METHOD]: sample.method, [LABEL.ERROR_CODE]: sample.errorCode };
      this.#botApiCalls.add(1, labels);
      if (sample.seconds !== undefined) this.#botApiDuration.record(sample.seconds, labels);
    });
  }

  screenView(screenId: string): void {
    safely('recording a screen view', () => this.#screenViews.add(1, { [LABEL.SCREEN_ID]: screenId }));
  }

  exportFailure(signal: 'traces' | 'logs' | 'metrics'): void {
    safely('recording an export failure', () => this.#exportFailures.add(1, { [LABEL.SIGNAL]: signal }));
  }
}
