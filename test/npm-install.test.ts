import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, test } from 'vitest';
import lock from '../package-lock.json' with { type: 'json' };
import { readText, repoPath } from './observability/support.js';

/**
 * What a new user's first `npm install` prints. npm runs on the machine's own Node (not the project's Node 24,
 * which npm scripts use), so the check runs npm with node_modules/.bin taken off PATH, as a fresh shell has it.
 * `npm ci --dry-run` resolves the lockfile and reports engines and install scripts without writing anything.
 */
function freshInstallOutput(): { output: string; nodeVersion: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tracegram-install-'));
  const env = {
    ...process.env,
    PATH: (process.env.PATH ?? '')
      .split(':')
      .filter((entry) => !entry.includes('node_modules'))
      .join(':'),
  };
  try {
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(repoPath(file), join(dir, file));
    const nodeVersion = execFileSync('node', ['--version'], { env, encoding: 'utf8' }).trim();
    // npm writes warnings to stderr; 2>&1 keeps them in order with the summary.
    const output = execFileSync('sh', ['-c', 'npm ci --dry-run --no-audit --no-fund 2>&1'], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { output, nodeVersion };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Packages in the lockfile (tracegram itself included) whose `engines.node` excludes `version`. */
function engineMisfits(version: string): string[] {
  return Object.entries(lock.packages as Record<string, { engines?: { node?: string } }>)
    .filter(([, meta]) => meta.engines?.node && !semver.satisfies(version, meta.engines.node))
    .map(([path]) => (path === '' ? 'tracegram' : path.replace(/^.*node_modules\//, '')))
    .sort();
}

describe('a fresh npm install', () => {
  test('prints no install-scripts warning, and EBADENGINE only for packages the running Node is too old for', () => {
    const { output, nodeVersion } = freshInstallOutput();
    const warnings = output.split('\n').filter((line) => line.startsWith('npm warn'));
    expect(warnings.filter((line) => !line.startsWith('npm warn EBADENGINE'))).toEqual([]);
    const flagged = [...output.matchAll(/EBADENGINE {3}package: '(.+?)@[^@']+'/g)].map((m) => m[1]).sort();
    expect(flagged).toEqual(engineMisfits(nodeVersion));
  }, 150_000);

  test('README says exactly which EBADENGINE lines to expect on each Node', () => {
    const readme = readText('README.md');
    // Node 24: silent. Node 22.15 (the engines floor): a test-only parser that declares Node >= 24, and
    // undici, which declares 22.19 (the bot's HTTP client; it runs on the bundled Node 24).
    expect(engineMisfits('24.0.0')).toEqual([]);
    expect(engineMisfits('22.15.0')).toEqual(['@grafana/lezer-logql', 'undici']);
    expect(engineMisfits('22.19.0')).toEqual(['@grafana/lezer-logql']);
    expect(readme).toContain('`@grafana/lezer-logql`');
    expect(readme).toContain('`undici`');
    expect(readme).toContain(`Node.js ${lock.packages[''].engines.node.replace('>=', '≥ ')}`);
    expect(readme).not.toMatch(/Node\.js ≥ 20/);
  });
});
