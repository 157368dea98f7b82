import { isFailure, NO_REASON_CODE, type Outcome, outcomeOf, type ReasonCode } from '../reason-codes.js';
import type { RecordedOutcome } from './types.js';

/**
 * One update's outcome. First decision wins, except that a failure after a success replaces it (the user
 * saw an error). Features return exactly one outcome; middleware outside them can still decide twice or
 * never, which `decisions` and `label` = `silent` let the span report.
 */
export class OutcomeState {
  recorded: RecordedOutcome | undefined;
  /** accept/reject calls: more than one is a bug (a missing `return` in middleware outside features). */
  decisions = 0;

  decide(code: ReasonCode, detail: string | undefined): void {
    this.decisions += 1;
    this.fail(code, detail);
  }

  /** A thrown failure is not a decision: it may follow one (the user saw a screen, then an error). */
  fail(code: ReasonCode, detail: string | undefined): void {
    if (!this.recorded || (isFailure(code) && !isFailure(this.recorded.code))) {
      this.recorded = { code, detail };
    }
  }

  get label(): Outcome {
    return this.recorded ? outcomeOf(this.recorded.code) : 'silent';
  }

  get reasonCode(): ReasonCode | typeof NO_REASON_CODE {
    return this.recorded?.code ?? NO_REASON_CODE;
  }
}
