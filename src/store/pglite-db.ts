import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { driverFailure } from '../error-classifier.js';
import { StoreError } from '../errors.js';
import type { OwnedDb } from './db.js';
import { preparedStatements } from './pglite-statements.js';
import { AfterCommit, type DbTarget, type Driver, storeErrorFrom, traced } from './traced.js';

/** PGlite's in-memory filesystem; anything else is a directory on disk. */
const MEMORY_PREFIX = 'memory://';
/** PGlite runs one cluster with the default database. */
const PGLITE_DATABASE = 'postgres';

/**
 * An embedded Db for running without a Postgres server: persisted under `<dataDir>/pglite`, or in memory
 * for `memory://`. One process only: PGlite is a single in-process connection.
 */
export interface PgliteDb extends OwnedDb {
  /** The one embedded instance, for pg-boss's own PGlite adapter (it must share the store's connection). */
  readonly pglite: PGlite;
}

export async function openPgliteDb(dataDir: string): Promise<PgliteDb> {
  const location = dataDir.startsWith(MEMORY_PREFIX) ? dataDir : join(dataDir, 'pglite');
  let pglite: PGlite;
  try {
    if (location !== dataDir) await mkdir(location, { recursive: true });
    pglite = await PGlite.create(location, { database: PGLITE_DATABASE });
  } catch (error) {
    // A filesystem or WASM start-up error: no query ran, so the cause holds no parameters.
    const { type } = driverFailure(error);
    throw new StoreError(`store: cannot open PGlite at ${location} (${type})`, {
      cause: error,
      detail: type,
    });
  }

  const target: DbTarget = { engine: 'pglite', namespace: PGLITE_DATABASE };
  const { query, exec } = traced(target, {
    ...driverOf(pglite),
    query: resultOf(preparedStatements(pglite)),
  });
  let closing: Promise<void> | undefined;
  return {
    engine: 'pglite',
    pglite,
    query,
    exec,
    async transaction(fn) {
      let fnFailed = false;
      const committed = new AfterCommit();
      try {
        // PGlite's own transaction holds its lock, so no other query interleaves with this one.
        const result = await pglite.transaction(async (tx) => {
          try {
            return await fn({ ...traced(target, driverOf(tx)), afterCommit: committed.add });
          } catch (error) {
            fnFailed = true;
            throw error;
          }
        });
        committed.run();
        return result;
      } catch (error) {
        if (fnFailed) throw error;
        // BEGIN or COMMIT failed inside PGlite (closed database, COMMIT of an aborted transaction).
        throw storeErrorFrom('COMMIT', error);
      }
    },
    close: () => {
      closing ??= pglite.closed ? Promise.resolve() : pglite.close();
      return closing;
    },
  };
}

/** Statements in a transaction run through PGlite's own `query()`; outside one, see `preparedStatements`. */
function driverOf(db: PGlite | Transaction): Driver {
  return {
    query: resultOf((sql, params) => db.query(sql, params as unknown[])),
    async exec(sql) {
      await db.exec(sql);
    },
  };
}

function resultOf(run: (sql: string, params: readonly unknown[]) => Promise<Results>): Driver['query'] {
  return async (sql, params) => {
    const result = await run(sql, params);
    return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
  };
}
