import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from './errors.js';
import { EVENT } from './telemetry/conventions.js';
import type { Logger } from './telemetry/logger.js';

/**
 * One named step of stopping a stage, given the shutdown deadline (epoch ms) to bound its own waits by.
 * A failing or overdue step is logged and the next one still runs.
 */
export type StopStep = readonly [name: string, stop: (deadline: number) => Promise<unknown>];

/** A resource the app brings up in order and takes down in the reverse order. */
export interface Stage {
  readonly name: string;
  start?(signal: AbortSignal): Promise<void>;
  readonly stop: readonly StopStep[];
}

/**
 * Owns start-up and shutdown order: stages start in the order given (telemetry → store → bot → HTTP) and
 * stop in reverse, each stop step bounded by the one shutdown deadline, so that a Telegram or a collector
 * that never answers cannot hold the process past it. A stage that began starting is stopped too: a
 * half-open pool or a bound port must not outlive a start abandoned for a signal.
 */
export class Lifecycle {
  readonly #stages: readonly Stage[];
  readonly #logger: Logger;
  #started: Stage[] = [];

  constructor(stages: readonly Stage[], logger: Logger) {
    this.#stages = stages;
    this.#logger = logger;
  }

  /** `signal` abandons the start between (and, where a stage supports it, within) stages. */
  async start(signal: AbortSignal = new AbortController().signal): Promise<void> {
    for (const stage of this.#stages) {
      signal.throwIfAborted();
      this.#started.push(stage);
      await stage.start?.(signal);
    }
  }

  /** Stops what was started, in reverse, by `deadline` (epoch ms). Never throws. */
  async stop(deadline: number): Promise<void> {
    for (const stage of this.#started.splice(0).reverse()) {
      for (const [name, stop] of stage.stop) await this.#step(name, stop, deadline);
    }
  }

  async #step(name: string, stop: StopStep[1], deadline: number): Promise<void> {
    const overdue = new AbortController();
    try {
      const late = sleep(Math.max(0, deadline - Date.now()), 'overdue', { signal: overdue.signal });
      if ((await Promise.race([stop(deadline), late])) === 'overdue')
        throw new Error('shutdown deadline passed');
    } catch (error) {
      this.#logger.warn(
        { event: EVENT.SHUTDOWN_STEP_FAILED, step: name, detail: describeError(error) },
        'shutdown step failed',
      );
    } finally {
      overdue.abort();
    }
  }
}
