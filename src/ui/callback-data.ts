import {
  ARG_PATTERN,
  BUTTON,
  type ButtonId,
  buttonByCode,
  SCREEN_CODE,
  type ScreenId,
  screenByCode,
  transitionTarget,
} from './registry.js';

/** Bump when the layout changes; data from an older layout then decodes as UNKNOWN_ACTION, not as a wrong action. */
export const CALLBACK_DATA_VERSION = '1';
const SEPARATOR = '.';
/** Telegram's limit for callback_data, in bytes. */
export const MAX_CALLBACK_DATA_BYTES = 64;

/** A pressed button, as decoded: the screen it was drawn on, which button, its arguments, and where it leads. */
export interface Action {
  screen: ScreenId;
  button: ButtonId;
  args: Record<string, string>;
  target: ScreenId;
}

export type DecodeResult = { ok: true; action: Action } | { ok: false; detail: string };

/** `1.<screen>.<button>[.<arg>...]`, e.g. `1.mm.c.image`. Throws on a button that cannot be on that screen. */
export function encodeCallbackData(screen: ScreenId, button: ButtonId, args: readonly string[] = []): string {
  const definition = BUTTON[button];
  if (!transitionTarget(screen, button))
    throw new Error(`button ${button} is not registered on screen ${screen}`);
  if (args.length !== definition.args.length || !args.every((arg) => ARG_PATTERN.test(arg))) {
    throw new Error(`button ${button} takes ${definition.args.length} slug argument(s)`);
  }
  const data = [CALLBACK_DATA_VERSION, SCREEN_CODE[screen], definition.code, ...args].join(SEPARATOR);
  if (Buffer.byteLength(data) > MAX_CALLBACK_DATA_BYTES)
    throw new Error(`callback data for ${button} exceeds 64 bytes`);
  return data;
}

/** Never throws: anything that is not exactly what encode produces is reported with a fixed reason. */
export function decodeCallbackData(data: string | undefined): DecodeResult {
  if (!data) return { ok: false, detail: 'no callback data' };
  if (Buffer.byteLength(data) > MAX_CALLBACK_DATA_BYTES)
    return { ok: false, detail: 'callback data too long' };
  const [version, screenCode, buttonCode, ...args] = data.split(SEPARATOR);
  if (version !== CALLBACK_DATA_VERSION) {
    // A number is a layout of ours from another release; anything else never came from our keyboards.
    return {
      ok: false,
      detail: /^\d+$/.test(version ?? '') ? 'unknown callback data version' : 'not tracegram callback data',
    };
  }
  const screen = screenByCode(screenCode ?? '');
  if (!screen) return { ok: false, detail: 'unknown screen code' };
  const button = buttonByCode(buttonCode ?? '');
  if (!button) return { ok: false, detail: 'unknown button code' };
  const target = transitionTarget(screen, button);
  if (!target) return { ok: false, detail: 'button not on that screen' };
  const names = BUTTON[button].args;
  if (args.length !== names.length || !args.every((arg) => ARG_PATTERN.test(arg))) {
    return { ok: false, detail: 'malformed button arguments' };
  }
  return {
    ok: true,
    action: {
      screen,
      button,
      target,
      args: Object.fromEntries(names.map((name, i) => [name, args[i] as string])),
    },
  };
}
