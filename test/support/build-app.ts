import { execFileSync } from 'node:child_process';

/**
 * Vitest's global setup. The tests that start the bot as a process run `npm start`'s command
 * (`node dist/main.js`), so the build runs once before any test file. It is incremental: when `npm start`'s
 * own prestart build runs later in one test, it finds nothing to write while other tests' bots load `dist/`.
 */
export default function buildApp(): void {
  execFileSync('npm', ['run', '--silent', 'build'], {
    cwd: new URL('../..', import.meta.url),
    stdio: 'inherit',
  });
}
