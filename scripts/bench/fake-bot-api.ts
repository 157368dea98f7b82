import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a chat's user sees: the message with the live keyboard, and what its keyboard was before the last edit. */
export interface ChatView {
  liveMessageId: number | undefined;
  /** callback_data of the live message's buttons. */
  keyboard: string[];
  /** The keyboard the live message carried before its last edit: a double tap presses one of these. */
  previousKeyboard: string[];
  nextMessageId: number;
}

export interface FakeBotApi {
  readonly url: string;
  /** The chat as its user sees it, for one bot (token). */
  chat(token: string, chatId: number): ChatView;
  /** Bot API calls answered so far, for one bot. */
  calls(token: string): number;
  close(): Promise<void>;
}

interface Markup {
  inline_keyboard?: Array<Array<{ callback_data?: string }>>;
}

/**
 * A minimal, fast Bot API: answers every method with success and keeps, per bot and chat, only what the
 * simulated user needs to press the next button. It replaces the stand-in (tools/telegram-stand-in) in the
 * benchmark because the stand-in models Telegram faithfully (histories, faults) and costs more CPU per
 * call than the bot under test would wait on Telegram.
 */
export async function startFakeBotApi(): Promise<FakeBotApi> {
  const bots = new Map<string, { chats: Map<number, ChatView>; calls: number }>();
  const botOf = (token: string) => {
    let bot = bots.get(token);
    if (!bot) {
      bot = { chats: new Map(), calls: 0 };
      bots.set(token, bot);
    }
    return bot;
  };
  const chatOf = (token: string, chatId: number): ChatView => {
    const chats = botOf(token).chats;
    let chat = chats.get(chatId);
    if (!chat) {
      chat = { liveMessageId: undefined, keyboard: [], previousKeyboard: [], nextMessageId: 1_000_000 };
      chats.set(chatId, chat);
    }
    return chat;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url ?? '');
      if (!match) {
        res.writeHead(404).end();
        return;
      }
      const [, token = '', method = ''] = match;
      botOf(token).calls += 1;
      const payload = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
        : {};
      const result = answer(token, method, payload);
      const body = JSON.stringify({ ok: true, result });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;

  function answer(token: string, method: string, payload: Record<string, unknown>): unknown {
    const chatId = Number(payload.chat_id);
    const buttons = (markup: unknown) =>
      ((markup as Markup | undefined)?.inline_keyboard ?? [])
        .flat()
        .flatMap((b) => (b.callback_data ? [b.callback_data] : []));
    switch (method) {
      case 'getMe':
        return { id: Number(token.split(':')[0]), is_bot: true, first_name: 'Bench', username: 'bench_bot' };
      case 'sendMessage': {
        const chat = chatOf(token, chatId);
        const messageId = chat.nextMessageId++;
        const keyboard = buttons(payload.reply_markup);
        if (keyboard.length) {
          chat.liveMessageId = messageId;
          chat.keyboard = keyboard;
          chat.previousKeyboard = [];
        }
        return message(messageId, chatId, payload.text);
      }
      case 'editMessageText':
      case 'editMessageReplyMarkup': {
        const chat = chatOf(token, chatId);
        const messageId = Number(payload.message_id);
        if (messageId === chat.liveMessageId && payload.reply_markup) {
          chat.previousKeyboard = chat.keyboard;
          chat.keyboard = buttons(payload.reply_markup);
        }
        return message(messageId, chatId, payload.text);
      }
      default:
        return true;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    chat: chatOf,
    calls: (token) => botOf(token).calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function message(messageId: number, chatId: number, text: unknown) {
  return {
    message_id: messageId,
    date: Math.floor(Date.now() / 1000),
    chat: { id: chatId, type: 'private', first_name: 'Bench' },
    text: typeof text === 'string' ? text : '',
  };
}
