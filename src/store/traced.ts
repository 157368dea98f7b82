import { type Attributes, type Histogram, type MeterProvider, metrics } from '@opentelemetry/api';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
  METRIC_DB_CLIENT_OPERATION_DURATION,
} from '@opentelemetry/semantic-conventions';
import packageJson from '../../package.json' with { type: 'json' };
import { driverFailure } from '../error-classifier.js';
import { StoreError } from '../errors.js';
import { ATTR, INSTRUMENTATION_SCOPE } from '../telemetry/conventions.js';
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
      runTraced(target, meta, () => driver.query(sql, params) as Promise<QueryResult<R>>, sql),
    exec: (sql, meta) => runTraced(target, meta, () => driver.exec(sql), sql),
  };
}

/** The semantic conventions' advised buckets for db.client.operation.duration (seconds). */
const DB_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

let durationFor: { provider: MeterProvider; histogram: Histogram } | undefined;

/**
 * `db.client.operation.duration`, from the global MeterProvider (the store is opened after the SDK
 * starts); made once per provider, not per query.
 */
function operationDuration(): Histogram {
  const provider = metrics.getMeterProvider();
  if (durationFor?.provider !== provider) {
    const histogram = provider
      .getMeter(INSTRUMENTATION_SCOPE, packageJson.version)
      .createHistogram(METRIC_DB_CLIENT_OPERATION_DURATION, {
        description: 'Duration of database client operations',
        unit: 's',
        advice: { explicitBucketBoundaries: DB_DURATION_BUCKETS },
      });
    durationFor = { provider, histogram };
  }
  return durationFor.histogram;
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
export function runTraced<T>(
  target: DbTarget,
  meta: QueryMeta,
  call: () => Promise<T>,
  /** `db.query.text`: the SQL as sent, with `$n` placeholders; parameter values never appear in it. */
  queryText?: string,
): Promise<T> {
  const name = meta.table === undefined ? meta.operation : `${meta.operation} ${meta.table}`;
  const attributes = spanAttributes(target, meta);
  const startedAt = performance.now();
  let failure: { type: string; sqlState: string | undefined } | undefined;
  return inSpan(
    name,
    {
      kind: SpanKind.CLIENT,
      attributes: queryText === undefined ? attributes : { ...attributes, [ATTR_DB_QUERY_TEXT]: queryText },
      errorType: (error) => (error instanceof StoreError ? error.detail : undefined),
    },
    async (span) => {
      try {
        return await call();
      } catch (error) {
        failure = driverFailure(error);
        if (failure.sqlState !== undefined) span.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, failure.sqlState);
        throw storeErrorFrom(name, error);
      }
    },
  ).finally(() =>
    safely('recording db.client.operation.duration', () =>
      operationDuration().record((performance.now() - startedAt) / 1000, {
        ...attributes,
        ...(failure
          ? {
              [ATTR_ERROR_TYPE]: failure.type,
              ...(failure.sqlState === undefined ? {} : { [ATTR_DB_RESPONSE_STATUS_CODE]: failure.sqlState }),
            }
          : {}),
      }),
    ),
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
