/**
 * The reason-code table: every update ends with exactly one of these.
 * `kind` decides the span status and the `outcome` label; `reply` is the i18n key of what the user sees
 * (null: the handler's own screen is the reply). docs/telemetry.md mirrors this table.
 */
export const REASON_CODES = {
  SUCCESS: { kind: 'success', reply: null },
  NOOP: { kind: 'noop', reply: 'reply-noop' },
  PASSIVE_REJECT: { kind: 'rejected', reply: 'reply-passive' },
  UNKNOWN_ACTION: { kind: 'rejected', reply: 'reply-unknown-action' },
  STATE_MISMATCH: { kind: 'rejected', reply: 'reply-state-mismatch' },
  EXPIRED_MESSAGE: { kind: 'rejected', reply: 'reply-expired' },
  VALIDATION_FAILED: { kind: 'rejected', reply: 'reply-validation-failed' },
  RATE_LIMIT: { kind: 'rejected', reply: 'reply-rate-limit' },
  DOWNSTREAM_TIMEOUT: { kind: 'error', reply: 'reply-downstream-timeout' },
  DB_ERROR: { kind: 'error', reply: 'reply-db-error' },
  INTERNAL_ERROR: { kind: 'error', reply: 'reply-internal-error' },
} as const satisfies Record<string, { kind: OutcomeKind; reply: string | null }>;

export type ReasonCode = keyof typeof REASON_CODES;

/** The `outcome` label: `silent` marks an update that ended without any reason code. */
export type OutcomeKind = 'success' | 'noop' | 'rejected' | 'error';
export type Outcome = OutcomeKind | 'silent';

/** The `reason_code` label of a silent update, which recorded none. */
export const NO_REASON_CODE = 'NONE';

export const ALL_REASON_CODES = Object.keys(REASON_CODES) as ReasonCode[];
export const ALL_OUTCOMES: readonly Outcome[] = ['success', 'noop', 'rejected', 'error', 'silent'];

export function outcomeOf(code: ReasonCode): OutcomeKind {
  return REASON_CODES[code].kind;
}

/** Real failures set span status ERROR and record the exception; everything else is an expected outcome. */
export function isFailure(code: ReasonCode): boolean {
  return REASON_CODES[code].kind === 'error';
}
