import { readdir, readFile } from 'node:fs/promises';
import { StoreError } from '../errors.js';
import type { Db } from './db.js';

export interface Migration {
  /** The file name without `.sql`, e.g. `001_sessions`; recorded in `schema_migrations`. */
  name: string;
  sql: string;
}

// At the package root like `locales/`, so the sources and their build (`dist/`) find the same files.
const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url);
const MIGRATION_FILE = /^(\d{3}_[a-z0-9_]+)\.sql$/;

/**
 * Any fixed 64-bit key works as long as every Tracegram process uses the same one: the transaction-scoped
 * advisory lock makes a second process opening at the same time wait, then find nothing left to do.
 */
const MIGRATION_LOCK_KEY = 7_294_117_301;

const CREATE_SCHEMA_MIGRATIONS = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name       text PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** Reads `migrations/NNN_name.sql` in name order; a file not matching the pattern is a packaging mistake. */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const name = MIGRATION_FILE.exec(file)?.[1];
    if (name === undefined) throw new StoreError(`store: unexpected file in migrations: ${file}`);
    migrations.push({ name, sql: await readFile(new URL(file, dir), 'utf8') });
  }
  return migrations;
}

/** Applies the pending migrations in order, all in one transaction; returns the names it applied. */
export async function migrate(db: Db, migrations: readonly Migration[]): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`, [], { operation: 'SELECT' });
    await tx.exec(CREATE_SCHEMA_MIGRATIONS, { operation: 'CREATE', table: 'schema_migrations' });
    const { rows } = await tx.query<{ name: string }>('SELECT name FROM schema_migrations', [], {
      operation: 'SELECT',
      table: 'schema_migrations',
    });
    const applied = new Set(rows.map((row) => row.name));
    const pending = migrations.filter((migration) => !applied.has(migration.name));
    for (const { name, sql } of pending) {
      try {
        await tx.exec(sql, { operation: 'MIGRATE' });
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        // The span only says MIGRATE; whoever reads the start-up failure needs the file.
        throw new StoreError(`store: migration ${name} failed (${error.detail})`, {
          cause: error,
          detail: error.detail ?? 'migration',
        });
      }
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name], {
        operation: 'INSERT',
        table: 'schema_migrations',
      });
    }
    return pending.map((migration) => migration.name);
  });
}
