import type { StorageAdapter } from 'grammy';
import type { Queryable } from './db.js';

const TABLE = 'sessions';
/** Reads whose write never came (the update failed) are forgotten past this many keys. */
const MAX_REMEMBERED_READS = 10_000;

/** grammY session storage that can be handed a row read elsewhere (with the update's claim). */
export interface SessionStorage<T> extends StorageAdapter<T> {
  /**
   * The row of `key` as just read by the query that claimed the update (undefined: no row): the next
   * `read(key)` returns it instead of querying. Only for the update that is about to read `key`, and
   * `forget` must follow it, so a value never outlives its update.
   */
  prime(key: string, value: T | undefined): void;
  /** Drops a primed value no read took (the update ended before its session was read). */
  forget(key: string): void;
}

/**
 * grammY session storage in the `sessions` table, one JSONB document per key. Values must be JSON:
 * JSONB reorders object keys and cannot hold `\u0000` in strings.
 *
 * grammY writes the session back after every update; most rejections (a stale press, a no-op) leave it
 * as it was read, so a write of exactly what was read is skipped: one round trip less, and a concurrent
 * writer elsewhere is not overwritten with an old copy.
 */
export function sessionStorage<T>(db: Queryable): SessionStorage<T> {
  const lastRead = new Map<string, string>();
  const primed = new Map<string, T | undefined>();
  const remember = (key: string, value: T | undefined) => {
    if (value === undefined) return;
    if (lastRead.size >= MAX_REMEMBERED_READS) lastRead.clear();
    lastRead.set(key, JSON.stringify(value));
  };
  return {
    prime(key, value) {
      primed.set(key, value);
    },
    forget(key) {
      primed.delete(key);
    },
    async read(key) {
      if (primed.has(key)) {
        const value = primed.get(key);
        primed.delete(key);
        remember(key, value);
        return value;
      }
      const { rows } = await db.query<{ value: T }>(`SELECT value FROM ${TABLE} WHERE key = $1`, [key], {
        operation: 'SELECT',
        table: TABLE,
      });
      const value = rows[0]?.value;
      remember(key, value);
      return value;
    },
    async write(key, value) {
      // Serialised here: pg would turn a top-level array into a Postgres array, not JSON.
      const json = JSON.stringify(value);
      const read = lastRead.get(key);
      lastRead.delete(key);
      if (read === json) return;
      await db.query(
        `INSERT INTO ${TABLE} (key, value) VALUES ($1, $2::jsonb)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [key, json],
        { operation: 'INSERT', table: TABLE },
      );
    },
    async delete(key) {
      lastRead.delete(key);
      primed.delete(key);
      await db.query(`DELETE FROM ${TABLE} WHERE key = $1`, [key], { operation: 'DELETE', table: TABLE });
    },
  };
}
