import { ERROR_TYPE_VALUE_OTHER } from '@opentelemetry/semantic-conventions';
import { GrammyError, HttpError } from 'grammy';
import { StoreError, TracegramError } from './errors.js';
import type { ReasonCode } from './telemetry/reason-codes.js';

/**
 * The one place that decides what an error means. Telemetry (span status, `error.type`, the outcome),
 * the error boundary and the store all ask `classifyError` instead of inspecting errors themselves.
 */
export interface ErrorClass {
  /** The update's outcome when this error ends it. */
  reasonCode: ReasonCode;
  /** `error.type`: the error's class or code, low-cardinality. */
  errorType: string;
  /** A fixed, non-personal explanation safe for spans and logs (`tracegram.reason_detail`). */
  detail: string;
  /** Whether trying the same thing again later may succeed (a network blip, 429, a lost connection). */
  retryable: boolean;
}

/** Maps the errors it knows to a class, and returns undefined for the rest. */
export type ErrorRule = (error: unknown) => ErrorClass | undefined;

/**
 * The rules, most specific first. Extension point: provider errors (the generation providers' client)
 * get their own rule here, mapping the provider error's `kind` (timeout, rate limit, refused, …) to a
 * reason code and `retryable`; until then a provider error is a TracegramError and carries its own code.
 */
const RULES: readonly ErrorRule[] = [storeRule, tracegramRule, telegramRule];

export function classifyError(error: unknown): ErrorClass {
  for (const rule of RULES) {
    const classified = rule(error);
    if (classified) return classified;
  }
  const errorType = errorTypeOf(error);
  return { reasonCode: 'INTERNAL_ERROR', errorType, detail: errorType, retryable: false };
}

function storeRule(error: unknown): ErrorClass | undefined {
  if (!(error instanceof StoreError)) return undefined;
  const failure = error.detail ?? ERROR_TYPE_VALUE_OTHER;
  return { reasonCode: 'DB_ERROR', errorType: error.name, detail: failure, retryable: isTransient(failure) };
}

function tracegramRule(error: unknown): ErrorClass | undefined {
  if (!(error instanceof TracegramError)) return undefined;
  return {
    reasonCode: error.reasonCode,
    errorType: error.name,
    detail: error.detail ?? error.name,
    retryable: error.retryable,
  };
}

/**
 * Telegram refused a call (GrammyError: `error_code` and `description`) or never answered (HttpError).
 * The update still failed on our side: the user gets the apology, and `retryable` says whether the call
 * itself could succeed later (429 with retry_after, 5xx, the network).
 */
function telegramRule(error: unknown): ErrorClass | undefined {
  if (error instanceof GrammyError) {
    const retryable = error.error_code === 429 || error.error_code >= 500;
    return { reasonCode: 'INTERNAL_ERROR', errorType: error.name, detail: error.name, retryable };
  }
  if (error instanceof HttpError) {
    return { reasonCode: 'INTERNAL_ERROR', errorType: error.name, detail: error.name, retryable: true };
  }
  return undefined;
}

/**
 * Telegram refusals that only say there was nothing to do: an edit that changes nothing ("message is not
 * modified") and the answer to a press Telegram no longer waits for ("query is too old"). The user already
 * sees the right thing, so they are not failures: no ERROR status, no error rate, no apology.
 */
const BENIGN_REFUSALS = [/message is not modified/i, /query is too old/i];

export function isBenignRefusal(description: string | undefined): boolean {
  return description !== undefined && BENIGN_REFUSALS.some((pattern) => pattern.test(description));
}

/** `error.type` of an unknown error: an upper-case `code` (`ECONNREFUSED`) when it has one, else its name. */
export function errorTypeOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? code : error.name;
  }
  return 'NonError';
}

/**
 * A database driver error reduced to what is safe to show: a code, never the message. Postgres messages
 * and details quote parameter values (`invalid input syntax for type integer: "…"`, `Key (id)=(…)`), and
 * PGlite errors carry the query and its params as properties.
 */
export interface DriverFailure {
  /** `error.type`: the SQLSTATE, a Node errno (`ECONNREFUSED`), `timeout`, `closed`, or `_OTHER`. */
  type: string;
  /** The SQLSTATE when the server answered with an error (`db.response.status_code`). */
  sqlState: string | undefined;
}

// pg and PGlite report these conditions only through messages; the messages themselves are fixed strings.
const MESSAGE_TYPES: ReadonlyArray<[RegExp, string]> = [
  [/timeout|timed out/i, 'timeout'],
  [/Connection terminated/i, 'connection_terminated'],
  [/after calling end on the pool|PGlite is closed/i, 'closed'],
];

export function driverFailure(error: unknown): DriverFailure {
  const code = codeOf(error);
  if (code !== undefined) {
    const sqlState = isDatabaseError(error) ? code : undefined;
    return { type: code, sqlState };
  }
  const message = error instanceof Error ? error.message : '';
  for (const [pattern, type] of MESSAGE_TYPES) {
    if (pattern.test(message)) return { type, sqlState: undefined };
  }
  return { type: ERROR_TYPE_VALUE_OTHER, sqlState: undefined };
}

/**
 * SQLSTATE classes worth a retry: 08 connection exception, 40 transaction rollback (serialization,
 * deadlock), 53 insufficient resources, 57 operator intervention (admin shutdown). A Node errno or a
 * timeout is a connection problem too. Anything else (22 data, 23 integrity, 42 syntax) fails again.
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57']);

function isTransient(failure: string): boolean {
  if (/^[0-9A-Z]{5}$/.test(failure) && !failure.startsWith('E')) {
    return TRANSIENT_SQLSTATE_CLASSES.has(failure.slice(0, 2));
  }
  return failure.startsWith('E') || failure === 'timeout' || failure === 'connection_terminated';
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  // Node's happy-eyeballs connect (localhost → ::1 and 127.0.0.1) fails with an AggregateError.
  if (error instanceof AggregateError) return codeOf(error.errors[0]);
  return undefined;
}

/** A server-side error (pg-protocol's DatabaseError in both engines) has a severity; a socket error does not. */
function isDatabaseError(error: unknown): boolean {
  return typeof (error as { severity?: unknown }).severity === 'string';
}
