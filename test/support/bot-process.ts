import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import packageJson from '../../package.json' with { type: 'json' };
import type { BotApiStandIn } from '../../tools/telegram-stand-in/index.js';
import { TEST_TOKEN } from './harness.js';

/** The real entry point in its own process, and an OTLP/HTTP (JSON) receiver that records what arrives. */

export type OtlpSignal = 'traces' | 'logs' | 'metrics';

export interface OtlpRequest {
  signal: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface OtlpReceiver {
  url: string;
  bodies: Record<OtlpSignal, unknown[]>;
  /** Every request, whatever its path or encoding. */
  requests: OtlpRequest[];
  raw: string[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const bodies: OtlpReceiver['bodies'] = { traces: [], logs: [], metrics: [] };
  const requests: OtlpRequest[] = [];
  const raw: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      raw.push(body);
      const signal = (req.url ?? '').replace('/v1/', '');
      requests.push({ signal, headers: req.headers, body });
      if (signal in bodies) bodies[signal as OtlpSignal].push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    requests,
    raw,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The environment a test bot process runs with: the stand-in's API, free ports, its own data dir. */
export function botEnv(standIn: BotApiStandIn, dataDir: string): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BOT_TOKEN: TEST_TOKEN,
    TELEGRAM_API_ROOT: standIn.apiRoot,
    PORT: '0',
    METRICS_PORT: '0',
    DATA_DIR: dataDir,
  };
}

/**
 * `npm start`'s own command, run directly (without npm and its shell, whence no `exec`), so the test owns the
 * node process; test/npm-start.test.ts checks that signalling npm itself stops the bot too. Its prestart
 * build ran once in the tests' global setup (test/support/build-app.ts).
 */
export function startBot(
  standIn: BotApiStandIn,
  dataDir: string,
  env: Record<string, string> = {},
): ChildProcess {
  const [command, ...args] = packageJson.scripts.start.replace(/^exec /, '').split(' ') as [
    string,
    ...string[],
  ];
  return spawn(command, args, {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...botEnv(standIn, dataDir), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string; boolValue?: boolean } }>;
}

export function spansOf(bodies: unknown[]): OtlpSpan[] {
  return (bodies as Array<{ resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> }>).flatMap(
    (b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
  );
}

/** Resource attributes of every OTLP body, as key → string value. */
export function resourcesOf(bodies: unknown[]): Array<Record<string, string | undefined>> {
  return (
    bodies as Array<
      Record<
        string,
        Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> } }>
      >
    >
  ).flatMap((body) =>
    Object.values(body).flatMap((entries) =>
      entries.map((entry) =>
        Object.fromEntries(entry.resource.attributes.map((a) => [a.key, a.value.stringValue])),
      ),
    ),
  );
}

export function attr(span: OtlpSpan, key: string): string | boolean | undefined {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue ?? value?.boolValue;
}

/** Output and exit of a running bot process. */
export class BotProcess {
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  readonly #exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk) => {
      this.stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      this.stderr += chunk;
    });
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        resolve();
      }),
    );
  }

  /** JSON log lines on stdout, parsed. */
  lines(): Array<Record<string, unknown>> {
    return this.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** SIGTERM, then wait for the exit (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    if (this.exitCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.#exited;
    clearTimeout(timer);
    return this.exitCode;
  }
}

/** Resolves with the exit code once the process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
