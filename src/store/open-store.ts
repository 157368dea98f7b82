import type { PGlite } from '@electric-sql/pglite';
import { StoreError } from '../errors.js';
import type { Db, OwnedDb, StoreEngine } from './db.js';
import { createLedger, type Ledger, type LedgerSample } from './ledger.js';
import { loadMigrations, migrate } from './migrate.js';
import { type ConnectionLost, createPgDb, databaseAddress } from './pg-db.js';
import { openPgliteDb } from './pglite-db.js';
import { type ProcessedUpdates, processedUpdates } from './processed-updates.js';
import { createPromoCodes, type PromoCodes } from './promo.js';
import { type SessionStorage, sessionStorage } from './sessions.js';
import { createUsers, type Users } from './users.js';

export const DEFAULT_QUERY_TIMEOUT_MS = 5000;

/** How a library with its own driver (the pg-boss queue) reaches the same database: a URL, or the one PGlite. */
export type StoreConnection = { databaseUrl: string } | { pglite: PGlite };

export interface Store {
  readonly kind: 'postgres' | 'pglite';
  /** The engine-neutral handle further repositories (jobs, payments, history) are built on. */
  readonly db: Db;
  /** Credits: payments, job reservations and their settlement, bonuses (src/store/ledger.ts). */
  readonly ledger: Ledger;
  /** New users and their referrals, invitation codes, blocking (src/store/users.ts). */
  readonly users: Users;
  readonly promoCodes: PromoCodes;
  /** grammY session storage (read/write/delete by key), JSONB rows in `sessions`. */
  sessions<T>(): SessionStorage<T>;
  /** The ids of updates already taken, for deduplicating Telegram's redeliveries. */
  readonly processedUpdates: ProcessedUpdates;
  /** What the job queue (pg-boss) connects to, once open: the same database, or the same PGlite instance. */
  connection(): StoreConnection;
  /** Throws StoreError if the database does not answer; used by GET /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Postgres when set (non-empty); embedded PGlite otherwise. May hold a password: never logged. */
  databaseUrl?: string | undefined;
  /** PGlite keeps its files in `<dataDir>/pglite`; `memory://` keeps them in memory (tests). */
  dataDir: string;
  /** Postgres only: connect timeout, server statement_timeout and client query timeout. Default 5000. */
  queryTimeoutMs?: number;
  /** Called once per migration applied by this open, after they are committed. */
  onMigration?: (name: string) => void;
  /** Postgres only: a connection the server dropped; the pool reconnects on the next query. */
  onConnectionLost?: (lost: ConnectionLost) => void;
  /** Called with every ledger operation once committed (metrics). */
  onLedgerOperation?: (sample: LedgerSample) => void;
}

/** A store wired now and opened later (the lifecycle's store step); `close` is safe before `open`. */
export interface StoreToOpen extends Store {
  /** Opens the database and brings its schema up to date; throws StoreError if either fails. */
  open(): Promise<void>;
}

/**
 * Wires a store without touching the database, so the composition root can hand `db` and `sessions()` to
 * the bot before start-up: until `open()` (and after `close()`) every query fails as a closed store's does.
 */
export function storeToOpen(options: OpenStoreOptions): StoreToOpen {
  const engine: StoreEngine = options.databaseUrl ? 'pg' : 'pglite';
  let opened: { db: OwnedDb; connection: StoreConnection } | undefined;
  const current = (): OwnedDb => {
    if (!opened) throw new StoreError('store: not open (closed)', { detail: 'closed' });
    return opened.db;
  };
  const db: Db = {
    engine,
    query: async (sql, params, meta) => current().query(sql, params, meta),
    exec: async (sql, meta) => current().exec(sql, meta),
    transaction: async (fn) => current().transaction(fn),
  };
  const ledger = createLedger(db, options.onLedgerOperation);
  return {
    kind: engine === 'pg' ? 'postgres' : 'pglite',
    db,
    ledger,
    users: createUsers(db, ledger),
    promoCodes: createPromoCodes(db, ledger),
    sessions: <T>() => sessionStorage<T>(db),
    processedUpdates: processedUpdates(db),
    async ping() {
      await db.query('SELECT 1', [], { operation: 'SELECT' });
    },
    connection() {
      if (!opened) throw new StoreError('store: not open (closed)', { detail: 'closed' });
      return opened.connection;
    },
    async open() {
      opened = await openDb(options);
    },
    async close() {
      await opened?.db.close();
    },
  };
}

export type { ConnectionLost };

/** Opens the database and brings its schema up to date; throws StoreError if either fails. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const store = storeToOpen(options);
  await store.open();
  return store;
}

async function openDb(options: OpenStoreOptions): Promise<{ db: OwnedDb; connection: StoreConnection }> {
  const migrations = await loadMigrations();
  let db: OwnedDb;
  let connection: StoreConnection;
  if (options.databaseUrl) {
    db = createPgDb({
      databaseUrl: options.databaseUrl,
      queryTimeoutMs: options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      onConnectionLost: options.onConnectionLost ?? (() => undefined),
    });
    connection = { databaseUrl: options.databaseUrl };
  } else {
    const pgliteDb = await openPgliteDb(options.dataDir);
    db = pgliteDb;
    connection = { pglite: pgliteDb.pglite };
  }

  try {
    const applied = await migrate(db, migrations);
    for (const name of applied) options.onMigration?.(name);
  } catch (error) {
    await db.close().catch(() => undefined);
    // The first thing an operator needs when the bot will not start: which setting, which server.
    if (options.databaseUrl && error instanceof StoreError) {
      throw new StoreError(
        `DATABASE_URL: cannot use PostgreSQL at ${databaseAddress(options.databaseUrl)} (${error.detail ?? error.message})`,
        { cause: error, ...(error.detail === undefined ? {} : { detail: error.detail }) },
      );
    }
    throw error;
  }
  return { db, connection };
}
