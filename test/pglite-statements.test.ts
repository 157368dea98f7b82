import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MAX_PREPARED_STATEMENTS, preparedStatements } from '../src/store/pglite-statements.js';

/** The statements PGlite's own query() would run, in one call into the backend and parsed once. */
describe('PGlite statements prepared once by name', () => {
  let pglite: PGlite;
  let run: ReturnType<typeof preparedStatements>;
  const prepared = async () =>
    (
      await pglite.query<{ name: string; statement: string }>(
        'SELECT name, statement FROM pg_prepared_statements',
      )
    ).rows;

  beforeAll(async () => {
    pglite = await PGlite.create('memory://');
    await pglite.exec(`
      CREATE TABLE items (id int PRIMARY KEY, label text, tags text[], doc jsonb, at timestamptz, done boolean);
    `);
    run = preparedStatements(pglite);
  });
  afterAll(() => pglite.close());

  test('returns what PGlite’s own query() returns, for the parameter types the store passes', async () => {
    const at = new Date('2026-11-30T07:00:00.000Z');
    const insert =
      'INSERT INTO items (id, label, tags, doc, at, done) VALUES ($1, $2, $3, $4::jsonb, $5, $6) RETURNING *';
    const ours = await run(insert, [1, "it's", ['a', 'b "c"'], JSON.stringify({ n: 1 }), at, true]);
    const theirs = await pglite.query(insert, [
      2,
      "it's",
      ['a', 'b "c"'],
      JSON.stringify({ n: 1 }),
      at,
      true,
    ]);
    expect(ours.rows).toEqual([{ ...(theirs.rows[0] as object), id: 1 }]);
    expect(ours.rows[0]).toMatchObject({ tags: ['a', 'b "c"'], doc: { n: 1 }, at, done: true });
    expect(ours.fields).toEqual(theirs.fields);
    expect(ours.affectedRows).toBe(1);

    const select =
      'SELECT id FROM items WHERE label = $1 AND id = ANY($2::int[]) AND at IS NOT NULL ORDER BY id';
    expect((await run(select, ["it's", [1, 2, 3]])).rows).toEqual([{ id: 1 }, { id: 2 }]);
    expect((await run('UPDATE items SET label = $1 WHERE id = $2', [null, 1])).affectedRows).toBe(1);
    expect((await run('SELECT label FROM items WHERE id = $1', [1])).rows).toEqual([{ label: null }]);
  });

  test('parses a text once: later runs only bind and execute the named statement', async () => {
    const sql = 'SELECT count(*)::int AS n FROM items WHERE id > $1';
    for (let i = 0; i < 5; i++) expect((await run(sql, [0])).rows).toEqual([{ n: 2 }]);
    expect((await prepared()).filter((row) => row.statement === sql)).toHaveLength(1);
  });

  test('a failure throws the backend’s SQLSTATE and leaves the statement and the session usable', async () => {
    const insert = 'INSERT INTO items (id, label) VALUES ($1, $2)';
    await run(insert, [10, 'first']);
    // The Parse of a new text succeeds and its Execute fails: the name exists, and must not be parsed again.
    const duplicateOnFirstUse = 'INSERT INTO items (id) VALUES ($1)';
    await expect(run(duplicateOnFirstUse, [10])).rejects.toMatchObject({ code: '23505' });
    await expect(run(duplicateOnFirstUse, [11])).resolves.toMatchObject({ affectedRows: 1 });
    await expect(run(insert, [10, 'again'])).rejects.toMatchObject({ code: '23505' });
    await expect(run(insert, [12, 'next'])).resolves.toMatchObject({ affectedRows: 1 });
    await expect(run('SELEC 1', [])).rejects.toMatchObject({ code: '42601' });
    expect((await pglite.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  test('after DEALLOCATE ALL on the shared session, a known text is prepared again', async () => {
    const sql = 'SELECT label FROM items WHERE id = $1';
    expect((await run(sql, [12])).rows).toEqual([{ label: 'next' }]);
    await pglite.exec('DEALLOCATE ALL');
    expect((await run(sql, [12])).rows).toEqual([{ label: 'next' }]);
  });

  test('never runs inside a transaction another caller holds open', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let begun!: () => void;
    const inside = new Promise<void>((resolve) => {
      begun = resolve;
    });
    const transaction = pglite
      .transaction(async (tx) => {
        await tx.query('INSERT INTO items (id, label) VALUES (20, $1)', ['rolled back']);
        begun();
        await held;
        throw new Error('roll back');
      })
      .catch(() => 'rolled back');
    await inside;
    const outside = run('INSERT INTO items (id, label) VALUES ($1, $2)', [21, 'committed']);
    release();
    expect(await transaction).toBe('rolled back');
    await outside;
    expect((await run('SELECT id FROM items WHERE id IN (20, 21)', [])).rows).toEqual([{ id: 21 }]);
  });

  test(`names at most ${MAX_PREPARED_STATEMENTS} texts; past that a new text still runs, unnamed`, async () => {
    const own = await PGlite.create('memory://');
    try {
      const runOwn = preparedStatements(own);
      for (let i = 0; i < MAX_PREPARED_STATEMENTS + 3; i++) {
        expect((await runOwn(`SELECT $1::int + ${i} AS n`, [1])).rows).toEqual([{ n: 1 + i }]);
      }
      const { rows } = await own.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements');
      expect(rows).toHaveLength(MAX_PREPARED_STATEMENTS);
      expect(rows.map((row) => row.statement)).not.toContain(
        `SELECT $1::int + ${MAX_PREPARED_STATEMENTS} AS n`,
      );
    } finally {
      await own.close();
    }
  });
});
