import { InlineKeyboard } from 'grammy';
import { encodeCallbackData } from './callback-data.js';
import type { ButtonId, ScreenId } from './registry.js';

export interface ButtonSpec {
  button: ButtonId;
  label: string;
  args?: readonly string[];
}

/** Every inline keyboard is built here, so every button's data is encoded against the registry. */
export function buildKeyboard(
  screen: ScreenId,
  rows: ReadonlyArray<ReadonlyArray<ButtonSpec>>,
): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  for (const row of rows) {
    if (row.length === 0) continue;
    for (const spec of row) keyboard.text(spec.label, encodeCallbackData(screen, spec.button, spec.args));
    keyboard.row();
  }
  return keyboard;
}
