import { type ChildProcess, spawn } from 'node:child_process';
import packageJson from '../../package.json' with { type: 'json' };
import type { BotApiStandIn } from '../../tools/telegram-stand-in/index.js';
import { TEST_TOKEN } from './harness.js';

/** `npm start`'s own command, run directly so that a SIGTERM reaches the bot rather than npm. */
export function startBot(
  standIn: BotApiStandIn,
  dataDir: string,
  env: Record<string, string> = {},
): ChildProcess {
  const [command, ...args] = packageJson.scripts.start.split(' ') as [string, ...string[]];
  return spawn(command, args, {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      BOT_TOKEN: TEST_TOKEN,
      TELEGRAM_API_ROOT: standIn.apiRoot,
      PORT: '0',
      DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the exit code once the process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
