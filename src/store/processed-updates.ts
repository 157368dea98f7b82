import type { Queryable } from './db.js';

const TABLE = 'processed_updates';
const SESSIONS_TABLE = 'sessions';

/** Telegram keeps an undelivered update for 24 hours; a redelivery cannot come later than that. */
export const PROCESSED_UPDATE_RETENTION_HOURS = 25;

export interface ProcessedUpdates {
  /** True for the first delivery of an update to any process sharing the store, false for a repeat. */
  claim(botId: number, updateId: number): Promise<boolean>;
  /**
   * `claim`, and in the same statement (one round trip instead of two) the session row of `sessionKey`
   * as it stands once the claim is taken; `session` is undefined when the chat has none yet.
   */
  claimWithSession(botId: number, updateId: number, sessionKey: string): Promise<Claim>;
  /** Drops ids older than the retention; returns how many. */
  prune(): Promise<number>;
}

export type Claim = { claimed: false } | { claimed: true; session: unknown };

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
    async claimWithSession(botId, updateId, sessionKey) {
      // RETURNING yields a row only when the insert took the id: a repeat returns none and reads nothing.
      const { rows } = await db.query<{ session: unknown }>(
        `INSERT INTO ${TABLE} (bot_id, update_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
         RETURNING (SELECT value FROM ${SESSIONS_TABLE} WHERE key = $3) AS session`,
        [botId, updateId, sessionKey],
        { operation: 'INSERT', table: TABLE },
      );
      const row = rows[0];
      if (!row) return { claimed: false };
      return { claimed: true, session: row.session ?? undefined };
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
