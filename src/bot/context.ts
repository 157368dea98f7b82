import type { I18nFlavor } from '@grammyjs/i18n';
import type { Context, SessionFlavor } from 'grammy';
import type { Category } from '../catalogue/models.js';
import type { TelemetryFlavor } from '../telemetry/grammy/index.js';
import type { Action } from '../ui/callback-data.js';
import type { ScreenId } from '../ui/registry.js';

/** Per-chat state, kept in the store through grammY sessions. */
export interface SessionData {
  screen: ScreenId;
  /** The message that carries the live keyboard; buttons on any other message are stale. */
  liveMessageId: number | undefined;
  category: Category | undefined;
  model: string | undefined;
  options: Record<string, string>;
  prompt: string | undefined;
}

export function initialSession(): SessionData {
  return {
    screen: 'MAIN_MENU',
    liveMessageId: undefined,
    category: undefined,
    model: undefined,
    options: {},
    prompt: undefined,
  };
}

export interface ActionFlavor {
  /** The decoded button, set for callback queries whose data is valid and current. */
  action?: Action;
}

export type BotContext = Context & SessionFlavor<SessionData> & I18nFlavor & TelemetryFlavor & ActionFlavor;
