import { ERROR_TYPE_VALUE_OTHER } from '@opentelemetry/semantic-conventions';

/**
 * A driver error reduced to what is safe to show: a code, never the message. Postgres messages and
 * details quote parameter values (`invalid input syntax for type integer: "…"`, `Key (id)=(…)`), and
 * PGlite errors carry the query and its params as properties.
 */
export interface Failure {
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

export function describeFailure(error: unknown): Failure {
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
