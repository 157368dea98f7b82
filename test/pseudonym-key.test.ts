import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../src/config.js';
import { createPseudonymizer } from '../src/telemetry/pseudonym.js';
import { PSEUDONYM_KEY_FILE, resolvePseudonymKey } from '../src/telemetry/pseudonym-key.js';
import { repoPath } from './observability/support.js';
import { TEST_TOKEN } from './support/harness.js';

const run = promisify(execFile);
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tracegram-pseudonym-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const KEY = 'k'.repeat(40);

describe('the pseudonym key', () => {
  test('PSEUDONYM_KEY wins, and nothing is written', async () => {
    const dataDir = tempDir();
    expect(await resolvePseudonymKey({ pseudonymKey: KEY, dataDir })).toEqual({
      key: KEY,
      source: 'PSEUDONYM_KEY',
    });
    expect(() => statSync(join(dataDir, PSEUDONYM_KEY_FILE))).toThrow();
  });

  test('unset: created in DATA_DIR on the first start (owner-only), and the same key on every start after', async () => {
    const dataDir = join(tempDir(), 'not-yet-there');
    const first = await resolvePseudonymKey({ pseudonymKey: undefined, dataDir });
    expect(first.source).toBe('created');
    const file = join(dataDir, PSEUDONYM_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.key);
    const again = await resolvePseudonymKey({ pseudonymKey: undefined, dataDir });
    expect(again).toEqual({ key: first.key, source: 'file', path: file });
  });

  test('unset and DATA_DIR cannot hold it: the start fails naming PSEUDONYM_KEY', async () => {
    const blocker = join(tempDir(), 'a-file');
    writeFileSync(blocker, '');
    const failure = resolvePseudonymKey({ pseudonymKey: undefined, dataDir: join(blocker, 'data') });
    await expect(failure).rejects.toThrow(ConfigError);
    await expect(failure).rejects.toThrow(
      /PSEUDONYM_KEY is unset and DATA_DIR .* cannot hold pseudonym\.key/,
    );
  });

  test('pseudonyms are keyed with it, not with the bot token', () => {
    expect(createPseudonymizer(KEY)(42)).toMatch(/^u_[\w-]{16}$/);
    expect(createPseudonymizer(KEY)(42)).not.toBe(createPseudonymizer(TEST_TOKEN)(42));
  });
});

describe('npm run pseudonym', () => {
  // The script's own command, without npm (its banner) in between; no BOT_TOKEN in its environment.
  const script = (env: Record<string, string>, ...ids: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'scripts/pseudonym.ts', ...ids], {
      cwd: repoPath('.'),
      env: { PATH: process.env.PATH ?? '', ...env },
    }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  test('prints what the bot computes, from the key the bot created, without the bot token', async () => {
    const dataDir = tempDir();
    const { key } = await resolvePseudonymKey({ pseudonymKey: undefined, dataDir });
    const result = await script({ DATA_DIR: dataDir }, '4242', '77');
    expect(result.stdout).toBe(
      `4242\t${createPseudonymizer(key)(4242)}\n77\t${createPseudonymizer(key)(77)}\n`,
    );
  }, 30_000);

  test('with no key anywhere it says where it looked, and exits 2', async () => {
    const result = await script({ DATA_DIR: tempDir() }, '4242');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /no pseudonym key: PSEUDONYM_KEY is unset and .*pseudonym\.key does not exist/,
    );
  }, 30_000);
});
