import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createI18n, LOCALES_DIR } from '../src/bot/i18n.js';
import { CATEGORIES, MODELS } from '../src/catalogue/models.js';
import { REASON_CODES } from '../src/telemetry/reason-codes.js';

/** Message ids defined in a Fluent file (top-level `id = …` lines). */
function ids(locale: string): Set<string> {
  const source = readFileSync(join(LOCALES_DIR, `${locale}.ftl`), 'utf8');
  return new Set([...source.matchAll(/^([a-z][\w-]*) =/gm)].map((m) => m[1] as string));
}

const en = ids('en');
const ru = ids('ru');

describe('locales', () => {
  test('Russian and English define the same messages', () => {
    expect([...ru].sort()).toEqual([...en].sort());
  });

  const needed = [
    ...CATEGORIES.map((category) => `category-${category}`),
    ...MODELS.map((model) => `model-${model.id}-description`),
    ...MODELS.flatMap((model) =>
      model.options.flatMap((option) => [
        `option-${option.name}`,
        ...option.values.map((value) => `value-${option.name}-${value}`),
      ]),
    ),
    ...Object.values(REASON_CODES).flatMap((entry) => (entry.reply ? [entry.reply] : [])),
  ];
  test.each([...new Set(needed)])('%s exists in both', (id) => {
    expect(en.has(id), `en: ${id}`).toBe(true);
    expect(ru.has(id), `ru: ${id}`).toBe(true);
  });
});

describe('translation', () => {
  test('each language, one after another, gets its own text (the negotiated bundles are remembered per locale)', async () => {
    const i18n = createI18n();
    for (let round = 0; round < 2; round += 1) {
      expect(i18n.t('ru', 'menu-title')).toBe('Что создадим? Выберите категорию.');
      expect(i18n.t('en', 'menu-title')).toBe('What would you like to create? Pick a category.');
      expect(i18n.t('ru-RU', 'menu-title')).toBe('Что создадим? Выберите категорию.');
      // A language we have no translation for falls back to English.
      expect(i18n.t('de', 'menu-title')).toBe('What would you like to create? Pick a category.');
    }
    // A translation loaded later is seen at once, memo or not.
    await i18n.loadLocale('de', { source: 'menu-title = Was möchtest du erstellen?' });
    expect(i18n.t('de', 'menu-title')).toBe('Was möchtest du erstellen?');
    expect(i18n.t('ru', 'menu-title')).toBe('Что создадим? Выберите категорию.');
  });
});
