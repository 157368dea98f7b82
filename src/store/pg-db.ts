import { type QueryResult as PgQueryResult, Pool, type PoolClient } from 'pg';
import { driverFailure } from '../error-classifier.js';
import type { OwnedDb, Queryable } from './db.js';
import { AfterCommit, type DbTarget, type Driver, runTraced, traced } from './traced.js';

/**
 * The client-side timeout trails the server's statement_timeout so a live server cancels first
 * (57014, connection reusable); the client timeout only fires when the server stops answering.
 */
const CLIENT_TIMEOUT_GRACE_MS = 1000;

export interface PgDbOptions {
  databaseUrl: string;
  queryTimeoutMs: number;
  /** A connection the server dropped (restart, failover, idle kill); the next query reconnects. */
  onConnectionLost: (lost: ConnectionLost) => void;
}

export interface ConnectionLost {
  /** `host:port/database` of DATABASE_URL, never its user or password. */
  server: string;
  /** The driver's error code (`57P01` admin shutdown, `ECONNRESET`, …) or a fixed type. */
  type: string;
}

/** A Postgres-backed Db over a `pg` Pool. Connects lazily: the first query opens the first connection. */
export function createPgDb({ databaseUrl, queryTimeoutMs, onConnectionLost }: PgDbOptions): OwnedDb {
  const target = targetOf(databaseUrl);
  const warnConnectionLost = (error: Error) =>
    onConnectionLost({ server: databaseAddress(databaseUrl), type: driverFailure(error).type });
  const pool = new Pool({
    connectionString: databaseUrl,
    application_name: 'tracegram',
    // A dead or unreachable database must fail a request fast, not hang it.
    connectionTimeoutMillis: queryTimeoutMs,
    statement_timeout: queryTimeoutMs,
    query_timeout: queryTimeoutMs + CLIENT_TIMEOUT_GRACE_MS,
  });
  // Without a listener, an idle connection dropped by the server (restart, failover) is an uncaught
  // 'error' event that kills the process. The pool discards that client; the next query reconnects.
  pool.on('error', warnConnectionLost);

  const { query, exec } = traced(target, {
    query: async (sql, params) => rowsOf(await pool.query(sql, params as unknown[])),
    exec: async (sql) => {
      await pool.query(sql);
    },
  });

  let closing: Promise<void> | undefined;
  return {
    engine: 'pg',
    query,
    exec,
    transaction: (fn) => inTransaction(target, pool, fn, warnConnectionLost),
    close: () => {
      closing ??= pool.end();
      return closing;
    },
  };
}

async function inTransaction<T>(
  target: DbTarget,
  pool: Pool,
  fn: (tx: Queryable) => Promise<T>,
  warnConnectionLost: (error: Error) => void,
): Promise<T> {
  const client = await runTraced(target, { operation: 'BEGIN' }, async () => {
    const checkedOut = await pool.connect();
    try {
      await checkedOut.query('BEGIN');
      return checkedOut;
    } catch (error) {
      checkedOut.release(true);
      throw error;
    }
  });
  // A checked-out client has no pool listener; a server drop while `fn` awaits something else would crash.
  client.on('error', warnConnectionLost);
  const release = (destroy: boolean) => {
    client.off('error', warnConnectionLost);
    client.release(destroy);
  };

  let result: T;
  const committed = new AfterCommit();
  try {
    result = await fn({ ...traced(target, clientDriver(client)), afterCommit: committed.add });
  } catch (error) {
    try {
      await runTraced(target, { operation: 'ROLLBACK' }, () => client.query('ROLLBACK'));
      release(false);
    } catch {
      // The connection is unusable (that is likely why `fn` failed); drop it and report `fn`'s error.
      release(true);
    }
    throw error;
  }

  try {
    await runTraced(target, { operation: 'COMMIT' }, async () => {
      const commit = await client.query('COMMIT');
      // Postgres answers COMMIT of an aborted transaction with ROLLBACK, not an error.
      if (commit.command === 'ROLLBACK') {
        throw Object.assign(new Error('transaction was aborted'), { code: '25P02' });
      }
    });
  } catch (error) {
    release(true);
    throw error;
  }
  release(false);
  committed.run();
  return result;
}

function clientDriver(client: PoolClient): Driver {
  return {
    query: async (sql, params) => rowsOf(await client.query(sql, params as unknown[])),
    exec: async (sql) => {
      await client.query(sql);
    },
  };
}

function rowsOf(result: PgQueryResult): { rows: unknown[]; rowCount: number } {
  return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
}

/**
 * `host:port/database` of a postgres URL, for messages that must say which database failed without
 * repeating credentials or options.
 */
export function databaseAddress(databaseUrl: string): string {
  const target = targetOf(databaseUrl);
  if (target.serverAddress === undefined) return 'an unparsable URL';
  const host = target.serverAddress.includes(':') ? `[${target.serverAddress}]` : target.serverAddress;
  return `${host}:${target.serverPort ?? 5432}/${target.namespace ?? ''}`;
}

/** Span attributes from the URL's host, port and database; user, password and options stay out. */
function targetOf(databaseUrl: string): DbTarget {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    // pg will report the bad URL on the first query; its message is not ours to echo here.
    return { engine: 'pg', namespace: undefined };
  }
  const database = safeDecode(url.pathname.replace(/^\//, ''));
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    engine: 'pg',
    namespace: database === '' ? undefined : database,
    serverAddress: host === '' ? undefined : safeDecode(host),
    serverPort: url.port === '' ? undefined : Number(url.port),
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
