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

/** `Name: message` for logs: the error's class and its own words, never its properties (they may hold data). */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
