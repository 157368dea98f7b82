import type { StorageAdapter } from 'grammy';
import type { Queryable } from './db.js';

const TABLE = 'sessions';

/**
 * grammY session storage in the `sessions` table, one JSONB document per key. Values must be JSON:
 * JSONB reorders object keys and cannot hold `\u0000` in strings.
 */
export function sessionStorage<T>(db: Queryable): StorageAdapter<T> {
  return {
    async read(key) {
      const { rows } = await db.query<{ value: T }>(`SELECT value FROM ${TABLE} WHERE key = $1`, [key], {
        operation: 'SELECT',
        table: TABLE,
      });
      return rows[0]?.value;
    },
    async write(key, value) {
      // Serialised here: pg would turn a top-level array into a Postgres array, not JSON.
      await db.query(
        `INSERT INTO ${TABLE} (key, value) VALUES ($1, $2::jsonb)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [key, JSON.stringify(value)],
        { operation: 'INSERT', table: TABLE },
      );
    },
    async delete(key) {
      await db.query(`DELETE FROM ${TABLE} WHERE key = $1`, [key], { operation: 'DELETE', table: TABLE });
    },
  };
}
