import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type BotApiStandIn, startBotApiStandIn } from '../tools/telegram-stand-in/index.js';
import { exited, startBot } from './support/bot-process.js';
import { TEST_TOKEN } from './support/harness.js';

/**
 * A collector that accepts connections and never answers: worse than a refused port, which fails fast.
 * The OTLP exporters wait out their own timeouts and retry, and a shutdown that waits for them would
 * overrun any orchestrator's grace period.
 */
interface BlackHole {
  url: string;
  connections: () => number;
  close: () => Promise<void>;
}

async function startBlackHole(): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('shutdown with a collector that never answers', () => {
  let standIn: BotApiStandIn;
  let collector: BlackHole;
  let child: ChildProcess;
  let stderr = '';
  let dataDir: string;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tracegram-shutdown-'));
    standIn = await startBotApiStandIn({ token: TEST_TOKEN });
    collector = await startBlackHole();
    stderr = '';
    child = startBot(standIn, dataDir, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout?.resume();
    // A cold start (PGlite's WebAssembly, the migrations) takes 4–10 s on a quiet 2-core machine and
    // three times that on a busy one.
    await standIn.waitFor({ method: 'setMyCommands' }, 60_000);
    // Something to export: one update's spans and logs sit in the batch processors.
    const user = standIn.user({ id: 515151, first_name: 'Tess', language_code: 'en' });
    await user.sendCommand('/start');
    await standIn.waitFor({ method: 'sendMessage', count: 1 }, 15_000);
  }, 90_000);

  afterEach(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await standIn.stop();
    await collector.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('SIGTERM: the process exits cleanly within 10 s', async () => {
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const code = await exited(child);
    const tookMs = Date.now() - signalledAt;

    expect(tookMs).toBeLessThan(10_000);
    expect(code, stderr).toBe(0);
    // The exporters did try to ship: this was a collector that swallowed the data, not a missing one.
    expect(collector.connections()).toBeGreaterThan(0);
  }, 30_000);

  test('a second signal exits at once, saying so', async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const secondAt = Date.now();
    child.kill('SIGTERM');
    const code = await exited(child);

    expect(Date.now() - secondAt).toBeLessThan(1_500);
    expect(code).toBe(1);
    expect(stderr).toContain('"event":"SHUTDOWN_FORCED"');
  }, 30_000);
});
