import { type PGlite, parse, messages as pgMessages, protocol, type Results } from '@electric-sql/pglite';
import pgUtils from 'pg/lib/utils.js';

/**
 * Past this many distinct SQL texts a statement still runs in one call, but unnamed (parsed and planned
 * each time): the store's statements are a fixed set, and a bound keeps a text built at run time from
 * growing the backend's memory.
 */
export const MAX_PREPARED_STATEMENTS = 256;

/**
 * Runs a statement outside a transaction on PGlite in one call into the backend, prepared under a name the
 * first time its text is seen and only bound and executed after that.
 *
 * PGlite's `query()` makes six calls into its WebAssembly backend per statement (Parse, Describe, Bind,
 * Describe, Execute, Sync), and PostgreSQL parses and plans the text every time; for the claim and the
 * session write that was ~70% of the CPU the two statements cost (docs/benchmarks.md). Parameters become
 * text as node-postgres makes them (`prepareValue`), with their types inferred by the server as for
 * PostgreSQL, so a statement takes the same values on both engines.
 */
export function preparedStatements(
  pglite: PGlite,
): (sql: string, params: readonly unknown[]) => Promise<Results> {
  const names = new Map<string, string>();
  let named = 0;

  async function run(sql: string, params: readonly unknown[]): Promise<Results> {
    const known = names.get(sql);
    const name = known ?? (names.size < MAX_PREPARED_STATEMENTS ? `tracegram_${named++}` : '');
    const messages = [
      ...(known === undefined ? [protocol.serialize.parse({ name, text: sql })] : []),
      protocol.serialize.bind({
        statement: name,
        values: params.map((value) => pgUtils.prepareValue(value)),
      }),
      protocol.serialize.describe({ type: 'P' }),
      protocol.serialize.execute({}),
      protocol.serialize.sync(),
    ];
    // Sync ends the exchange either way, so a failure leaves the session idle, its error among the replies.
    const { messages: replies } = await pglite.execProtocol(Buffer.concat(messages), {
      throwOnError: false,
    });
    // A statement is named once its Parse succeeded, even when Bind or Execute failed after it.
    if (known === undefined && name !== '' && replies.some((reply) => reply.name === 'parseComplete'))
      names.set(sql, name);
    const failure = replies.find((reply) => reply instanceof pgMessages.DatabaseError);
    if (failure === undefined) return parse.parseResults(replies, pglite.parsers)[0] as Results;
    // Someone ran DEALLOCATE (or DISCARD ALL) on the shared session: prepare the text again, once.
    if (known !== undefined && failure.code === INVALID_SQL_STATEMENT_NAME) {
      names.delete(sql);
      return run(sql, params);
    }
    throw failure;
  }

  return (sql, params) =>
    // PGlite's own query() takes both locks: the transaction lock keeps this statement out of a transaction
    // another caller (pg-boss) holds open, the query lock keeps it from interleaving with another statement.
    pglite._runExclusiveTransaction(() =>
      pglite._runExclusiveQuery(async () => {
        await pglite._checkReady();
        return run(sql, params);
      }),
    );
}

/** SQLSTATE 26000: the named prepared statement does not exist. */
const INVALID_SQL_STATEMENT_NAME = '26000';
