import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeCallbackData } from '../src/ui/callback-data.js';
import { type BotApiStandIn, startBotApiStandIn } from '../tools/telegram-stand-in/index.js';
import {
  attr,
  botEnv,
  type OtlpReceiver,
  type OtlpSpan,
  spansOf,
  startBot,
  startOtlpReceiver,
} from './support/bot-process.js';
import { TEST_TOKEN } from './support/harness.js';

/**
 * What a new user does: `npm start` with BOT_TOKEN, TELEGRAM_API_ROOT at a Bot API emulator and
 * OTEL_EXPORTER_OTLP_ENDPOINT at an OTLP/HTTP receiver. The real entry point, in its own process.
 */
describe('npm start against a Bot API emulator and an OTLP receiver', () => {
  let standIn: BotApiStandIn;
  let receiver: OtlpReceiver;
  let child: ChildProcess;
  let stdout = '';
  let stderr = '';
  let exitCode: number | null = null;
  const dataDir = mkdtempSync(join(tmpdir(), 'tracegram-e2e-'));

  beforeAll(async () => {
    standIn = await startBotApiStandIn({ token: TEST_TOKEN });
    receiver = await startOtlpReceiver();
    child = startBot(standIn, dataDir, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // JSON, so this receiver can read what arrives; production defaults to protobuf.
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=e2e',
    });
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => {
      exitCode = code;
    });
    // A cold start takes 10 s on a quiet 2-core machine and three times that on a busy one.
    await standIn.waitFor({ method: 'setMyCommands' }, 60_000).catch((error) => {
      throw new Error(`the bot did not start: ${error}\nstdout: ${stdout}\nstderr: ${stderr}`);
    });
  }, 90_000);

  afterAll(async () => {
    if (exitCode === null) child.kill('SIGKILL');
    await standIn.stop();
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('replies right, exports one root span per update with its trace id in the logs, leaks nothing', async () => {
    const user = standIn.user({ id: 424242, first_name: 'Erin', language_code: 'en' });

    await user.sendCommand('/start');
    await standIn.waitFor({ method: 'sendMessage', count: 1 }, 15_000);
    const firstMenu = standIn.lastMessage(user.id) as Message;
    expect(firstMenu.text).toContain('Pick a category');

    await user.press(firstMenu, '🖼 Images');
    await standIn.waitFor({ method: 'answerCallbackQuery', count: 1 }, 10_000);
    const models = standIn.lastMessage(user.id) as Message;
    expect(models.text).toContain('Images: choose a model');

    await user.press(models, 'Flux Pro · 4 cr');
    await standIn.waitFor({ method: 'answerCallbackQuery', count: 2 }, 10_000);
    expect(standIn.lastMessage(user.id)?.text).toContain('Flux Pro — 4 credits');

    await user.pressData(standIn.lastMessage(user.id) as Message, '1.mm.c.forged!');
    await standIn.waitFor({ method: 'answerCallbackQuery', count: 3 }, 10_000);
    expect(standIn.calls.filter((c) => c.method === 'answerCallbackQuery').at(-1)?.params.text).toMatch(
      /not recognised/,
    );

    await user.sendCommand('/start');
    await standIn.waitFor({ method: 'sendMessage', count: 2 }, 10_000);
    await user.pressData(firstMenu, encodeCallbackData('MAIN_MENU', 'CATEGORY', ['audio']));
    await standIn.waitFor({ method: 'answerCallbackQuery', count: 4 }, 10_000);
    expect(standIn.calls.filter((c) => c.method === 'answerCallbackQuery').at(-1)?.params.text).toMatch(
      /outdated/,
    );

    // SIGTERM: stop taking updates, finish, flush telemetry, exit 0.
    child.kill('SIGTERM');
    await new Promise<void>((resolve) =>
      exitCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
    expect(exitCode, stderr).toBe(0);

    const spans = spansOf(receiver.bodies.traces);
    const roots = spans.filter((s) => s.name.startsWith('update '));
    expect(roots).toHaveLength(6);
    expect(new Set(roots.map((r) => r.traceId)).size).toBe(6);
    expect(roots.map((r) => attr(r, 'tracegram.reason_code'))).toEqual([
      'SUCCESS',
      'SUCCESS',
      'SUCCESS',
      'UNKNOWN_ACTION',
      'SUCCESS',
      'STATE_MISMATCH',
    ]);
    for (const root of roots) {
      const children = spans.filter((s) => s.parentSpanId === root.spanId).map((s) => s.name);
      expect(children).toContain('stage received');
      const decision = spans.find(
        (s) => s.parentSpanId === root.spanId && (s.name === 'stage accepted' || s.name === 'stage rejected'),
      );
      expect(attr(decision as OtlpSpan, 'tracegram.reason_code')).toBe(attr(root, 'tracegram.reason_code'));
    }

    // Logs: on stdout as JSON with the trace id, and exported by OTLP with the same trace context.
    const lines = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const logRecords = (
      receiver.bodies.logs as Array<{
        resourceLogs: Array<{
          scopeLogs: Array<{ logRecords: Array<{ traceId?: string; eventName?: string }> }>;
        }>;
      }>
    ).flatMap((b) => b.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)));
    for (const root of roots) {
      expect(lines.filter((l) => l.trace_id === root.traceId).map((l) => l.event)).toContain('DISPATCH_OK');
      expect(logRecords.some((r) => r.traceId === root.traceId && r.eventName === 'DISPATCH_OK')).toBe(true);
    }
    expect(receiver.bodies.metrics.length).toBeGreaterThan(0);
    expect(JSON.stringify(receiver.bodies.metrics)).toContain('tracegram.updates');

    // The resource names the service; nothing anywhere carries the token or the raw user id.
    expect(receiver.raw.join('')).toContain('"deployment.environment.name"');
    for (const text of [stdout, stderr, ...receiver.raw]) {
      expect(text).not.toContain(TEST_TOKEN.split(':')[1]);
      expect(text).not.toContain('424242');
    }
  }, 90_000);
});

