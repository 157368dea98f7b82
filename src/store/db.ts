/**
 * The engine-neutral database handle that repositories (sessions, and later jobs, payments, history)
 * are written against. Both engines speak Postgres SQL, so a repository never asks which one runs.
 */

export type StoreEngine = 'pg' | 'pglite';

/** `db.operation.name`: the SQL keyword. `MIGRATE` is a multi-statement migration script. */
export type DbOperation =
  | 'SELECT'
  | 'INSERT'
  | 'UPDATE'
  | 'DELETE'
  | 'CREATE'
  | 'ALTER'
  | 'DROP'
  | 'BEGIN'
  | 'COMMIT'
  | 'ROLLBACK'
  | 'MIGRATE';

/**
 * What the span of a query is named after; the SQL text and parameters never reach telemetry.
 * Omit `table` only for a statement that touches no table (a ping, an advisory lock).
 */
export interface QueryMeta {
  operation: DbOperation;
  table?: string;
}

export interface QueryResult<R> {
  rows: R[];
  /** Rows returned by a SELECT, or changed by an INSERT/UPDATE/DELETE. */
  rowCount: number;
}

/** Runs statements; the same shape inside and outside a transaction, so repositories work in both. */
export interface Queryable {
  /** One statement with `$1`-style parameters. Failures throw StoreError. */
  query<R extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[],
    meta: QueryMeta,
  ): Promise<QueryResult<R>>;
  /** Several statements without parameters (migrations). Failures throw StoreError. */
  exec(sql: string, meta: QueryMeta): Promise<void>;
  /**
   * Inside a transaction: runs `fn` once it has committed, never if it rolls back. For side effects that
   * must not count uncommitted work (metrics). Absent outside a transaction, where every statement commits.
   */
  afterCommit?(fn: () => void): void;
}

export interface Db extends Queryable {
  readonly engine: StoreEngine;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws
   * (its error is rethrown unchanged). Do not use `this` Db inside `fn`, only `tx`.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

/** A Db its opener owns: `close` releases the pool or shuts the embedded database down (idempotent). */
export interface OwnedDb extends Db {
  close(): Promise<void>;
}
