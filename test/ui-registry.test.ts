import { describe, expect, test } from 'vitest';
import { FEATURES } from '../src/bot/bot.js';
import { VIEWS } from '../src/bot/views.js';
import { decodeCallbackData, encodeCallbackData, MAX_CALLBACK_DATA_BYTES } from '../src/ui/callback-data.js';
import {
  BUTTON,
  type ButtonId,
  DETACHED_SCREENS,
  type JourneyScreenId,
  SCREEN,
  SCREEN_CODE,
  TRANSITIONS,
} from '../src/ui/registry.js';
import { SAMPLE_ARGS } from './support/registry-samples.js';

describe('UI registry', () => {
  test('every transition starts and ends on a registered screen with a view', () => {
    const screens = new Set(Object.values(SCREEN));
    for (const { from, to } of TRANSITIONS) {
      expect(screens.has(from), from).toBe(true);
      expect(screens.has(to), to).toBe(true);
      if (!DETACHED_SCREENS.has(to))
        expect(VIEWS[to as JourneyScreenId], `view for ${to}`).toBeTypeOf('function');
    }
  });

  test('each (screen, button) pair has exactly one transition', () => {
    const pairs = TRANSITIONS.map((t) => `${t.from}/${t.button}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  test('every button appears on at least one screen and every screen is reachable', () => {
    const used = new Set(TRANSITIONS.map((t) => t.button));
    expect([...used].sort()).toEqual(Object.keys(BUTTON).sort());
    const reachable = new Set(['MAIN_MENU', ...TRANSITIONS.map((t) => t.to)]);
    expect([...reachable].sort()).toEqual(Object.values(SCREEN).sort());
  });

  test('screen and button codes are unique (they are the wire format)', () => {
    const screenCodes = Object.values(SCREEN_CODE);
    expect(new Set(screenCodes).size).toBe(screenCodes.length);
    const buttonCodes = Object.values(BUTTON).map((b) => b.code);
    expect(new Set(buttonCodes).size).toBe(buttonCodes.length);
  });

  test('every button is bound by exactly one feature, the one the registry names', () => {
    const bindings = FEATURES.flatMap((feature) =>
      [...feature.buttons].map((button) => ({ button, feature: feature.name })),
    );
    for (const button of Object.keys(BUTTON) as ButtonId[]) {
      const owners = bindings.filter((b) => b.button === button);
      expect(owners, button).toHaveLength(1);
      expect(owners[0]?.feature).toBe(BUTTON[button].handler);
    }
  });
});

describe('callback data codec', () => {
  test.each(TRANSITIONS)('$from/$button round-trips within 64 bytes', ({ from, button, to }) => {
    const data = encodeCallbackData(from, button, SAMPLE_ARGS[button]);
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(MAX_CALLBACK_DATA_BYTES);
    const decoded = decodeCallbackData(data);
    expect(decoded).toEqual({
      ok: true,
      action: {
        screen: from,
        button,
        target: to,
        args: Object.fromEntries(BUTTON[button].args.map((name, i) => [name, SAMPLE_ARGS[button][i]])),
      },
    });
  });

  test('refuses to encode a button on a screen that does not have it', () => {
    expect(() => encodeCallbackData('HELP', 'CATEGORY', ['image'])).toThrow(/not registered/);
    expect(() => encodeCallbackData('MAIN_MENU', 'CATEGORY', ['Not A Slug'])).toThrow(/slug/);
  });

  test.each([
    ['', 'no callback data'],
    ['2.mm.c.image', 'unknown callback data version'],
    ['forged', 'not tracegram callback data'],
    ['menu:images', 'not tracegram callback data'],
    ['1.zz.c.image', 'unknown screen code'],
    ['1.mm.Z', 'unknown button code'],
    ['1.hp.c.image', 'button not on that screen'],
    ['1.mm.c', 'malformed button arguments'],
    ['1.mm.c.image.extra', 'malformed button arguments'],
    ['1.mm.c.IMAGE', 'malformed button arguments'],
    ['1.mm.c.<script>', 'malformed button arguments'],
    ['x'.repeat(65), 'callback data too long'],
  ])('forged data %j is rejected: %s', (data, detail) => {
    expect(decodeCallbackData(data)).toEqual({ ok: false, detail });
  });
});
