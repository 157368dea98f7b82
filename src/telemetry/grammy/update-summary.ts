import type { NO_REASON_CODE, Outcome, ReasonCode } from '../reason-codes.js';

/** The outcome of one finished update, as kept for /debug and the embedded trace view. */
export interface UpdateSummary {
  traceId: string;
  updateId: number;
  updateType: string;
  handler: string;
  outcome: Outcome;
  reasonCode: ReasonCode | typeof NO_REASON_CODE;
  detail: string | undefined;
  screenId: string | undefined;
  userPseudonym: string | undefined;
  endedAt: number;
  durationMs: number;
}
