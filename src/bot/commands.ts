import type { I18n } from '@grammyjs/i18n';
import type { Api } from 'grammy';
import type { BotCommand, LanguageCode } from 'grammy/types';
import { describeError } from '../errors.js';
import { EVENT } from '../telemetry/conventions.js';
import type { Logger } from '../telemetry/logger.js';
import type { BotContext } from './context.js';
import { DEFAULT_LOCALE } from './i18n.js';

/** The commands in the menu; each has a `command-<name>` description in every locale. */
export const COMMANDS = ['start', 'help', 'promo', 'paysupport'] as const;

export interface CommandMenu {
  /** Unset: the menu for every language without its own. */
  languageCode: string | undefined;
  commands: BotCommand[];
}

/** One menu per locale: Telegram shows users the menu of their language, the default one to the rest. */
export function commandMenus(i18n: I18n<BotContext>): CommandMenu[] {
  const menu = (locale: string) =>
    COMMANDS.map((command) => ({ command, description: i18n.t(locale, `command-${command}`) }));
  return [
    { languageCode: undefined, commands: menu(DEFAULT_LOCALE) },
    ...i18n.locales
      .filter((locale) => locale !== DEFAULT_LOCALE)
      .map((locale) => ({ languageCode: locale, commands: menu(locale) })),
  ];
}

/** First retry after a refusal without retry_after; doubled each time up to the cap. */
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 10 * 60_000;

/**
 * Publishes the menus best effort. Telegram rate-limits exactly these set-up calls for bots that restart
 * often, and a missing menu is cosmetic: a refusal is logged (COMMANDS_NOT_SET) and retried later, in
 * the background; it never stops the bot. `stop` cancels a pending retry.
 */
export function publishCommands(api: Api, menus: readonly CommandMenu[], logger: Logger): { stop(): void } {
  let pending = [...menus];
  let retryMs = FIRST_RETRY_MS;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const attempt = async () => {
    while (pending.length > 0 && !stopped) {
      const [menu] = pending as [CommandMenu];
      try {
        await api.setMyCommands(
          menu.commands,
          menu.languageCode ? { language_code: menu.languageCode as LanguageCode } : {},
        );
        pending = pending.slice(1);
      } catch (error) {
        const retryAfterS = (error as { parameters?: { retry_after?: number } }).parameters?.retry_after;
        const waitMs = retryAfterS === undefined ? retryMs : retryAfterS * 1000;
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
        logger.warn(
          {
            event: EVENT.COMMANDS_NOT_SET,
            language_code: menu.languageCode,
            retry_in_s: Math.round(waitMs / 1000),
            detail: describeError(error),
          },
          'command menu not set; retrying later',
        );
        if (!stopped) timer = setTimeout(() => void attempt(), waitMs).unref();
        return;
      }
    }
  };
  void attempt();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
