import type { Queryable } from './db.js';

const TABLE = 'processed_updates';

/** Telegram keeps an undelivered update for 24 hours; a redelivery cannot come later than that. */
export const PROCESSED_UPDATE_RETENTION_HOURS = 25;

export interface ProcessedUpdates {
  /** True for the first delivery of an update to any process sharing the store, false for a repeat. */
  claim(botId: number, updateId: number): Promise<boolean>;
  /** Drops ids older than the retention; returns how many. */
  prune(): Promise<number>;
}

export function processedUpdates(db: Queryable): ProcessedUpdates {
  return {
    async claim(botId, updateId) {
      // One statement, atomic across processes: the primary key decides which delivery wins.
      const { rowCount } = await db.query(
        `INSERT INTO ${TABLE} (bot_id, update_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [botId, updateId],
        { operation: 'INSERT', table: TABLE },
      );
      return rowCount === 1;
    },
    async prune() {
      const { rowCount } = await db.query(
        `DELETE FROM ${TABLE} WHERE received_at < now() - make_interval(hours => $1)`,
        [PROCESSED_UPDATE_RETENTION_HOURS],
        { operation: 'DELETE', table: TABLE },
      );
      return rowCount;
    },
  };
}