describe('a SIGTERM while the bot is still starting', () => {
  test.each(['APP_STARTING', 'MIGRATION_APPLIED'])(
    'arriving at %s stops the process cleanly instead of leaving a bot running',
    async (event) => {
      const standIn = await startBotApiStandIn({ token: TEST_TOKEN });
      const dataDir = mkdtempSync(join(tmpdir(), 'tracegram-sigterm-'));
      const child = startBot(standIn, dataDir);
      let stdout = '';
      let signalled = false;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // The clock starts at the signal: opening PGlite alone can take seconds on a loaded machine.
      const stillRunning = new Promise<'still running'>((resolve) => {
        child.stdout?.on('data', (chunk) => {
          stdout += chunk;
          if (!signalled && stdout.includes(`"event":"${event}"`)) {
            signalled = true;
            child.kill('SIGTERM');
            setTimeout(() => resolve('still running'), 15_000);
          }
        });
      });
      try {
        const code = await Promise.race([exited, stillRunning]);
        expect(code, stdout).toBe(0);
        // Whatever it had started, it stopped: the last word is APP_STOPPED, or it never got to APP_READY.
        const events = stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => (JSON.parse(l) as { event: string }).event);
        if (events.includes('APP_READY')) expect(events.at(-1)).toBe('APP_STOPPED');
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await standIn.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

/** Every process below `pid` (npm → its shell, if any → node → esbuild). */
function descendantsOf(pid: number): number[] {
  let children: number[];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    children = []; // ps exits 1 when there are none
  }
  return children.flatMap((child) => [child, ...descendantsOf(child)]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a supervisor that signals the process it started', () => {
  test('SIGTERM to `npm start` stops the bot itself: no node left polling, its port closed', async () => {
    const standIn = await startBotApiStandIn({ token: TEST_TOKEN });
    const dataDir = mkdtempSync(join(tmpdir(), 'tracegram-supervised-'));
    // What the README documents and a supervisor runs: npm itself, the process that gets the signal.
    const child = spawn('npm', ['start'], {
      cwd: new URL('..', import.meta.url).pathname,
      env: botEnv(standIn, dataDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let processes: number[] = [];
    try {
      const ready = await new Promise<{ http: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the bot did not start: ${stdout}`)), 40_000);
        child.stdout?.on('data', () => {
          const line = stdout.split('\n').find((l) => l.includes('"event":"APP_READY"'));
          if (line) {
            clearTimeout(timer);
            resolve(JSON.parse(line) as { http: string });
          }
        });
      });
      // Polling under way, as a supervisor's stop would find it: a user's /start has been answered.
      await standIn.user({ id: 515151, first_name: 'Una', language_code: 'en' }).sendCommand('/start');
      await standIn.waitFor({ method: 'sendMessage' }, 20_000);
      processes = descendantsOf(child.pid as number);
      expect(processes.length).toBeGreaterThan(0);

      child.kill('SIGTERM');
      await exited;
      const deadline = Date.now() + 10_000;
      while (processes.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

      expect(processes.filter(isAlive), 'processes npm started that outlived it').toEqual([]);
      const probe = await fetch(`${ready.http}/healthz`).then(
        (response) => `answered ${response.status}`,
        () => 'refused',
      );
      expect(probe).toBe('refused');
      expect(stdout).toContain('"event":"APP_STOPPED"');
    } finally {
      for (const pid of processes.filter(isAlive)) process.kill(pid, 'SIGKILL');
      if (child.exitCode === null) child.kill('SIGKILL');
      await standIn.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 70_000);
});
