import { I18n } from '@grammyjs/i18n';
import type { BotContext } from './context.js';

export const LOCALES_DIR = new URL('../../locales', import.meta.url).pathname;
/** The language of users whose own Telegram language we have no translation for. */
export const DEFAULT_LOCALE = 'en';

/** Loads locales/*.ftl once, at start-up. */
export function createI18n(): I18n<BotContext> {
  return new I18n<BotContext>({
    defaultLocale: DEFAULT_LOCALE,
    directory: LOCALES_DIR,
    fluentBundleOptions: { useIsolating: false },
  });
}
