import { randomUUID } from 'node:crypto';
import { admin, POSTGRES_URL } from './store-engines.js';

/**
 * A PostgreSQL schema of its own (tables via search_path) plus a pg-boss schema of its own, so tests that
 * run workers in parallel files never take each other's jobs.
 */
export interface IsolatedPostgres {
  databaseUrl: string;
  queueSchema: string;
  dispose(): Promise<void>;
}

export async function isolatedPostgres(prefix = 'gen'): Promise<IsolatedPostgres> {
  const schema = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const queueSchema = `${schema}_boss`;
  await admin(`CREATE SCHEMA ${schema}`);
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    databaseUrl: url.toString(),
    queueSchema,
    dispose: () =>
      admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${queueSchema} CASCADE`),
  };
}
