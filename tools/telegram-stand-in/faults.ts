/**
 * A failure to inject into the next call(s) of a method.
 * - `network`: the socket is destroyed without an HTTP answer (grammY raises HttpError). With
 *   `afterExecution` the method runs first, so the effect happens but the answer is lost — the case
 *   that makes blind retries send twice.
 * - `hang`: the request is accepted and never answered (a Telegram that stopped responding); the call
 *   ends only when the bot gives up on it or the stand-in stops.
 * - an error: answered as Telegram would, e.g. 429 with `parameters.retry_after`.
 */
export type Fault =
  | { kind: 'network'; afterExecution?: boolean }
  | { kind: 'hang' }
  | { error_code: number; description: string; retry_after?: number };

/** Faults queued per method, consumed one per call in the order they were planned. */
export class FaultPlan {
  private readonly queued = new Map<string, Fault[]>();

  failNext(method: string, fault: Fault, times: number): void {
    if (!Number.isInteger(times) || times < 1)
      throw new Error(`failNext: times must be a positive integer, got ${times}`);
    const key = method.toLowerCase();
    const faults = this.queued.get(key) ?? [];
    faults.push(...Array.from({ length: times }, () => fault));
    this.queued.set(key, faults);
  }

  take(method: string): Fault | undefined {
    const faults = this.queued.get(method.toLowerCase());
    const fault = faults?.shift();
    if (faults?.length === 0) this.queued.delete(method.toLowerCase());
    return fault;
  }
}
