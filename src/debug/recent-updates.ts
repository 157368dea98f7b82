import type { UpdateSummary } from '../telemetry/grammy/index.js';

/** How many finished updates an instance keeps for `/debug user`: minutes of a busy bot, hours of a quiet one. */
export const RECENT_UPDATES_KEPT = 500;

/**
 * The last finished updates of this instance, in a fixed-size ring: what `/debug user <id>` searches by
 * pseudonym. Summaries hold no personal data (pseudonyms, codes, outcomes), and memory stays bounded.
 */
export class RecentUpdates {
  readonly #ring: Array<UpdateSummary | undefined>;
  #next = 0;

  constructor(readonly capacity = RECENT_UPDATES_KEPT) {
    this.#ring = new Array(capacity).fill(undefined);
  }

  add(summary: UpdateSummary): void {
    this.#ring[this.#next] = summary;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** That user's updates, newest first, at most `limit`. */
  ofUser(pseudonym: string, limit: number): UpdateSummary[] {
    return this.latest(limit, (summary) => summary.userPseudonym === pseudonym);
  }

  /** The newest updates first (those `where` accepts), at most `limit`: /debug's list. */
  latest(limit: number, where: (summary: UpdateSummary) => boolean = () => true): UpdateSummary[] {
    const found: UpdateSummary[] = [];
    for (let i = 1; i <= this.capacity && found.length < limit; i += 1) {
      const summary = this.#ring[(this.#next - i + this.capacity) % this.capacity];
      if (summary === undefined) break;
      if (where(summary)) found.push(summary);
    }
    return found;
  }
}
