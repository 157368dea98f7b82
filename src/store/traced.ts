import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import { driverFailure } from '../error-classifier.js';
import { StoreError } from '../errors.js';
import { ATTR } from '../telemetry/conventions.js';
import { safely } from '../telemetry/safely.js';
import { inSpan, SpanKind } from '../telemetry/tracer.js';
import type { Queryable, QueryMeta, QueryResult, StoreEngine } from './db.js';

/** Where queries go, as far as spans may say: never the connection string or credentials. */
export interface DbTarget {
  engine: StoreEngine;
  /** `db.namespace`: the database name. */
  namespace: string | undefined;
  serverAddress?: string | undefined;
  serverPort?: number | undefined;
}

/** The raw engine calls; `traced` adds spans and error translation around them. */
export interface Driver {
  query(sql: string, params: readonly unknown[]): Promise<QueryResult<unknown>>;
  exec(sql: string): Promise<void>;
}

export function traced(target: DbTarget, driver: Driver): Queryable {
  return {
    query: <R extends object>(sql: string, params: readonly unknown[], meta: QueryMeta) =>
      runTraced(target, meta, () => driver.query(sql, params) as Promise<QueryResult<R>>),
    exec: (sql, meta) => runTraced(target, meta, () => driver.exec(sql)),
  };
}

/** The callbacks of one transaction's `afterCommit`, run once after its COMMIT succeeded. */
export class AfterCommit {
  readonly #callbacks: Array<() => void> = [];
  readonly add = (fn: () => void): void => {
    this.#callbacks.push(fn);
  };
  run(): void {
    for (const fn of this.#callbacks.splice(0)) {
      // A callback is bookkeeping (metrics): its failure must not turn a committed transaction into an error.
      safely('an after-commit callback', fn);
    }
  }
}

/**
 * Runs one database call as a CLIENT span `{operation} {table}` (database semconv). A failure becomes a
 * StoreError that names the operation and a safe failure class; the driver error is not kept as its
 * cause because its message and properties can quote parameter values.
 */
export function runTraced<T>(target: DbTarget, meta: QueryMeta, call: () => Promise<T>): Promise<T> {
  const name = meta.table === undefined ? meta.operation : `${meta.operation} ${meta.table}`;
  return inSpan(
    name,
    {
      kind: SpanKind.CLIENT,
      attributes: spanAttributes(target, meta),
      errorType: (error) => (error instanceof StoreError ? error.detail : undefined),
    },
    async (span) => {
      try {
        return await call();
      } catch (error) {
        const sqlState = driverFailure(error).sqlState;
        if (sqlState !== undefined) span.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, sqlState);
        throw storeErrorFrom(name, error);
      }
    },
  );
}

/** `store: SELECT sessions failed (ECONNREFUSED)`; `detail` is the failure class alone. */
export function storeErrorFrom(what: string, error: unknown): StoreError {
  const { type } = driverFailure(error);
  return new StoreError(`store: ${what} failed (${type})`, { detail: type });
}

function spanAttributes(target: DbTarget, meta: QueryMeta): Attributes {
  const attributes: Attributes = {
    [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
    [ATTR.STORE_ENGINE]: target.engine,
    [ATTR_DB_OPERATION_NAME]: meta.operation,
  };
  if (meta.table !== undefined) attributes[ATTR_DB_COLLECTION_NAME] = meta.table;
  if (target.namespace !== undefined) attributes[ATTR_DB_NAMESPACE] = target.namespace;
  if (target.serverAddress !== undefined) attributes[ATTR_SERVER_ADDRESS] = target.serverAddress;
  if (target.serverPort !== undefined) attributes[ATTR_SERVER_PORT] = target.serverPort;
  return attributes;
}
