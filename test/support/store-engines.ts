import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { OpenStoreOptions, Store } from '../../src/store/index.js';

/** CI uses the database `test`; parallel checkouts on one machine may each name their own. */
export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A database of its own for one suite, so parallel runs never see each other's rows. */
export interface IsolatedStore {
  options: OpenStoreOptions;
  dispose(): Promise<void>;
}

export interface StoreEngine {
  kind: Store['kind'];
  /** Whether two stores opened on `options` are two connections to one database (two processes). */
  shared: boolean;
  isolate(): Promise<IsolatedStore>;
}

/** One statement on its own connection (schemas made and dropped around the store under test). */
export async function admin(sql: string, url = POSTGRES_URL): Promise<void> {
  const client = new Client(url);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The test PostgreSQL (TEST_DATABASE_URL) with a fresh schema per suite, and PGlite in a fresh directory. */
export const STORE_ENGINES: readonly StoreEngine[] = [
  {
    kind: 'postgres',
    shared: true,
    async isolate() {
      const schema = `store_test_${randomUUID().replaceAll('-', '')}`;
      await admin(`CREATE SCHEMA ${schema}`);
      const url = new URL(POSTGRES_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return {
        options: { databaseUrl: url.toString(), dataDir: join(tmpdir(), 'tracegram-unused') },
        dispose: () => admin(`DROP SCHEMA ${schema} CASCADE`),
      };
    },
  },
  {
    kind: 'pglite',
    shared: false,
    async isolate() {
      const dataDir = await mkdtemp(join(tmpdir(), 'tracegram-store-'));
      return { options: { dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
    },
  },
];
