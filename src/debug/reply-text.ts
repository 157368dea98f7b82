import { I18n } from '@grammyjs/i18n';

const LOCALES_DIR = new URL('../../locales', import.meta.url).pathname;

/** What a user was told, in English, by reply key (locales/en.ftl): loaded once, looked up per diagnosis. */
export function englishReplies(): (
  key: string,
  variables?: Record<string, string | number>,
) => string | undefined {
  const i18n = new I18n({
    defaultLocale: 'en',
    directory: LOCALES_DIR,
    fluentBundleOptions: { useIsolating: false },
  });
  return (key, variables = {}) => {
    try {
      const text = i18n.t('en', key, variables);
      return text === key ? undefined : text;
    } catch {
      // A reply with a variable the caller could not supply: say which reply instead of quoting it.
      return undefined;
    }
  };
}
