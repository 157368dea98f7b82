/**
 * What routing an update to its journey costs, outside the bot: `node --import tsx
 * scripts/bench/dispatch-cost.ts`. Eight features shaped as Tracegram's (buttons, commands and other
 * bindings per feature), wired two ways: a grammY `filter` per binding (what `Feature` did before
 * 2026-11-30: each `filter` is a `branch`, a `lazy` that builds a composer and awaits its predicate on
 * every update that passes it), and one middleware per feature trying its bindings in order with the same
 * synchronous predicates (what `Feature` does). CPU per update, context creation included, for a press
 * taken by the second, the seventh and the last feature. docs/benchmarks.md quotes it.
 */
import { Composer, Context } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';

type Ctx = Context & { button?: string };
type Predicate = (ctx: Ctx) => boolean;

/** Buttons, commands and other bindings of menu, catalogue, params, generate, history, navigation, payments, debug. */
const FEATURES = [
  [1, 2, 0],
  [3, 0, 0],
  [2, 0, 1],
  [2, 0, 0],
  [3, 0, 0],
  [2, 0, 0],
  [2, 4, 2],
  [3, 1, 0],
] as const;
const UPDATES = 50_000;
const ROUNDS = 7;

let handled = 0;
const handler = async () => {
  handled += 1;
};

function bindingsOf(feature: number): Predicate[] {
  const [buttons, commands, others] = FEATURES[feature] as readonly [number, number, number];
  return [
    ...Array.from(
      { length: buttons },
      (_, i): Predicate =>
        (ctx) =>
          ctx.button === `B${feature}.${i}`,
    ),
    ...Array.from({ length: commands }, (_, i) => Context.has.command(`c${feature}_${i}`)),
    ...Array.from({ length: others }, () => Context.has.filterQuery('pre_checkout_query')),
  ];
}

function filterPerBinding(): Composer<Ctx> {
  const root = new Composer<Ctx>();
  FEATURES.forEach((_, feature) => {
    const composer = new Composer<Ctx>();
    for (const matches of bindingsOf(feature)) composer.filter(matches, handler);
    root.use(composer);
  });
  return root;
}

function oneMiddlewarePerFeature(): Composer<Ctx> {
  const root = new Composer<Ctx>();
  FEATURES.forEach((_, feature) => {
    const bindings = bindingsOf(feature);
    root.use((ctx, next) => {
      for (const matches of bindings) if (matches(ctx)) return handler();
      return next();
    });
  });
  return root;
}

const ME = { id: 1, is_bot: true, first_name: 'bench', username: 'bench_bot' } as UserFromGetMe;
const PRESS = {
  update_id: 1,
  callback_query: {
    id: '1',
    from: { id: 7, is_bot: false, first_name: 'Ada' },
    chat_instance: '1',
    data: 'x',
    message: { message_id: 1, date: 0, chat: { id: 7, type: 'private', first_name: 'Ada' } },
  },
} as Update;

async function cpuPerUpdate(composer: Composer<Ctx>, button: string): Promise<number> {
  const middleware = composer.middleware();
  const before = process.cpuUsage();
  for (let i = 0; i < UPDATES; i += 1) {
    const ctx = new Context(PRESS, {} as never, ME) as Ctx;
    ctx.button = button;
    await middleware(ctx, async () => {});
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / UPDATES;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number;
const [before, after] = [filterPerBinding(), oneMiddlewarePerFeature()];
process.stdout.write(`CPU µs per update (median of ${ROUNDS} × ${UPDATES}), context creation included:\n`);
for (const [label, button] of [
  ['catalogue press (2nd feature)', 'B1.1'],
  ['payments press (7th)', 'B6.1'],
  ['debug press (last)', 'B7.2'],
] as const) {
  const figures = { before: [] as number[], after: [] as number[] };
  for (let round = 0; round < ROUNDS; round += 1) {
    figures.before.push(await cpuPerUpdate(before, button));
    figures.after.push(await cpuPerUpdate(after, button));
  }
  process.stdout.write(
    `  ${label.padEnd(30)} a filter per binding ${median(figures.before).toFixed(2)}, ` +
      `one middleware per feature ${median(figures.after).toFixed(2)}\n`,
  );
}
if (handled !== ROUNDS * 2 * 3 * UPDATES)
  throw new Error(`expected every press handled once, got ${handled}`);
