/**
 * The reason-code table: every update ends with exactly one of these.
 * `kind` decides the span status and the `outcome` label; `reply` is the i18n key of what the user sees
 * (null: the handler's own screen is the reply). docs/telemetry.md mirrors this table.
 */
export const REASON_CODES = {
  SUCCESS: { kind: 'success', reply: null },
  NOOP: { kind: 'noop', reply: 'reply-noop' },
  /** Telegram delivered an update again that a process sharing the store already took: not answered twice. */
  DUPLICATE_UPDATE: { kind: 'noop', reply: null },
  PASSIVE_REJECT: { kind: 'rejected', reply: 'reply-passive' },
  UNKNOWN_ACTION: { kind: 'rejected', reply: 'reply-unknown-action' },
  STATE_MISMATCH: { kind: 'rejected', reply: 'reply-state-mismatch' },
  EXPIRED_MESSAGE: { kind: 'rejected', reply: 'reply-expired' },
  VALIDATION_FAILED: { kind: 'rejected', reply: 'reply-validation-failed' },
  RATE_LIMIT: { kind: 'rejected', reply: 'reply-rate-limit' },
  UNKNOWN_PACKAGE: { kind: 'rejected', reply: 'reply-unknown-package' },
  PAYMENT_MISMATCH: { kind: 'rejected', reply: 'reply-payment-mismatch' },
  USER_BLOCKED: { kind: 'rejected', reply: 'reply-user-blocked' },
  DUPLICATE_PAYMENT: { kind: 'noop', reply: null },
  REFUND_REFUSED: { kind: 'rejected', reply: 'reply-refund-refused' },
  PROMO_UNKNOWN: { kind: 'rejected', reply: 'reply-promo-unknown' },
  PROMO_EXPIRED: { kind: 'rejected', reply: 'reply-promo-expired' },
  PROMO_EXHAUSTED: { kind: 'rejected', reply: 'reply-promo-exhausted' },
  PROMO_ALREADY_USED: { kind: 'rejected', reply: 'reply-promo-already-used' },
  // An admin command from someone not in ADMIN_IDS: answered exactly as an unknown command, so it reveals nothing.
  FORBIDDEN: { kind: 'rejected', reply: 'unknown-command' },
  DOWNSTREAM_TIMEOUT: { kind: 'error', reply: 'reply-downstream-timeout' },
  DB_ERROR: { kind: 'error', reply: 'reply-db-error' },
  INTERNAL_ERROR: { kind: 'error', reply: 'reply-internal-error' },
  PAYMENT_UNMATCHED: { kind: 'error', reply: 'reply-payment-unmatched' },
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
