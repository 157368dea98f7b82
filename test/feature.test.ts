import { Context } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';
import { expect, test } from 'vitest';
import { Feature } from '../src/bot/buttons.js';
import type { BotContext } from '../src/bot/context.js';
import { success } from '../src/bot/outcome.js';

test('a feature handler must return its outcome: one that returns nothing does not compile', () => {
  const feature = new Feature('history');
  // `npm run typecheck` fails if this line compiles (the directive is then unused).
  // @ts-expect-error a handler that forgets its outcome
  feature.button('HISTORY_PAGE', async () => {});
  feature.button('HISTORY', async () => success);
  expect(feature.buttons).toEqual(new Set(['HISTORY_PAGE', 'HISTORY']));
});

const ME: UserFromGetMe = {
  id: 1,
  is_bot: true,
  first_name: 'Tracegram',
  username: 'tracegram_bot',
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
} as UserFromGetMe;

/** A context with just what a binding touches: the update, and the stage calls it records. */
function contextFor(update: Omit<Update, 'update_id'>): { ctx: BotContext; routed: string[] } {
  const routed: string[] = [];
  const ctx = new Context({ update_id: 1, ...update } as Update, {} as never, ME) as BotContext;
  Object.assign(ctx, {
    telemetry: { received() {}, routed: (handler: string) => routed.push(handler), accept() {} },
  });
  return { ctx, routed };
}

const chat = { id: 7, type: 'private' as const, first_name: 'Ada' };
const from = { id: 7, is_bot: false, first_name: 'Ada' };
const message = (text: string, command = false) => ({
  message_id: 3,
  date: 0,
  chat,
  from,
  text,
  ...(command
    ? { entities: [{ type: 'bot_command' as const, offset: 0, length: text.split(' ')[0]?.length ?? 0 }] }
    : {}),
});

test('a feature runs the first binding that takes the update, and passes on what none takes', async () => {
  const feature = new Feature('payments');
  const ran: string[] = [];
  feature.onCommand('promo', async (ctx) => {
    ran.push(`promo ${ctx.match}`);
    return success;
  });
  feature.text(
    (ctx) => ctx.message.text.startsWith('code'),
    async () => {
      ran.push('text');
      return success;
    },
  );
  feature.text(
    () => true,
    async () => {
      ran.push('any text');
      return success;
    },
  );
  const run = async (update: Omit<Update, 'update_id'>) => {
    const { ctx, routed } = contextFor(update);
    let passedOn = false;
    await feature.middleware()(ctx, async () => {
      passedOn = true;
    });
    return { passedOn, routed };
  };

  expect(await run({ message: message('/promo SPRING', true) })).toEqual({
    passedOn: false,
    routed: ['payments'],
  });
  expect(await run({ message: message('/promo@tracegram_bot X', true) })).toMatchObject({ passedOn: false });
  expect(await run({ message: message('code 42') })).toMatchObject({ passedOn: false });
  expect(await run({ message: message('hello') })).toMatchObject({ passedOn: false });
  expect(ran).toEqual(['promo SPRING', 'promo X', 'text', 'any text']);
  // Another bot's command is not /promo: the text bindings see it.
  expect(await run({ message: message('/promo@other_bot X', true) })).toMatchObject({ passedOn: false });
  expect(ran.at(-1)).toBe('any text');
  // An edit and a press are none of this feature's bindings: they go on, with nothing recorded.
  expect(await run({ edited_message: { ...message('/promo X', true), edit_date: 1 } })).toEqual({
    passedOn: true,
    routed: [],
  });
  const press = { id: '9', from, chat_instance: '1', data: 'x', message: message('menu') };
  expect(await run({ callback_query: press })).toEqual({ passedOn: true, routed: [] });
  expect(ran).toHaveLength(5);
});
