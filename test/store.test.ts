import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { type DiagLogger, DiagLogLevel, diag, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
} from '@opentelemetry/semantic-conventions';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { StoreError } from '../src/errors.js';
import { type ConnectionLost, type OpenStoreOptions, openStore, type Store } from '../src/store/index.js';
import { ATTR } from '../src/telemetry/conventions.js';
import { installMemoryTracing } from './support/otel.js';
import { admin } from './support/store-engines.js';

const tracing = installMemoryTracing();
const testTracer = trace.getTracer('store-test');

const PG_HOST = '127.0.0.1';
const PG_PORT = 5432;
const PG_DATABASE = 'test';
/** Trust auth ignores it; it is in the URL so the tests can prove it never reaches spans or errors. */
const PASSWORD = `pw-${randomUUID()}`;
const ADMIN_URL = `postgres://postgres@${PG_HOST}:${PG_PORT}/${PG_DATABASE}`;

function pgUrl(schema: string, port = PG_PORT): string {
  const options = encodeURIComponent(`-c search_path=${schema}`);
  return `postgres://postgres:${PASSWORD}@${PG_HOST}:${port}/${PG_DATABASE}?options=${options}`;
}

/** A database of its own for one test or suite, so parallel runs never see each other's rows. */
interface Isolated {
  options: OpenStoreOptions;
  dispose(): Promise<void>;
}

interface Engine {
  kind: Store['kind'];
  engineAttr: 'pg' | 'pglite';
  namespace: string;
  isolate(): Promise<Isolated>;
}

