import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config.js';

/** Where the generated key lives when PSEUDONYM_KEY is unset. */
export const PSEUDONYM_KEY_FILE = 'pseudonym.key';

/** DATA_DIR of the in-memory store (tests): nothing is written, the key lives as long as the process. */
const IN_MEMORY_DATA_DIR = 'memory://';

export interface PseudonymKeySettings {
  pseudonymKey: string | undefined;
  dataDir: string;
}

export interface ResolvedKey {
  key: string;
  /** `PSEUDONYM_KEY`; the file under DATA_DIR (`created` on this start); or in memory only (tests). */
  source: 'PSEUDONYM_KEY' | 'file' | 'created' | 'memory';
  path?: string;
}

/**
 * The pseudonym key, resolved once at start-up: PSEUDONYM_KEY when set, else `<DATA_DIR>/pseudonym.key`,
 * created (0600) on the first start so the embedded default needs no set-up. When DATA_DIR cannot hold it
 * (a read-only file system, say, with the store in PostgreSQL) the start fails naming PSEUDONYM_KEY: a key
 * made up per process would change every user's pseudonym at each restart and quietly break every lookup.
 */
export async function resolvePseudonymKey(settings: PseudonymKeySettings): Promise<ResolvedKey> {
  if (settings.pseudonymKey) return { key: settings.pseudonymKey, source: 'PSEUDONYM_KEY' };
  if (settings.dataDir === IN_MEMORY_DATA_DIR) {
    return { key: randomBytes(32).toString('hex'), source: 'memory' };
  }
  const path = join(settings.dataDir, PSEUDONYM_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing !== undefined) return { key: existing, source: 'file', path };
  const key = randomBytes(32).toString('hex');
  try {
    await mkdir(settings.dataDir, { recursive: true });
    // `wx`: two instances starting together on one DATA_DIR must not each write their own key.
    await writeFile(path, `${key}\n`, { flag: 'wx', mode: 0o600 });
    return { key, source: 'created', path };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EEXIST') {
      const written = await readKeyFile(path);
      if (written !== undefined) return { key: written, source: 'file', path };
    }
    throw new ConfigError(
      `PSEUDONYM_KEY is unset and DATA_DIR (${settings.dataDir}) cannot hold ${PSEUDONYM_KEY_FILE} (${code ?? 'error'}): ` +
        'set PSEUDONYM_KEY (e.g. openssl rand -hex 32), the same for every instance, so pseudonyms stay stable',
    );
  }
}

/** The key without creating one (`npm run pseudonym`): undefined when the bot has not made it yet. */
export async function readPseudonymKey(settings: PseudonymKeySettings): Promise<ResolvedKey | undefined> {
  if (settings.pseudonymKey) return { key: settings.pseudonymKey, source: 'PSEUDONYM_KEY' };
  const path = join(settings.dataDir, PSEUDONYM_KEY_FILE);
  const key = await readKeyFile(path);
  return key === undefined ? undefined : { key, source: 'file', path };
}

async function readKeyFile(path: string): Promise<string | undefined> {
  try {
    const key = (await readFile(path, 'utf8')).trim();
    return key.length >= 32 ? key : undefined;
  } catch (error) {
    const code = (error as { code?: string }).code;
    // Not there (or DATA_DIR is not a directory, which writing it will report).
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ConfigError(
      `cannot read the pseudonym key ${path} (${code ?? 'error'}): fix its permissions or set PSEUDONYM_KEY`,
    );
  }
}
