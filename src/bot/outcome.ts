import type { ReasonCode } from '../telemetry/reason-codes.js';

/**
 * What a handler returns: the update's outcome. `Feature` records it (and tells the user why on a
 * rejection), so a handler cannot forget its outcome or decide twice: one that returns nothing does not
 * compile.
 */
export type Outcome = Success | Rejection;

export interface Success {
  readonly code: 'SUCCESS';
}

export interface Rejection {
  readonly code: Exclude<ReasonCode, 'SUCCESS'>;
  /** A fixed, non-personal explanation for spans and logs. */
  readonly detail: string;
  /** What the user sees instead of the reason code's default wording. */
  readonly reply?: string | undefined;
}

export const success: Success = { code: 'SUCCESS' };

/** Nothing to do (Cancel on an empty form, the option already chosen): ordinary chat, not a warning. */
export function noop(detail: string, reply?: string): Rejection {
  return { code: 'NOOP', detail, reply };
}

/** An expected rejection (stale button, bad input): span status stays unset. */
export function reject(code: Rejection['code'], detail: string, reply?: string): Rejection {
  return { code, detail, reply };
}
