import type { ReasonCode } from './telemetry/reason-codes.js';

export interface TracegramErrorOptions {
  cause?: unknown;
  detail?: string;
  retryable?: boolean;
}

/**
 * A failure that knows its reason code. The update boundary turns it into the update's outcome;
 * `detail` is a fixed, non-personal explanation safe for spans and logs.
 */
export class TracegramError extends Error {
  override readonly name: string = 'TracegramError';
  readonly reasonCode: ReasonCode;
  readonly detail: string | undefined;
  /** Whether the same call may succeed later (error-classifier.ts reads it). */
  readonly retryable: boolean;

  constructor(reasonCode: ReasonCode, message: string, options: TracegramErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reasonCode = reasonCode;
    this.detail = options.detail;
    this.retryable = options.retryable ?? false;
  }
}

/** The store failed (connection refused, query error, timeout): reason DB_ERROR. */
export class StoreError extends TracegramError {
  override readonly name = 'StoreError';
  constructor(message: string, options: Omit<TracegramErrorOptions, 'retryable'> = {}) {
    super('DB_ERROR', message, options);
  }
}

/**
 * How a call to a generation provider failed. `timeout` (no answer in time) is DOWNSTREAM_TIMEOUT; every
 * other kind is the provider refusing or failing the work, PROVIDER_ERROR.
 */
export type ProviderErrorKind = 'timeout' | 'network' | 'http_status' | 'bad_response' | 'task_failed';

export class ProviderError extends TracegramError {
  override readonly name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  /** The HTTP status, when the provider answered with one. */
  readonly status: number | undefined;

  constructor(kind: ProviderErrorKind, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(kind === 'timeout' ? 'DOWNSTREAM_TIMEOUT' : 'PROVIDER_ERROR', message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      detail: `provider ${kind}${options.status === undefined ? '' : ` ${options.status}`}`,
      // A timeout, a dropped connection, a 429 or a 5xx may pass; a refusal or a failed task will not.
      retryable:
        kind === 'timeout' ||
        kind === 'network' ||
        (kind === 'http_status' && (options.status === 429 || (options.status ?? 0) >= 500)),
    });
    this.kind = kind;
    this.status = options.status;
  }
}

/** `Name: message` for logs: the error's class and its own words, never its properties (they may hold data). */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
