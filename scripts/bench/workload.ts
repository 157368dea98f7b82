import type { ChatView } from './fake-bot-api.js';

/** What a simulated user does next; the mix is the one the issue names. */
export type UpdateKind = 'start' | 'press' | 'stale-press' | 'prompt' | 'stray-text';

export const UPDATE_KINDS: readonly UpdateKind[] = ['start', 'press', 'stale-press', 'prompt', 'stray-text'];

/** Deterministic, so two runs drive the same journeys (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PARAMS_FORM_PREFIX = '1.pf.';
/** Back and Cancel: pressed less often than the buttons that go deeper into the catalogue. */
const WAY_BACK = /^1\.[a-z]{2}\.[kx]$/;

/**
 * Chooses the next action of the user of one chat from what that user sees: /start when there is no live
 * keyboard (and now and then anyway), a prompt on the parameters form, a double tap (a press on the
 * keyboard the live message had before its last edit), a stray text, or a press on the live keyboard.
 */
export function nextAction(
  chat: ChatView,
  random: () => number,
): { kind: UpdateKind; data?: string; text?: string } {
  if (chat.liveMessageId === undefined || chat.keyboard.length === 0)
    return { kind: 'start', text: '/start' };
  const roll = random();
  if (roll < 0.04) return { kind: 'start', text: '/start' };
  if (roll < 0.12 && chat.previousKeyboard.length > 0) {
    return { kind: 'stale-press', data: pick(chat.previousKeyboard, random) };
  }
  const onForm = chat.keyboard[0]?.startsWith(PARAMS_FORM_PREFIX) ?? false;
  if (onForm && roll < 0.45)
    return { kind: 'prompt', text: `a lighthouse at dusk, take ${Math.floor(roll * 1000)}` };
  if (!onForm && roll < 0.15) return { kind: 'stray-text', text: 'hello?' };
  const deeper = chat.keyboard.filter((data) => !WAY_BACK.test(data));
  const choices = deeper.length > 0 && random() < 0.85 ? deeper : chat.keyboard;
  return { kind: 'press', data: pick(choices, random) };
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** A Telegram update as the webhook would deliver it, for a private chat whose user id is the chat id. */
export function buildUpdate(
  updateId: number,
  chatId: number,
  chat: ChatView,
  action: { kind: UpdateKind; data?: string; text?: string },
): object {
  const date = Math.floor(Date.now() / 1000);
  const from = { id: chatId, is_bot: false, first_name: 'Bench', language_code: 'en' };
  const privateChat = { id: chatId, type: 'private', first_name: 'Bench' };
  if (action.data !== undefined) {
    return {
      update_id: updateId,
      callback_query: {
        id: String(updateId),
        from,
        chat_instance: String(chatId),
        data: action.data,
        message: { message_id: chat.liveMessageId, date, chat: privateChat, text: '…' },
      },
    };
  }
  const text = action.text ?? '';
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date,
      chat: privateChat,
      from,
      text,
      ...(text.startsWith('/')
        ? { entities: [{ type: 'bot_command', offset: 0, length: text.length }] }
        : {}),
    },
  };
}
