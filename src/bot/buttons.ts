import { Composer } from 'grammy';
import { ATTR } from '../telemetry/conventions.js';
import type { Action } from '../ui/callback-data.js';
import { BUTTON, type ButtonId, type HandlerName } from '../ui/registry.js';
import type { BotContext } from './context.js';

type ButtonHandler = (ctx: BotContext, action: Action) => Promise<void>;

/**
 * A journey's composer. Its `button` method binds a handler to a registry button and refuses (at start-up)
 * a button the registry assigns to another handler, so a button can never reach two handlers.
 */
export class Feature extends Composer<BotContext> {
  readonly name: HandlerName;
  readonly buttons = new Set<ButtonId>();

  constructor(name: HandlerName) {
    super();
    this.name = name;
  }

  button(button: ButtonId, handler: ButtonHandler): this {
    if (BUTTON[button].handler !== this.name) {
      throw new Error(`button ${button} belongs to handler ${BUTTON[button].handler}, not ${this.name}`);
    }
    this.buttons.add(button);
    this.filter(
      (ctx) => ctx.action?.button === button,
      async (ctx) => {
        const action = ctx.action as Action;
        ctx.telemetry.routed(this.name, {
          [ATTR.BUTTON_ID]: button,
          [ATTR.SCREEN_ID]: action.screen,
        });
        await handler(ctx, action);
      },
    );
    return this;
  }
}
