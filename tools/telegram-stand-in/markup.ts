import { isDeepStrictEqual } from 'node:util';
import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'grammy/types';
import { BotApiError, badRequest, DESCRIPTION } from './errors.js';

/** A button needs exactly one of these besides its text: https://core.telegram.org/bots/api#inlinekeyboardbutton */
const BUTTON_ACTIONS = [
  'url',
  'callback_data',
  'web_app',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'copy_text',
  'callback_game',
  'pay',
] as const;

/** Telegram caps callback_data at 64 bytes, not characters: a common way for a keyboard to fail in production. */
const MAX_CALLBACK_DATA_BYTES = 64;

/**
 * The inline keyboard a sent or edited message will carry. Reply keyboards (and remove/force-reply) are
 * accepted but never part of the Message object, and an empty inline keyboard means none, as on Telegram.
 */
export function inlineKeyboardOf(replyMarkup: unknown): InlineKeyboardMarkup | undefined {
  if (replyMarkup === undefined) return undefined;
  if (typeof replyMarkup !== 'object' || replyMarkup === null) {
    throw badRequest("can't parse reply keyboard markup JSON object");
  }
  if (!('inline_keyboard' in replyMarkup)) return undefined;
  const rows = replyMarkup.inline_keyboard;
  if (!Array.isArray(rows) || !rows.every(Array.isArray)) {
    throw new BotApiError(400, DESCRIPTION.inlineKeyboardNotArray);
  }
  const keyboard = (rows as unknown[][]).filter((row) => row.length > 0).map((row) => row.map(checkButton));
  return keyboard.length > 0 ? { inline_keyboard: keyboard } : undefined;
}

function checkButton(button: unknown): InlineKeyboardButton {
  if (typeof button !== 'object' || button === null) throw badRequest("can't parse inline keyboard button");
  const fields = button as Record<string, unknown>;
  if (typeof fields.text !== 'string') throw new BotApiError(400, DESCRIPTION.buttonTextNotString);
  if (!BUTTON_ACTIONS.some((action) => fields[action] !== undefined)) {
    throw new BotApiError(400, DESCRIPTION.textButtonsUnallowed);
  }
  const data = fields.callback_data;
  if (data !== undefined) {
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : 0;
    if (bytes === 0 || bytes > MAX_CALLBACK_DATA_BYTES)
      throw new BotApiError(400, DESCRIPTION.buttonDataInvalid);
  }
  return button as InlineKeyboardButton;
}

export function sameKeyboard(
  a: InlineKeyboardMarkup | undefined,
  b: InlineKeyboardMarkup | undefined,
): boolean {
  return isDeepStrictEqual(a, b);
}

export type ButtonSelector = string | { data: string };

/** The callback button a user would tap: by its visible text, or by its callback_data. */
export function findCallbackButton(
  keyboard: InlineKeyboardMarkup | undefined,
  selector: ButtonSelector,
): InlineKeyboardButton.CallbackButton {
  const buttons = keyboard?.inline_keyboard.flat() ?? [];
  const matches = (button: InlineKeyboardButton) =>
    typeof selector === 'string'
      ? button.text === selector
      : 'callback_data' in button && button.callback_data === selector.data;
  const button = buttons.find(matches);
  const wanted = typeof selector === 'string' ? `text "${selector}"` : `callback_data "${selector.data}"`;
  const available = buttons.map((b) => `"${b.text}"`).join(', ') || 'none';
  if (!button) throw new Error(`stand-in: no button with ${wanted} on the message (buttons: ${available})`);
  if (!('callback_data' in button)) throw new Error(`stand-in: button with ${wanted} has no callback_data`);
  return button;
}
