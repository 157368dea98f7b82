/**
 * Error ratio over the last minutes, for /debug: one slot per minute for the last hour, each counting
 * updates and failed updates (outcome error or silent). O(1) per update, fixed memory.
 */
const SLOTS = 60;
const MINUTE_MS = 60_000;

export interface ErrorRatio {
  readonly updates: number;
  readonly failed: number;
}

export class OutcomeWindow {
  readonly #minute = new Float64Array(SLOTS).fill(-1);
  readonly #updates = new Uint32Array(SLOTS);
  readonly #failed = new Uint32Array(SLOTS);
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  record(failed: boolean): void {
    const minute = Math.floor(this.#now() / MINUTE_MS);
    const slot = minute % SLOTS;
    if (this.#minute[slot] !== minute) {
      this.#minute[slot] = minute;
      this.#updates[slot] = 0;
      this.#failed[slot] = 0;
    }
    this.#updates[slot] = (this.#updates[slot] ?? 0) + 1;
    if (failed) this.#failed[slot] = (this.#failed[slot] ?? 0) + 1;
  }

  /** Updates and failures over the last `minutes` (the current minute included). */
  over(minutes: number): ErrorRatio {
    const current = Math.floor(this.#now() / MINUTE_MS);
    let updates = 0;
    let failed = 0;
    for (let slot = 0; slot < SLOTS; slot += 1) {
      const minute = this.#minute[slot] ?? -1;
      if (minute >= 0 && current - minute < Math.min(minutes, SLOTS)) {
        updates += this.#updates[slot] ?? 0;
        failed += this.#failed[slot] ?? 0;
      }
    }
    return { updates, failed };
  }
}
