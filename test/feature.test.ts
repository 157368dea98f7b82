import { expect, test } from 'vitest';
import { Feature } from '../src/bot/buttons.js';
import { success } from '../src/bot/outcome.js';

test('a feature handler must return its outcome: one that returns nothing does not compile', () => {
  const feature = new Feature('history');
  // `npm run typecheck` fails if this line compiles (the directive is then unused).
  // @ts-expect-error a handler that forgets its outcome
  feature.button('HISTORY_PAGE', async () => {});
  feature.button('HISTORY', async () => success);
  expect(feature.buttons).toEqual(new Set(['HISTORY_PAGE', 'HISTORY']));
});
