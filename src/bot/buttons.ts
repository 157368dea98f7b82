import type { Attributes } from '@opentelemetry/api';
import { Composer, Context, type Filter, type FilterQuery } from 'grammy';
import { ATTR, EVENT, type EventName } from '../telemetry/conventions.js';
import type { Action } from '../ui/callback-data.js';
import { BUTTON, type ButtonId, type HandlerName } from '../ui/registry.js';
import type { BotContext } from './context.js';
import type { Outcome } from './outcome.js';
import { settle } from './screen.js';

/** The commands the bot answers, and the event their `stage received` logs. */
const COMMAND_EVENT = {
  start: EVENT.COMMAND_START,
  help: EVENT.COMMAND_HELP,
  paysupport: EVENT.COMMAND_PAYSUPPORT,
  promo: EVENT.COMMAND_PROMO,
  refund: EVENT.COMMAND_REFUND,
  newpromo: EVENT.COMMAND_NEWPROMO,
  debug: EVENT.COMMAND_DEBUG,
} as const;
export type Command = keyof typeof COMMAND_EVENT;

type TextContext = Filter<BotContext, 'message:text'>;

/** One thing a feature takes: a synchronous test of the update, and what handles it. */
interface Binding {
  matches: (ctx: BotContext) => boolean;
  run: (ctx: BotContext) => Promise<void>;
}

const hasText = Context.has.filterQuery('message:text');

/**
 * A journey's composer. Each binding records `received` (commands and texts; the callback guard does it for
 * buttons) and `routed` from what it binds, runs the handler, and records the outcome the handler returns,
 * once. `button` refuses (at start-up) a button the registry assigns to another handler, so a button can
 * never reach two handlers.
 *
 * The bindings are tried in order by one middleware, with grammY's own predicates: a grammY `filter` per
 * binding would build a composer and four promises for every update that merely passes it.
 */
export class Feature extends Composer<BotContext> {
  readonly name: HandlerName | 'fallback' | 'debug';
  readonly buttons = new Set<ButtonId>();
  readonly #bindings: Binding[] = [];

  constructor(name: HandlerName | 'fallback' | 'debug') {
    super();
    this.name = name;
    this.use((ctx, next) => {
      for (const binding of this.#bindings) if (binding.matches(ctx)) return binding.run(ctx);
      return next();
    });
  }

  button(button: ButtonId, handler: (ctx: BotContext, action: Action) => Promise<Outcome>): this {
    if (BUTTON[button].handler !== this.name) {
      throw new Error(`button ${button} belongs to handler ${BUTTON[button].handler}, not ${this.name}`);
    }
    this.buttons.add(button);
    return this.#bind(
      (ctx) => ctx.action?.button === button,
      async (ctx) => {
        const action = ctx.action as Action;
        ctx.telemetry.routed(this.name, { [ATTR.BUTTON_ID]: button, [ATTR.SCREEN_ID]: action.screen });
        await settle(ctx, await handler(ctx, action));
      },
    );
  }

  onCommand(command: Command, handler: (ctx: BotContext) => Promise<Outcome>): this {
    return this.#bind(Context.has.command(command), async (ctx) => {
      ctx.telemetry.received(COMMAND_EVENT[command], { [ATTR.COMMAND]: command });
      ctx.telemetry.routed(this.name);
      await settle(ctx, await handler(ctx));
    });
  }

  /**
   * Any other update this feature takes (a pre-checkout query, a payment's service message): `event` names
   * what arrived on `stage received`, with `attributes` read from it.
   */
  handle<Q extends FilterQuery>(
    query: Q,
    event: EventName,
    handler: (ctx: Filter<BotContext, Q>) => Promise<Outcome>,
    attributes: (ctx: Filter<BotContext, Q>) => Attributes = () => ({}),
  ): this {
    return this.#bind(Context.has.filterQuery(query), async (ctx) => {
      const taken = ctx as Filter<BotContext, Q>;
      ctx.telemetry.received(event, attributes(taken));
      ctx.telemetry.routed(this.name);
      await settle(ctx, await handler(taken));
    });
  }

  /** A text message the predicate takes; its length (never its text) goes on `stage received`. */
  text(when: (ctx: TextContext) => boolean, handler: (ctx: TextContext) => Promise<Outcome>): this {
    return this.#bind(
      (ctx) => hasText(ctx) && when(ctx),
      async (ctx) => {
        const taken = ctx as TextContext;
        ctx.telemetry.received(EVENT.MESSAGE_RECEIVED, { [ATTR.MESSAGE_LENGTH]: taken.message.text.length });
        ctx.telemetry.routed(this.name);
        await settle(ctx, await handler(taken));
      },
    );
  }

  #bind(matches: Binding['matches'], run: Binding['run']): this {
    this.#bindings.push({ matches, run });
    return this;
  }
}
