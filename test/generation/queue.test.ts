import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { type JobQueue, openJobQueue } from '../../src/generation/queue.js';
import { openStore, type Store } from '../../src/store/index.js';
import { type IsolatedPostgres, isolatedPostgres } from '../support/isolated-db.js';

interface Setup {
  store: Store;
  queueSchema: string | undefined;
  /** A second store on the same database: another bot process (PostgreSQL only). */
  secondStore?: () => Promise<Store>;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const engines = {
  pglite: async (): Promise<Setup> => {
    const store = await openStore({ dataDir: 'memory://' });
    cleanups.push(() => store.close());
    return { store, queueSchema: undefined };
  },
  postgres: async (): Promise<Setup> => {
    const db: IsolatedPostgres = await isolatedPostgres('queue');
    cleanups.push(() => db.dispose());
    const open = async () => {
      const store = await openStore({ databaseUrl: db.databaseUrl, dataDir: 'unused' });
      cleanups.push(() => store.close());
      return store;
    };
    return { store: await open(), queueSchema: db.queueSchema, secondStore: open };
  },
};

async function queueOn(setup: Setup, store = setup.store, concurrency = 2): Promise<JobQueue> {
  const queue = await openJobQueue({
    connection: store.connection(),
    ...(setup.queueSchema ? { schema: setup.queueSchema } : {}),
    concurrency,
    expireInSeconds: 60,
    onError: (error) => {
      throw error;
    },
    onWarning: () => undefined,
  });
  cleanups.push(() => queue.stop(1000));
  return queue;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(Object.keys(engines) as Array<keyof typeof engines>)('job queue on %s', (engine) => {
  test('a job enqueued in a committed transaction is worked once; a rolled-back one never', async () => {
    const setup = await engines[engine]();
    const queue = await queueOn(setup);
    const worked: string[] = [];
    await queue.work(async (jobId) => {
      worked.push(jobId);
    });
    const committed = randomUUID();
    const rolledBack = randomUUID();
    await setup.store.db.transaction((tx) => queue.enqueue(tx, committed));
    await expect(
      setup.store.db.transaction(async (tx) => {
        await queue.enqueue(tx, rolledBack);
        throw new Error('the reservation failed');
      }),
    ).rejects.toThrow('the reservation failed');
    await until(() => worked.length >= 1);
    // Long enough for a second (wrong) delivery or the rolled-back job to show up.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(worked).toEqual([committed]);
  }, 60_000);

  test('several workers (and, on PostgreSQL, two processes) take each of 40 jobs exactly once', async () => {
    const setup = await engines[engine]();
    // PGlite is one in-process connection: one bot process, so one queue with several workers.
    const queues = [await queueOn(setup, setup.store, 3)];
    if (setup.secondStore) queues.push(await queueOn(setup, await setup.secondStore(), 3));
    const worked = new Map<string, number>();
    for (const queue of queues) {
      await queue.work(async (jobId) => {
        worked.set(jobId, (worked.get(jobId) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 5));
      });
    }
    const ids = Array.from({ length: 40 }, () => randomUUID());
    const [producer] = queues as [JobQueue];
    for (const id of ids) await setup.store.db.transaction((tx) => producer.enqueue(tx, id));
    await until(() => worked.size === ids.length, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([...worked.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(worked.keys())).toEqual(new Set(ids));
  }, 60_000);
});
