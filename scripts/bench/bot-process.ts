import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Loaded by Node's own type stripping: the bot runs as `npm start` runs it, with no TypeScript loader.
const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));
const AUTO_INSTRUMENTATIONS = '@opentelemetry/auto-instrumentations-node/register';

export interface Sample {
  /** Process CPU time, user + system, all threads (µs). */
  cpuMicros: number;
  /** Of cpuMicros, the time spent in the kernel (syscalls: sockets, pipes, the loopback TCP stack). */
  kernelMicros: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  at: number;
}

export interface BotProcessOptions {
  env: Record<string, string>;
  /** Load @opentelemetry/auto-instrumentations-node before the app, as its README tells users to. */
  autoInstrumentations: boolean;
  /** The checkout whose code runs; default this one (`--baseline` runs another beside it). */
  cwd?: string | undefined;
  /** A script to run instead of the app's entry (the floor bots), with the same flags and probe. */
  entry?: string | undefined;
}

/** A checkout's npm scripts: another checkout (`--baseline`) may start its bot differently from this one. */
function scriptsOf(checkout: string): Record<string, string | undefined> {
  return (
    JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
}

/** `npm start`'s command line in a checkout (`[exec] node <flags> <entry>`), split into its flags and entry. */
function startCommandOf(checkout: string): { flags: string[]; entry: string } {
  const words = (scriptsOf(checkout).start ?? '').split(' ');
  const flags = words.slice(words.indexOf('node') + 1);
  const entry = flags.pop();
  if (!entry) throw new Error(`${checkout}: package.json has no \`start\` script to run`);
  return { flags, entry };
}

/** Runs what `npm start` runs before the bot (the build, since `dist/`), once per checkout. */
export function buildCheckout(checkout: string): void {
  if (scriptsOf(checkout).prestart === undefined) return; // a checkout from before the build step
  execFileSync('npm', ['run', '--silent', 'prestart'], { cwd: checkout, stdio: 'inherit' });
}

/**
 * The bot as `npm start` runs it, in its own process so its CPU and memory
 * can be read apart from the load generator's. Its stdout is only counted (lines), as a log shipper would read it.
 */
export class BotProcess {
  readonly child: ChildProcess;
  stdoutLines = 0;
  readonly #stderr: string[] = [];
  readonly #ready: Promise<void>;
  /** Stdout until the bot is ready: why it could not start, when it exits first (it logs that as JSON). */
  #startupOutput: string | undefined = '';

  constructor(options: BotProcessOptions) {
    const start = startCommandOf(options.cwd ?? REPO_ROOT);
    const entry = options.entry ?? start.entry;
    const args = [
      ...start.flags,
      ...(options.autoInstrumentations ? ['--import', AUTO_INSTRUMENTATIONS] : []),
      '--import',
      PROBE,
      entry,
    ];
    // BENCH_BOT_CPUS (set by `--pin`) pins the bot to its own core(s) with taskset, so that neither its CPU
    // figures nor its profile are charged with time PostgreSQL and the load take from it on 2 cores.
    const pin = process.env.BENCH_BOT_CPUS;
    this.child = spawn(
      pin ? 'taskset' : process.execPath,
      pin ? ['-c', pin, process.execPath, ...args] : args,
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    this.child.stdout?.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.stdoutLines += 1;
      if (this.#startupOutput !== undefined) this.#startupOutput += chunk.toString('utf8');
    });
    const exited = new Promise<never>((_, reject) => {
      this.child.once('exit', (code, signal) =>
        reject(new Error(`bot exited before ready (${code ?? signal}): ${this.#startupReport()}`)),
      );
    });
    // Readiness is asked of the bot, as an orchestrator's probe would: a log line would depend on LOG_LEVEL.
    this.#ready = Promise.race([exited, this.#answersReadyz(options.env.PORT)]).then(() => {
      this.#startupOutput = undefined;
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr.push(chunk.toString('utf8'));
      if (this.#stderr.length > 200) this.#stderr.shift();
    });
  }

  ready(timeoutMs = 60_000): Promise<void> {
    return Promise.race([
      this.#ready,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`bot not ready after ${timeoutMs} ms: ${this.#startupReport()}`)),
          timeoutMs,
        ).unref(),
      ),
    ]);
  }

  async #answersReadyz(port: string | undefined): Promise<void> {
    if (!port) throw new Error('a bot under benchmark needs PORT in its environment');
    while (this.child.exitCode === null && this.child.signalCode === null) {
      const answered = await fetch(`http://127.0.0.1:${port}/readyz`, {
        signal: AbortSignal.timeout(1000),
      }).then(
        (response) => response.ok,
        () => false,
      );
      if (answered) return;
      await sleep(50);
    }
    throw new Error('bot exited before it answered /readyz');
  }

  #startupReport(): string {
    return `${(this.#startupOutput ?? '').slice(-2000)}${this.stderr().slice(-2000)}`;
  }

  stderr(): string {
    return this.#stderr.join('');
  }

  async sample(): Promise<Sample> {
    const { cpu, memory } = (await this.#ask({ type: 'sample' }, 'sample')) as {
      cpu: NodeJS.CpuUsage;
      memory: NodeJS.MemoryUsage;
    };
    return {
      cpuMicros: cpu.user + cpu.system,
      kernelMicros: cpu.system,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      at: performance.now(),
    };
  }

  /** Exports what the bot's telemetry holds (see probe.ts). */
  async flush(): Promise<void> {
    await this.#ask({ type: 'flush' }, 'flushed');
  }

  async startProfile(): Promise<void> {
    await this.#ask({ type: 'profile-start' }, 'profile-started');
  }

  /** Writes the V8 CPU profile taken since `startProfile` to `path` (.cpuprofile, opens in Chrome DevTools). */
  async stopProfile(path: string): Promise<void> {
    await this.#ask({ type: 'profile-stop', path }, 'profile-stopped');
  }

  #ask(request: object, replyType: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (message.type !== replyType) return;
        this.child.off('message', onMessage);
        resolve(message);
      };
      this.child.on('message', onMessage);
      this.child.send(request);
    });
  }

  /** SIGTERM, as an orchestrator stops it: the bot flushes its telemetry and exits. */
  async stop(timeoutMs = 20_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    if (this.child.connected) this.child.disconnect();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
