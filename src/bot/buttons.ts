import type { Attributes } from '@opentelemetry/api';
import { Composer, type Filter, type FilterQuery } from 'grammy';
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

/**
 * A journey's composer. Each binding records `received` (commands and texts; the callback guard does it for
 * buttons) and `routed` from what it binds, runs the handler, and records the outcome the handler returns,
 * once. `button` refuses (at start-up) a button the registry assigns to another handler, so a button can
 * never reach two handlers.
 */
export class Feature extends Composer<BotContext> {
  readonly name: HandlerName | 'fallback' | 'debug';
  readonly buttons = new Set<ButtonId>();

  constructor(name: HandlerName | 'fallback' | 'debug') {
    super();
    this.name = name;
  }

  button(button: ButtonId, handler: (ctx: BotContext, action: Action) => Promise<Outcome>): this {
    if (BUTTON[button].handler !== this.name) {
      throw new Error(`button ${button} belongs to handler ${BUTTON[button].handler}, not ${this.name}`);
    }
    this.buttons.add(button);
    this.filter(
      (ctx) => ctx.action?.button === button,
      async (ctx) => {
        const action = ctx.action as Action;
        ctx.telemetry.routed(this.name, { [ATTR.BUTTON_ID]: button, [ATTR.SCREEN_ID]: action.screen });
        await settle(ctx, await handler(ctx, action));
      },
    );
    return this;
  }

  onCommand(command: Command, handler: (ctx: BotContext) => Promise<Outcome>): this {
    this.command(command, async (ctx) => {
      ctx.telemetry.received(COMMAND_EVENT[command], { [ATTR.COMMAND]: command });
      ctx.telemetry.routed(this.name);
      await settle(ctx, await handler(ctx));
    });
    return this;
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
    this.on(query, async (ctx) => {
      ctx.telemetry.received(event, attributes(ctx));
      ctx.telemetry.routed(this.name);
      await settle(ctx, await handler(ctx));
    });
    return this;
  }

  /** A text message the predicate takes; its length (never its text) goes on `stage received`. */
  text(when: (ctx: TextContext) => boolean, handler: (ctx: TextContext) => Promise<Outcome>): this {
    this.on('message:text').filter(when, async (ctx) => {
      ctx.telemetry.received(EVENT.MESSAGE_RECEIVED, { [ATTR.MESSAGE_LENGTH]: ctx.message.text.length });
      ctx.telemetry.routed(this.name);
      await settle(ctx, await handler(ctx));
    });
    return this;
  }
}