const engines: Engine[] = [
  {
    kind: 'postgres',
    engineAttr: 'pg',
    namespace: PG_DATABASE,
    async isolate() {
      const schema = `store_test_${randomUUID().replaceAll('-', '')}`;
      await admin(`CREATE SCHEMA ${schema}`, ADMIN_URL);
      return {
        options: { databaseUrl: pgUrl(schema), dataDir: join(tmpdir(), 'tracegram-unused') },
        dispose: () => admin(`DROP SCHEMA ${schema} CASCADE`, ADMIN_URL),
      };
    },
  },
  {
    kind: 'pglite',
    engineAttr: 'pglite',
    namespace: 'postgres',
    async isolate() {
      const dataDir = await mkdtemp(join(tmpdir(), 'tracegram-store-'));
      return { options: { dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
    },
  },
];

async function migrationFiles(): Promise<string[]> {
  const files = await readdir(new URL('../migrations/', import.meta.url));
  return files
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => file.replace(/\.sql$/, ''));
}

/** Everything a span exporter would ship, as one string to search for leaks. */
function exported(spans: readonly ReadableSpan[]): string {
  return JSON.stringify(
    spans.map((span) => ({
      name: span.name,
      attributes: span.attributes,
      status: span.status,
      events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    })),
  );
}

/** Takes a grammY `MaybePromise` too; asserts it rejects with a StoreError and returns that. */
async function rejection(pending: unknown): Promise<StoreError> {
  const error = await Promise.resolve(pending).then(
    () => expect.fail('expected a rejection'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  const storeError = error as StoreError;
  expect(storeError.reasonCode).toBe('DB_ERROR');
  return storeError;
}

/** How a logger would print it, cause chain included. */
function printed(error: unknown): string {
  return `${inspect(error, { depth: 10 })} ${JSON.stringify(error)}`;
}

function failedSpans(): ReadableSpan[] {
  return tracing.spans().filter((span) => span.status.code === SpanStatusCode.ERROR);
}

function expectFailedClientSpan(errorType: string): ReadableSpan {
  const span = failedSpans().find((candidate) => candidate.attributes[ATTR_ERROR_TYPE] === errorType);
  expect(span, `a failed span with error.type ${errorType}`).toBeDefined();
  expect(span?.kind).toBe(SpanKind.CLIENT);
  expect(span?.attributes[ATTR_DB_SYSTEM_NAME]).toBe('postgresql');
  expect(span?.events.some((event) => event.name === 'exception')).toBe(true);
  return span as ReadableSpan;
}

beforeEach(() => {
  tracing.exporter.reset();
});

describe.each(engines)('store on $kind', (engine) => {
  let isolated: Isolated;
  let store: Store;
  const applied: string[] = [];

  beforeAll(async () => {
    isolated = await engine.isolate();
    store = await openStore({ ...isolated.options, onMigration: (name) => applied.push(name) });
  });

  afterAll(async () => {
    await store?.close();
    await isolated?.dispose();
  });

  test('reports its engine and answers ping', async () => {
    expect(store.kind).toBe(engine.kind);
    await expect(store.ping()).resolves.toBeUndefined();
  });

  describe('migrations', () => {
    test('applies every migration file once, in order, and records it', async () => {
      const files = await migrationFiles();
      expect(files[0]).toBe('001_sessions');
      expect(applied).toEqual(files);
      const { rows } = await store.db.query<{ name: string }>(
        'SELECT name FROM schema_migrations ORDER BY name',
        [],
        { operation: 'SELECT', table: 'schema_migrations' },
      );
      expect(rows.map((row) => row.name)).toEqual(files);
    });

    test('re-opening applies nothing and keeps the data', async () => {
      const own = await engine.isolate();
      try {
        const first = await openStore(own.options);
        await first.sessions<{ n: number }>().write('kept', { n: 1 });
        await first.close();

        const reapplied: string[] = [];
        const second = await openStore({ ...own.options, onMigration: (name) => reapplied.push(name) });
        try {
          expect(reapplied).toEqual([]);
          await expect(second.sessions<{ n: number }>().read('kept')).resolves.toEqual({ n: 1 });
        } finally {
          await second.close();
        }
      } finally {
        await own.dispose();
      }
    });

    test.runIf(engine.kind === 'postgres')('two processes opening at once migrate exactly once', async () => {
      const own = await engine.isolate();
      try {
        const names: string[] = [];
        const stores = await Promise.all(
          [1, 2, 3].map(() => openStore({ ...own.options, onMigration: (name) => names.push(name) })),
        );
        await Promise.all(stores.map((opened) => opened.close()));
        expect(names.sort()).toEqual(await migrationFiles());
      } finally {
        await own.dispose();
      }
    });

    test.runIf(engine.kind === 'pglite')('creates <dataDir>/pglite when missing', async () => {
      const dataDir = join(await mkdtemp(join(tmpdir(), 'tracegram-store-')), 'nested', 'data');
      try {
        const fresh = await openStore({ dataDir });
        await fresh.close();
        expect((await stat(join(dataDir, 'pglite'))).isDirectory()).toBe(true);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('processed updates', () => {
    test('an update id is claimed once per bot; pruning keeps recent ids', async () => {
      const updates = store.processedUpdates;
      await expect(updates.claim(1, 500)).resolves.toBe(true);
      await expect(updates.claim(1, 500)).resolves.toBe(false);
      await expect(updates.claim(2, 500)).resolves.toBe(true);
      await store.db.query(
        "UPDATE processed_updates SET received_at = now() - interval '2 days' WHERE bot_id = 2",
        [],
        { operation: 'UPDATE', table: 'processed_updates' },
      );
      await expect(updates.prune()).resolves.toBe(1);
      await expect(updates.claim(1, 500)).resolves.toBe(false);
    });
  });

  describe('the claim that reads the session', () => {
    test("claims once, and the first claim reads the chat's session in the same statement", async () => {
      const updates = store.processedUpdates;
      const key = `claim:${randomUUID()}`;
      const botId = 700_000 + Math.floor(Math.random() * 100_000);
      await expect(updates.claimWithSession(botId, 1, key)).resolves.toEqual({
        claimed: true,
        session: undefined,
      });
      await store.sessions<{ screen: string }>().write(key, { screen: 'HELP' });
      tracing.exporter.reset();
      await expect(updates.claimWithSession(botId, 2, key)).resolves.toEqual({
        claimed: true,
        session: { screen: 'HELP' },
      });
      // One query, named after the claim.
      expect(tracing.spans().map((span) => span.name)).toEqual(['INSERT processed_updates']);
      // A repeat is refused and reads nothing; the plain claim agrees.
      await expect(updates.claimWithSession(botId, 2, key)).resolves.toEqual({ claimed: false });
      await expect(updates.claim(botId, 2)).resolves.toBe(false);
    });

    // PGlite is one process's own database; two processes share only PostgreSQL.
    test.runIf(engine.kind === 'postgres')(
      'two processes sharing the store: each update reads the session the other one last wrote',
      async () => {
        // Two stores on one database are two bot processes; each update is claimed, read, changed and written.
        const other = await openStore(isolated.options);
        try {
          const key = `shared:${randomUUID()}`;
          const botId = 800_000 + Math.floor(Math.random() * 100_000);
          const processes = [store, other].map((s) => ({
            updates: s.processedUpdates,
            sessions: s.sessions<{ n: number }>(),
          }));
          for (let updateId = 1; updateId <= 6; updateId += 1) {
            const process = processes[updateId % 2] as (typeof processes)[number];
            const claim = await process.updates.claimWithSession(botId, updateId, key);
            expect(claim.claimed).toBe(true);
            if (!claim.claimed) return;
            process.sessions.prime(key, claim.session as { n: number } | undefined);
            const session = (await process.sessions.read(key)) ?? { n: 0 };
            // Never a stale copy: the other process's write of the previous update is what this one reads.
            expect(session.n).toBe(updateId - 1);
            await process.sessions.write(key, { n: updateId });
            process.sessions.forget(key);
          }
          await expect(store.sessions<{ n: number }>().read(key)).resolves.toEqual({ n: 6 });
        } finally {
          await other.close();
        }
      },
    );

    test('a primed session serves one read of its update only; forgotten, the next read queries the store', async () => {
      const sessions = store.sessions<{ v: string }>();
      const key = `primed:${randomUUID()}`;
      await sessions.write(key, { v: 'stored' });
      sessions.prime(key, { v: 'primed' });
      await expect(sessions.read(key)).resolves.toEqual({ v: 'primed' });
      // Taken once: the next read is the store's.
      await expect(sessions.read(key)).resolves.toEqual({ v: 'stored' });
      // An update that ended before reading its session leaves nothing behind.
      sessions.prime(key, { v: 'never read' });
      sessions.forget(key);
      await expect(sessions.read(key)).resolves.toEqual({ v: 'stored' });
    });
  });

  describe('sessions', () => {
    test('write, read, overwrite, delete', async () => {
      const sessions = store.sessions<{ step: string; count: number }>();
      const key = `chat:${randomUUID()}`;
      await sessions.write(key, { step: 'menu', count: 1 });
      await expect(sessions.read(key)).resolves.toEqual({ step: 'menu', count: 1 });
      await sessions.write(key, { step: 'catalogue', count: 2 });
      await expect(sessions.read(key)).resolves.toEqual({ step: 'catalogue', count: 2 });
      await sessions.delete(key);
      await expect(sessions.read(key)).resolves.toBeUndefined();
    });

    test('an unknown key reads as undefined and deletes quietly', async () => {
      const sessions = store.sessions<unknown>();
      await expect(sessions.read(`missing:${randomUUID()}`)).resolves.toBeUndefined();
      await expect(sessions.delete(`missing:${randomUUID()}`)).resolves.toBeUndefined();
    });

    test('keeps keys apart', async () => {
      const sessions = store.sessions<{ who: string }>();
      const [a, b] = [`a:${randomUUID()}`, `b:${randomUUID()}`];
      await sessions.write(a, { who: 'a' });
      await sessions.write(b, { who: 'b' });
      await sessions.delete(a);
      await expect(sessions.read(a)).resolves.toBeUndefined();
      await expect(sessions.read(b)).resolves.toEqual({ who: 'b' });
    });

    test.each([
      ['unicode text', { text: 'Привет, мир — 你好 🎉👨‍👩‍👧', quote: 'a "b" \\ c\n\t' }],
      ['nested values', { cart: [{ id: 1, qty: 2.5 }], flags: { on: true, off: false }, none: null }],
      ['a top-level array', [1, 'two', { three: 3 }]],
      ['a bare string', 'just text'],
    ])('round-trips %s as JSON', async (_label, value) => {
      const sessions = store.sessions<unknown>();
      const key = `json:${randomUUID()}`;
      await sessions.write(key, value);
      await expect(sessions.read(key)).resolves.toEqual(value);
    });
  });

  describe('telemetry', () => {
    test('each query is a CLIENT child span of the active span', async () => {
      const sessions = store.sessions<{ n: number }>();
      const key = `span:${randomUUID()}`;
      const parent = await testTracer.startActiveSpan('parent', async (span) => {
        try {
          await sessions.write(key, { n: 1 });
          await sessions.read(key);
          await sessions.delete(key);
          return span.spanContext();
        } finally {
          span.end();
        }
      });

      const names = ['INSERT sessions', 'SELECT sessions', 'DELETE sessions'];
      const spans = tracing.spans().filter((span) => names.includes(span.name));
      expect(spans.map((span) => span.name)).toEqual(names);
      for (const span of spans) {
        const [operation, table] = span.name.split(' ');
        expect(span.kind).toBe(SpanKind.CLIENT);
        expect(span.spanContext().traceId).toBe(parent.traceId);
        expect(span.parentSpanContext?.spanId).toBe(parent.spanId);
        expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
        expect(span.attributes).toMatchObject({
          [ATTR_DB_SYSTEM_NAME]: 'postgresql',
          [ATTR_DB_OPERATION_NAME]: operation,
          [ATTR_DB_COLLECTION_NAME]: table,
          [ATTR_DB_NAMESPACE]: engine.namespace,
          [ATTR.STORE_ENGINE]: engine.engineAttr,
        });
        // The SQL as sent, parameterised: the key and the session's content travel as $n parameters.
        const text = String(span.attributes['db.query.text']);
        expect(text).toMatch(new RegExp(`^${operation}\\b[^]*\\$1`));
        expect(text).not.toContain(key);
      }
    });

    test('writing back a session exactly as it was read costs no query; a changed one is written', async () => {
      const sessions = store.sessions<{ screen: string; draft: { n: number } }>();
      const key = `unchanged:${randomUUID()}`;
      await sessions.write(key, { screen: 'MAIN_MENU', draft: { n: 1 } });
      const writes = () => tracing.spans().filter((span) => span.name === 'INSERT sessions').length;
      const before = writes();

      // What grammY does after a rejected press: read, touch nothing, write back.
      const unchanged = await sessions.read(key);
      await sessions.write(key, unchanged as { screen: string; draft: { n: number } });
      expect(writes()).toBe(before);

      const changed = (await sessions.read(key)) as { screen: string; draft: { n: number } };
      changed.draft.n = 2;
      await sessions.write(key, changed);
      expect(writes()).toBe(before + 1);
      await expect(sessions.read(key)).resolves.toEqual({ screen: 'MAIN_MENU', draft: { n: 2 } });
    });

    test('ping is a span named by its operation alone', async () => {
      await store.ping();
      const [span] = tracing.spans();
      expect(span?.name).toBe('SELECT');
      expect(span?.kind).toBe(SpanKind.CLIENT);
      expect(span?.attributes).not.toHaveProperty(ATTR_DB_COLLECTION_NAME);
    });

    test('no parameter value or password reaches a span or an error', async () => {
      const secret = `secret-${randomUUID()}`;
      const sessions = store.sessions<{ token: string }>();
      await sessions.write(`key-${secret}`, { token: `value-${secret}` });
      await sessions.read(`key-${secret}`);
      await sessions.delete(`key-${secret}`);
      // Postgres quotes the offending parameter in this error's message.
      const error = await rejection(
        store.db.query('SELECT $1::integer AS n', [`param-${secret}`], { operation: 'SELECT' }),
      );

      expect(tracing.spans().length).toBeGreaterThanOrEqual(4);
      expect(exported(tracing.spans())).not.toContain(secret);
      expect(exported(tracing.spans())).not.toContain(PASSWORD);
      expect(printed(error)).not.toContain(secret);
      expect(printed(error)).not.toContain(PASSWORD);
    });

    test('a failing query marks its span failed and throws StoreError naming the operation', async () => {
      const error = await rejection(
        store.db.query('SELECT * FROM no_such_table WHERE id = $1', [1], {
          operation: 'SELECT',
          table: 'no_such_table',
        }),
      );
      expect(error.message).toBe('store: SELECT no_such_table failed (42P01)');
      expect(error.detail).toBe('42P01');
      const span = expectFailedClientSpan('42P01');
      expect(span.name).toBe('SELECT no_such_table');
      expect(span.attributes[ATTR_DB_RESPONSE_STATUS_CODE]).toBe('42P01');
    });

    test('a failing transaction rolls back and rethrows the caller error', async () => {
      const key = `tx:${randomUUID()}`;
      const boom = new Error('boom');
      await expect(
        store.db.transaction(async (tx) => {
          await tx.query('INSERT INTO sessions (key, value) VALUES ($1, $2)', [key, '1'], {
            operation: 'INSERT',
            table: 'sessions',
          });
          throw boom;
        }),
      ).rejects.toBe(boom);
      await expect(store.sessions<number>().read(key)).resolves.toBeUndefined();
    });
  });

  test('a closed store rejects with StoreError', async () => {
    const own = await engine.isolate();
    try {
      const closed = await openStore(own.options);
      await closed.close();
      await closed.close();
      await rejection(closed.ping());
      await rejection(closed.sessions().read('any'));
    } finally {
      await own.dispose();
    }
  });
});

/** A port nothing listens on: bound once by the OS, then released. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, PG_HOST, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, PG_HOST, resolve));
  return (server.address() as { port: number }).port;
}

/** Forwards to the real Postgres until `kill()`: then the port refuses and live connections drop. */
async function tcpProxy(): Promise<{ port: number; kill(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    const upstream = connect(PG_PORT, PG_HOST);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await listen(server);
  return {
    port,
    async kill() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

describe('store on a dead PostgreSQL', () => {
  const schema = `store_test_${randomUUID().replaceAll('-', '')}`;
  const warnings: string[] = [];
  const logger: DiagLogger = {
    error: (message) => warnings.push(message),
    warn: (message) => warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };

  beforeAll(async () => {
    await admin(`CREATE SCHEMA ${schema}`, ADMIN_URL);
    diag.setLogger(logger, DiagLogLevel.WARN);
  });

  afterAll(async () => {
    diag.disable();
    await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`, ADMIN_URL);
  });

  test('opening against a port nobody listens on rejects fast with StoreError naming DATABASE_URL and host:port', async () => {
    const port = await unusedPort();
    const started = performance.now();
    const error = await rejection(openStore({ databaseUrl: pgUrl(schema, port), dataDir: tmpdir() }));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(error.detail).toBe('ECONNREFUSED');
    expect(error.message).toBe(
      `DATABASE_URL: cannot use PostgreSQL at ${PG_HOST}:${port}/${PG_DATABASE} (ECONNREFUSED)`,
    );
    expect(printed(error)).not.toContain(PASSWORD);
    expectFailedClientSpan('ECONNREFUSED');
    expect(exported(tracing.spans())).not.toContain(PASSWORD);
  });

  test('ping and session reads reject fast once the database goes away, without crashing', async () => {
    const proxy = await tcpProxy();
    const lost: ConnectionLost[] = [];
    const store = await openStore({
      databaseUrl: pgUrl(schema, proxy.port),
      dataDir: tmpdir(),
      onConnectionLost: (event) => lost.push(event),
    });
    try {
      await store.ping();
      await proxy.kill();
      // The pool's idle connection dies with the proxy; unhandled, that 'error' event would end the process.
      // It is reported with the server it was to (never the credentials), not as a telemetry failure.
      await vi.waitFor(() => expect(lost).toHaveLength(1));
      expect(lost[0]?.server).toBe(`${PG_HOST}:${proxy.port}/${PG_DATABASE}`);
      expect(lost[0]?.type).toMatch(/^[\w-]+$/);
      expect(warnings).toEqual([]);
      tracing.exporter.reset();

      const started = performance.now();
      const pingError = await rejection(store.ping());
      const readError = await rejection(store.sessions().read('chat:1'));
      expect(performance.now() - started).toBeLessThan(3000);

      expect(pingError.message).toBe('store: SELECT failed (ECONNREFUSED)');
      expect(readError.message).toBe('store: SELECT sessions failed (ECONNREFUSED)');
      expect(failedSpans().map((span) => span.name)).toEqual(['SELECT', 'SELECT sessions']);
      expectFailedClientSpan('ECONNREFUSED');
      expect(exported(tracing.spans())).not.toContain(PASSWORD);
    } finally {
      await proxy.kill().catch(() => undefined);
      await store.close();
    }
  });

  test('a server that accepts but never answers times out instead of hanging', async () => {
    const held = new Set<Socket>();
    const silent = createServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
    });
    const port = await listen(silent);
    try {
      const started = performance.now();
      const error = await rejection(
        openStore({ databaseUrl: pgUrl(schema, port), dataDir: tmpdir(), queryTimeoutMs: 300 }),
      );
      expect(performance.now() - started).toBeLessThan(3000);
      expect(error.detail).toBe('timeout');
      expectFailedClientSpan('timeout');
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a statement slower than queryTimeoutMs is cancelled by the server', async () => {
    const store = await openStore({ databaseUrl: pgUrl(schema), dataDir: tmpdir(), queryTimeoutMs: 300 });
    try {
      const started = performance.now();
      const error = await rejection(store.db.query('SELECT pg_sleep(5)', [], { operation: 'SELECT' }));
      expect(performance.now() - started).toBeLessThan(3000);
      expect(error.detail).toBe('57014');
      expectFailedClientSpan('57014');
      // The cancelled connection is still good for the next query.
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
