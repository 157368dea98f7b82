import { I18n } from '@grammyjs/i18n';
import type { BotContext } from './context.js';

export const LOCALES_DIR = new URL('../../locales', import.meta.url).pathname;
/** The language of users whose own Telegram language we have no translation for. */
export const DEFAULT_LOCALE = 'en';
/** Distinct language codes whose negotiated bundles are remembered; past it the memo starts over. */
const MAX_MEMOISED_LOCALES = 256;

/** Loads locales/*.ftl once, at start-up. */
export function createI18n(): I18n<BotContext> {
  const i18n = new I18n<BotContext>({
    defaultLocale: DEFAULT_LOCALE,
    directory: LOCALES_DIR,
    fluentBundleOptions: { useIsolating: false },
  });
  memoiseBundleMatching(i18n.fluent);
  return i18n;
}

interface BundleMatching {
  bundles?: Set<unknown>;
  matchBundles?: (locales: string[]) => Set<unknown>;
}

/**
 * @grammyjs/i18n negotiates the locale against every loaded bundle again on each `t()` call (~2.5 µs,
 * and a screen makes 5–15 calls). The answer depends only on the locale and the bundles loaded, so it is
 * remembered per locale and forgotten whenever a bundle is added. The library's private `matchBundles`
 * is wrapped only if it is there: a version without it translates as before, unmemoised.
 */
export function memoiseBundleMatching(fluent: object): void {
  const target = fluent as BundleMatching;
  const match = target.matchBundles;
  if (typeof match !== 'function' || !(target.bundles instanceof Set)) return;
  const memo = new Map<string, Set<unknown>>();
  let bundleCount = target.bundles.size;
  target.matchBundles = function memoised(this: BundleMatching, locales: string[]): Set<unknown> {
    const loaded = this.bundles?.size ?? 0;
    if (loaded !== bundleCount || memo.size >= MAX_MEMOISED_LOCALES) {
      memo.clear();
      bundleCount = loaded;
    }
    const key = locales.join('\n');
    let matched = memo.get(key);
    if (!matched) {
      matched = match.call(this, locales);
      memo.set(key, matched);
    }
    return matched;
  };
}
