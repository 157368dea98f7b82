import Fastify from 'fastify';
import { Api, Bot, GrammyError, HttpError, InlineKeyboard, InputFile } from 'grammy';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  type BotApiStandIn,
  DESCRIPTION,
  type SimulatedUser,
  startBotApiStandIn,
} from '../tools/telegram-stand-in/index.js';

const TOKEN = '123456:stand-in-test';
const ALICE = { id: 1001, first_name: 'Alice', language_code: 'en' } as const;
const NOT_MODIFIED =
  'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';
const QUERY_TOO_OLD = 'Bad Request: query is too old and response timeout expired or query ID is invalid';

let standIn: BotApiStandIn;
let api: Api;
let alice: SimulatedUser;

beforeEach(async () => {
  standIn = await startBotApiStandIn({ token: TOKEN, port: 0, host: '127.0.0.1', webhookRetryDelayMs: 50 });
  api = new Api(TOKEN, { apiRoot: standIn.apiRoot });
  alice = standIn.user(ALICE);
});

afterEach(async () => {
  await standIn.stop();
});

/** The error a call was rejected with; fails the test if the call succeeded. */
async function rejection(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to be rejected');
}

async function grammyError(call: Promise<unknown>): Promise<GrammyError> {
  const error = await rejection(call);
  expect(error).toBeInstanceOf(GrammyError);
  return error as GrammyError;
}

/** A raw HTTP call, for what grammY never sends (form bodies, GET, odd casing). */
async function httpCall(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${standIn.apiRoot}${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const keyboard = new InlineKeyboard().text('Images', 'menu:images').text('Balance', 'menu:balance');

describe('Bot API protocol', () => {
  test('getMe answers as the bot whose id is the token prefix', async () => {
    const me = await api.getMe();
    expect(me).toMatchObject({ id: 123456, is_bot: true, username: 'tracegram_stand_in_bot' });
    expect(standIn.calls.map((call) => call.method)).toEqual(['getMe']);
  });

  test('sendMessage stores the message with per-chat ids, shared with the user’s messages', async () => {
    await alice.sendText('hello');
    const sent = await api.sendMessage(ALICE.id, 'Welcome', { reply_markup: keyboard });
    expect(sent).toMatchObject({
      message_id: 2,
      chat: { id: ALICE.id, type: 'private', first_name: 'Alice' },
      from: { id: 123456, is_bot: true },
      text: 'Welcome',
      reply_markup: {
        inline_keyboard: [[{ text: 'Images', callback_data: 'menu:images' }, { text: 'Balance' }]],
      },
    });
    expect(Math.abs(sent.date - Date.now() / 1000)).toBeLessThan(5);
    const bob = standIn.user({ id: 2002, first_name: 'Bob' });
    await expect(api.sendMessage(bob.id, 'Hi Bob')).resolves.toMatchObject({ message_id: 1 });
    expect(standIn.messages(ALICE.id).map((m) => m.text)).toEqual(['Welcome']);
    expect(standIn.lastMessage(ALICE.id)).toEqual(sent);
  });

  test('wrong token is 401 Unauthorized', async () => {
    const error = await grammyError(new Api('123456:WRONG', { apiRoot: standIn.apiRoot }).getMe());
    expect(error).toMatchObject({ error_code: 401, description: 'Unauthorized' });
    const raw = await httpCall('/bot123456:WRONG/getMe');
    expect(raw).toEqual({ status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } });
  });

  test('an unknown method is 404, and method names are case-insensitive', async () => {
    const raw = api.raw as unknown as Record<string, (payload: object) => Promise<unknown>>;
    const error = await grammyError(raw.sendHologram({ chat_id: 1 }));
    expect(error).toMatchObject({ error_code: 404, description: 'Not Found: method not found' });
    expect((await httpCall(`/bot${TOKEN}/GETME`)).body).toMatchObject({ ok: true, result: { id: 123456 } });
    expect(await httpCall('/elsewhere')).toEqual({
      status: 404,
      body: { ok: false, error_code: 404, description: 'Not Found' },
    });
  });

  test('takes parameters from a form body or the query string, parsing JSON-encoded objects', async () => {
    const markup = JSON.stringify({ inline_keyboard: [[{ text: 'Go', callback_data: 'go' }]] });
    const form = await httpCall(`/bot${TOKEN}/sendMessage`, {
      method: 'POST',
      body: new URLSearchParams({ chat_id: String(ALICE.id), text: 'via form', reply_markup: markup }),
    });
    expect(form).toMatchObject({ status: 200, body: { ok: true, result: { text: 'via form' } } });
    const query = new URLSearchParams({ chat_id: String(ALICE.id), text: 'via query', reply_markup: markup });
    const get = await httpCall(`/bot${TOKEN}/sendMessage?${query}`);
    expect(get.body).toMatchObject({
      ok: true,
      result: { reply_markup: { inline_keyboard: [[{ text: 'Go' }]] } },
    });
    expect(standIn.calls.at(-1)?.params.reply_markup).toEqual(JSON.parse(markup));
    const broken = await httpCall(`/bot${TOKEN}/sendMessage`, {
      method: 'POST',
      body: new URLSearchParams({ chat_id: String(ALICE.id), text: 'x', reply_markup: '{oops' }),
    });
    expect(broken).toEqual({
      status: 400,
      body: {
        ok: false,
        error_code: 400,
        description: "Bad Request: can't parse reply keyboard markup JSON object",
      },
    });
  });

  test.each([
    ['no chat_id', () => api.raw.sendMessage({ text: 'hi' } as never), 400, 'Bad Request: chat_id is empty'],
    ['an unknown chat', () => api.sendMessage(999, 'hi'), 400, 'Bad Request: chat not found'],
    ['empty text', () => api.sendMessage(ALICE.id, ''), 400, 'Bad Request: message text is empty'],
    [
      'text over 4096',
      () => api.sendMessage(ALICE.id, 'x'.repeat(4097)),
      400,
      'Bad Request: message is too long',
    ],
    [
      'callback_data over 64 bytes',
      () => api.sendMessage(ALICE.id, 'hi', { reply_markup: new InlineKeyboard().text('A', 'é'.repeat(33)) }),
      400,
      'Bad Request: BUTTON_DATA_INVALID',
    ],
    [
      'a button without action',
      () =>
        api.sendMessage(ALICE.id, 'hi', { reply_markup: { inline_keyboard: [[{ text: 'A' } as never]] } }),
      400,
      "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
    ],
    [
      'an unclosed HTML tag',
      () => api.sendMessage(ALICE.id, '<b>hi', { parse_mode: 'HTML' }),
      400,
      'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "b"',
    ],
    [
      'no photo',
      () => api.raw.sendPhoto({ chat_id: ALICE.id } as never),
      400,
      'Bad Request: there is no photo in the request',
    ],
    [
      'a foreign file_id',
      () => api.sendPhoto(ALICE.id, 'AgACAgIAAxkBAAIC-not-ours'),
      400,
      'Bad Request: wrong file identifier/HTTP URL specified',
    ],
    ['an unknown callback query', () => api.answerCallbackQuery('42'), 400, QUERY_TOO_OLD],
    [
      'an edit of a missing message',
      () => api.editMessageText(ALICE.id, 77, 'x'),
      400,
      'Bad Request: message to edit not found',
    ],
    [
      'a delete of a missing message',
      () => api.deleteMessage(ALICE.id, 77),
      400,
      'Bad Request: message to delete not found',
    ],
    [
      'an invalid command',
      () => api.setMyCommands([{ command: 'Start', description: 'x' }]),
      400,
      'Bad Request: BOT_COMMAND_INVALID',
    ],
  ])('rejects %s as Telegram does', async (_case, call, errorCode, description) => {
    const error = await grammyError(call());
    expect(error).toMatchObject({ error_code: errorCode, description });
    expect(standIn.calls.at(-1)).toMatchObject({ ok: false, errorCode, description });
  });

  test('a user who blocked the bot makes sends fail with 403', async () => {
    alice.blockBot();
    const error = await grammyError(api.sendMessage(ALICE.id, 'hi'));
    expect(error).toMatchObject({ error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    alice.unblockBot();
    await expect(api.sendMessage(ALICE.id, 'hi')).resolves.toMatchObject({ text: 'hi' });
  });

  test('HTML parse_mode becomes plain text with entities', async () => {
    const sent = await api.sendMessage(
      ALICE.id,
      '<b>Bold</b> and <a href="https://example.org">link</a> &amp; more',
      {
        parse_mode: 'HTML',
      },
    );
    expect(sent.text).toBe('Bold and link & more');
    expect(sent.entities).toEqual([
      { type: 'bold', offset: 0, length: 4 },
      { type: 'text_link', offset: 9, length: 4, url: 'https://example.org' },
    ]);
  });
});

describe('edits and deletes', () => {
  test('editMessageText applies the edit, and an identical edit is "not modified"', async () => {
    const sent = await api.sendMessage(ALICE.id, 'Menu', { reply_markup: keyboard });
    const edited = await api.editMessageText(ALICE.id, sent.message_id, 'Images', { reply_markup: keyboard });
    expect(edited).toMatchObject({ message_id: sent.message_id, text: 'Images', reply_markup: keyboard });
    expect(edited).toHaveProperty('edit_date');
    const again = await grammyError(
      api.editMessageText(ALICE.id, sent.message_id, 'Images', { reply_markup: keyboard }),
    );
    expect(again).toMatchObject({ error_code: 400, description: NOT_MODIFIED });
    // Without reply_markup the keyboard goes away, as on Telegram.
    await api.editMessageText(ALICE.id, sent.message_id, 'Images');
    expect(standIn.lastMessage(ALICE.id)).not.toHaveProperty('reply_markup');
    expect(standIn.messages(ALICE.id)).toHaveLength(1);
  });

  test('editMessageReplyMarkup replaces the keyboard and refuses a no-op', async () => {
    const sent = await api.sendMessage(ALICE.id, 'Menu', { reply_markup: keyboard });
    const back = new InlineKeyboard().text('Back', 'menu:back');
    await api.editMessageReplyMarkup(ALICE.id, sent.message_id, { reply_markup: back });
    expect(standIn.lastMessage(ALICE.id)?.reply_markup).toEqual(back);
    const error = await grammyError(
      api.editMessageReplyMarkup(ALICE.id, sent.message_id, { reply_markup: back }),
    );
    expect(error.description).toBe(NOT_MODIFIED);
  });

  test('the bot cannot edit the user’s message', async () => {
    const update = await alice.sendText('mine');
    const error = await grammyError(api.editMessageText(ALICE.id, update.message?.message_id ?? 0, 'yours'));
    expect(error.description).toBe("Bad Request: message can't be edited");
  });

  test('deleteMessage works within 48 hours only', async () => {
    const fresh = await api.sendMessage(ALICE.id, 'fresh');
    const old = await api.sendMessage(ALICE.id, 'old');
    standIn.setMessageDate(ALICE.id, old.message_id, Math.floor(Date.now() / 1000) - 48 * 3600 - 1);
    await expect(api.deleteMessage(ALICE.id, fresh.message_id)).resolves.toBe(true);
    const error = await grammyError(api.deleteMessage(ALICE.id, old.message_id));
    expect(error.description).toBe("Bad Request: message can't be deleted for everyone");
    expect(standIn.messages(ALICE.id).map((m) => m.text)).toEqual(['old']);
  });
});

describe('users acting', () => {
  test('sendCommand queues a message with a bot_command entity', async () => {
    const update = await alice.sendCommand('/start ref_42');
    expect(update.message).toMatchObject({
      text: '/start ref_42',
      from: { id: ALICE.id, is_bot: false, first_name: 'Alice', language_code: 'en' },
      chat: { id: ALICE.id, type: 'private' },
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    });
    expect(standIn.pendingUpdates()).toEqual([update]);
  });

  test('press finds the button by text or data on the stored message; pressData forges any data', async () => {
    const sent = await api.sendMessage(ALICE.id, 'Menu', { reply_markup: keyboard });
    const byText = await alice.press(sent, 'Images');
    expect(byText.callback_query).toMatchObject({
      from: { id: ALICE.id },
      data: 'menu:images',
      message: { message_id: sent.message_id, text: 'Menu' },
    });
    expect(byText.callback_query?.chat_instance).toEqual(expect.any(String));
    expect((await alice.press(sent.message_id, { data: 'menu:balance' })).callback_query?.data).toBe(
      'menu:balance',
    );
    await expect(alice.press(sent, 'Settings')).rejects.toThrow(
      /no button with text "Settings".*"Images", "Balance"/,
    );
    expect((await alice.pressData(sent.message_id, 'menu:admin')).callback_query?.data).toBe('menu:admin');
    // The press sees the message as edited since it was sent.
    await api.editMessageText(ALICE.id, sent.message_id, 'Edited', { reply_markup: keyboard });
    expect((await alice.press(sent, 'Images')).callback_query?.message).toMatchObject({ text: 'Edited' });
  });

  test('answerCallbackQuery is recorded once; a second answer is refused', async () => {
    const sent = await api.sendMessage(ALICE.id, 'Menu', { reply_markup: keyboard });
    const id = (await alice.press(sent, 'Images')).callback_query?.id ?? '';
    await api.answerCallbackQuery(id, { text: 'Loading', show_alert: true });
    expect(standIn.callbackAnswer(id)).toEqual({ callback_query_id: id, text: 'Loading', show_alert: true });
    expect((await grammyError(api.answerCallbackQuery(id))).description).toBe(QUERY_TOO_OLD);
    expect(standIn.callbackAnswer('nope')).toBeUndefined();
  });

  test('paying an invoice: pre_checkout_query, then successful_payment after ok', async () => {
    const invoice = await api.sendInvoice(ALICE.id, '100 credits', 'Top up', 'order-7', 'XTR', [
      { label: '100 credits', amount: 50 },
    ]);
    expect(invoice.invoice).toMatchObject({ title: '100 credits', currency: 'XTR', total_amount: 50 });
    const { pre_checkout_query: query } = await alice.pay(invoice);
    expect(query).toMatchObject({
      from: { id: ALICE.id },
      currency: 'XTR',
      total_amount: 50,
      invoice_payload: 'order-7',
    });
    await api.answerPreCheckoutQuery(query?.id ?? '', true);
    const updates = await api.getUpdates();
    expect(updates.at(-1)?.message?.successful_payment).toMatchObject({
      invoice_payload: 'order-7',
      total_amount: 50,
    });
    expect((await grammyError(api.answerPreCheckoutQuery(query?.id ?? '', true))).description).toBe(
      QUERY_TOO_OLD,
    );
  });

  test('Stars invoices have no provider token and exactly one price', async () => {
    const price = { label: 'credits', amount: 50 };
    expect(
      (await grammyError(api.sendInvoice(ALICE.id, 't', 'd', 'p', 'XTR', [price, price]))).description,
    ).toBe(DESCRIPTION.starsOnePrice);
    expect(
      (
        await grammyError(
          api.sendInvoice(ALICE.id, 't', 'd', 'p', 'XTR', [price], { provider_token: '284685063:TEST' }),
        )
      ).description,
    ).toBe(DESCRIPTION.starsProviderToken);
    await expect(
      api.sendInvoice(ALICE.id, 't', 'd', 'p', 'XTR', [price], { provider_token: '' }),
    ).resolves.toHaveProperty('invoice');
  });

  test('refundStarPayment returns a paid charge once, to the user who paid', async () => {
    const invoice = await api.sendInvoice(ALICE.id, 't', 'd', 'p', 'XTR', [{ label: 'credits', amount: 75 }]);
    const { pre_checkout_query: query } = await alice.pay(invoice);
    await api.answerPreCheckoutQuery(query?.id ?? '', true);
    const paid = standIn.updates.at(-1)?.message?.successful_payment;
    const chargeId = paid?.telegram_payment_charge_id ?? '';
    expect(standIn.starPayment(chargeId)).toEqual({
      userId: ALICE.id,
      telegramPaymentChargeId: chargeId,
      totalAmount: 75,
      refunded: false,
    });

    expect((await grammyError(api.refundStarPayment(ALICE.id + 1, chargeId))).description).toBe(
      DESCRIPTION.chargeNotFound,
    );
    await expect(api.refundStarPayment(ALICE.id, chargeId)).resolves.toBe(true);
    expect(standIn.starPayment(chargeId)?.refunded).toBe(true);
    expect((await grammyError(api.refundStarPayment(ALICE.id, chargeId))).description).toBe(
      DESCRIPTION.chargeAlreadyRefunded,
    );
    expect((await grammyError(api.refundStarPayment(ALICE.id, 'never-issued'))).description).toBe(
      DESCRIPTION.chargeNotFound,
    );
  });

  test('redeliver queues the same content under a new update id', async () => {
    const original = await alice.sendText('twice');
    const again = standIn.redeliver(original);
    expect(again.update_id).toBeGreaterThan(original.update_id);
    expect(again.message).toEqual(original.message);
    const ids = (await api.getUpdates()).map((update) => update.update_id);
    expect(ids).toEqual(expect.arrayContaining([original.update_id, again.update_id]));
  });

  test('sendPhoto takes an upload, a URL (not fetched) or a file_id it issued', async () => {
    const uploaded = await api.sendPhoto(ALICE.id, new InputFile(new Uint8Array([1, 2, 3]), 'cat.jpg'), {
      caption: 'A cat',
    });
    expect(uploaded).toMatchObject({ caption: 'A cat', photo: [{ width: 90 }, { width: 800 }] });
    expect(standIn.calls.at(-1)?.params.photo).toMatchObject({ upload: { filename: 'cat.jpg', size: 3 } });
    const fileId = uploaded.photo?.at(-1)?.file_id ?? '';
    await expect(api.sendPhoto(ALICE.id, fileId)).resolves.toMatchObject({ photo: uploaded.photo });
    await expect(api.sendPhoto(ALICE.id, 'https://example.invalid/cat.png')).resolves.toHaveProperty('photo');
  });

  test('setMyCommands / getMyCommands keep a menu per scope and language', async () => {
    await api.setMyCommands([{ command: 'start', description: 'Main menu' }]);
    await api.setMyCommands([{ command: 'start', description: 'Hauptmenü' }], { language_code: 'de' });
    expect(await api.getMyCommands()).toEqual([{ command: 'start', description: 'Main menu' }]);
    expect(await api.getMyCommands({ language_code: 'de' })).toEqual([
      { command: 'start', description: 'Hauptmenü' },
    ]);
    expect(await api.getMyCommands({ scope: { type: 'all_private_chats' } })).toEqual([]);
  });
});

describe('getUpdates', () => {
  test('holds the request until an update arrives; offset confirms', async () => {
    const poll = api.getUpdates({ timeout: 10 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sent = await alice.sendText('wake up');
    const updates = await poll;
    expect(updates).toEqual([sent]);
    expect(await api.getUpdates({ timeout: 0 })).toEqual([sent]); // not confirmed yet
    expect(await api.getUpdates({ offset: sent.update_id + 1, timeout: 0 })).toEqual([]);
    expect(standIn.pendingUpdates()).toEqual([]);
    const next = await alice.sendText('again');
    expect(next.update_id).toBe(sent.update_id + 1);
  });

  test('answers after `timeout` seconds with nothing when no update comes', async () => {
    const started = Date.now();
    expect(await api.getUpdates({ timeout: 1 })).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  test('a second getUpdates ends the held one with 409', async () => {
    const first = rejection(api.getUpdates({ timeout: 10 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await api.getUpdates({ timeout: 0 });
    expect(await first).toMatchObject({
      error_code: 409,
      description:
        'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    });
  });

  test('stop() answers a held request at once', async () => {
    const poll = api.getUpdates({ timeout: 30 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await standIn.stop();
    expect(await poll).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('webhook mode', () => {
  test('POSTs each update with the secret header, retries a failed delivery, and blocks getUpdates', async () => {
    const received: { secret: unknown; body: unknown }[] = [];
    let status = 500;
    const receiver = Fastify({ logger: false });
    receiver.post('/hook', async (request, reply) => {
      received.push({ secret: request.headers['x-telegram-bot-api-secret-token'], body: request.body });
      // A 2xx answer may carry a method call, which Telegram executes.
      return reply
        .code(status)
        .send(status === 200 ? { method: 'sendMessage', chat_id: ALICE.id, text: 'via reply' } : {});
    });
    await receiver.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${(receiver.server.address() as { port: number }).port}/hook`;
      await expect(api.setWebhook(url, { secret_token: 'sekret_1' })).resolves.toBe(true);
      const conflict = await grammyError(api.getUpdates());
      expect(conflict).toMatchObject({
        error_code: 409,
        description:
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      });

      const update = await alice.sendText('hook me');
      await vi.waitFor(() => expect(standIn.webhookDeliveries.length).toBeGreaterThanOrEqual(1));
      const info = await api.getWebhookInfo();
      expect(info).toMatchObject({ url, pending_update_count: 1 });
      expect(info.last_error_message).toBe('Wrong response from the webhook: 500 Internal Server Error');

      status = 200;
      await vi.waitFor(() => expect(standIn.webhookDeliveries.at(-1)?.status).toBe(200));
      expect(standIn.webhookDeliveries.map((d) => d.status)).toEqual([
        ...Array(standIn.webhookDeliveries.length - 1).fill(500),
        200,
      ]);
      expect(received.every((r) => r.secret === 'sekret_1')).toBe(true);
      expect(received.at(-1)?.body).toEqual(update);
      await standIn.waitFor({ method: 'sendMessage' });
      expect(standIn.lastMessage(ALICE.id)?.text).toBe('via reply');
      expect((await api.getWebhookInfo()).pending_update_count).toBe(0);

      await api.deleteWebhook();
      await alice.sendText('queued again');
      expect(await api.getUpdates()).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });
});

describe('fault injection', () => {
  test('network: the socket closes without an answer, then calls work again', async () => {
    standIn.failNext('sendMessage', { kind: 'network' });
    expect(await rejection(api.sendMessage(ALICE.id, 'lost'))).toBeInstanceOf(HttpError);
    expect(standIn.messages(ALICE.id)).toEqual([]);
    await expect(api.sendMessage(ALICE.id, 'ok')).resolves.toMatchObject({ text: 'ok' });
    expect(standIn.calls.map((c) => [c.method, c.ok, c.fault])).toEqual([
      ['sendMessage', false, 'network'],
      ['sendMessage', true, undefined],
    ]);
  });

  test('network after execution: the message exists but the bot never hears so', async () => {
    standIn.failNext('sendMessage', { kind: 'network', afterExecution: true });
    expect(await rejection(api.sendMessage(ALICE.id, 'sent anyway'))).toBeInstanceOf(HttpError);
    expect(standIn.messages(ALICE.id).map((m) => m.text)).toEqual(['sent anyway']);
  });

  test('429 carries retry_after; `times` repeats the fault', async () => {
    standIn.failNext(
      'sendMessage',
      { error_code: 429, description: 'Too Many Requests: retry after 3', retry_after: 3 },
      2,
    );
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await grammyError(api.sendMessage(ALICE.id, 'hi'));
      expect(error).toMatchObject({
        error_code: 429,
        description: 'Too Many Requests: retry after 3',
        parameters: { retry_after: 3 },
      });
    }
    await expect(api.sendMessage(ALICE.id, 'hi')).resolves.toHaveProperty('message_id');
    expect(standIn.calls.filter((c) => c.fault === 'error')).toHaveLength(2);
  });

  test('a fault for a method the stand-in lacks is refused up front', () => {
    expect(() => standIn.failNext('sendMesage', { kind: 'network' })).toThrow(
      /does not implement "sendMesage"/,
    );
  });
});

describe('waitFor', () => {
  test('resolves with the matching calls', async () => {
    const waiting = standIn.waitFor({ method: 'sendMessage', count: 2, where: (call) => call.ok });
    await api.sendMessage(ALICE.id, 'one');
    await rejection(api.sendMessage(ALICE.id, ''));
    await api.sendMessage(ALICE.id, 'two');
    expect((await waiting).map((call) => call.params.text)).toEqual(['one', 'two']);
    await expect(standIn.waitFor((calls) => calls.length === 3)).resolves.toHaveLength(3);
  });

  test('rejects on timeout with the recent calls listed', async () => {
    await rejection(api.sendMessage(999, 'to nobody'));
    await expect(standIn.waitFor({ method: 'editMessageText' }, 100)).rejects.toThrow(
      /timed out after 100 ms waiting for 1 × editMessageText[\s\S]*sendMessage → 400 Bad Request: chat not found/,
    );
  });
});

describe('control API over HTTP', () => {
  test('a developer can act as a user and inspect the chat with plain HTTP', async () => {
    const post = (path: string, body: object) =>
      httpCall(`/_stand-in${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const command = await post('/users/3003/command', { command: '/start', first_name: 'Carol' });
    expect(command.body).toMatchObject({
      ok: true,
      result: { message: { text: '/start', from: { first_name: 'Carol' } } },
    });
    const sent = await api.sendMessage(3003, 'Menu', { reply_markup: keyboard });
    const press = await post('/users/3003/press', { message_id: sent.message_id, text: 'Balance' });
    expect(press.body).toMatchObject({ ok: true, result: { callback_query: { data: 'menu:balance' } } });
    const missing = await post('/users/3003/press', { message_id: sent.message_id, text: 'Nope' });
    expect(missing).toMatchObject({ status: 400, body: { ok: false, error_code: 400 } });
    expect((await httpCall('/_stand-in/chats/3003/messages')).body).toMatchObject({
      ok: true,
      result: [{ text: 'Menu' }],
    });
    expect((await httpCall('/_stand-in/calls?method=sendMessage')).body).toMatchObject({
      ok: true,
      result: [{ method: 'sendMessage', ok: true }],
    });
  });
});

describe('a real grammY bot, long polling', () => {
  test('round trip: /start, reply with a keyboard, press, answer the callback, edit the message', async () => {
    const bot = new Bot(TOKEN, { client: { apiRoot: standIn.apiRoot } });
    bot.command('start', (ctx) => ctx.reply(`Hello, ${ctx.from?.first_name}`, { reply_markup: keyboard }));
    bot.callbackQuery('menu:images', async (ctx) => {
      await ctx.answerCallbackQuery({ text: 'Opening images' });
      await ctx.editMessageText('Images', { reply_markup: new InlineKeyboard().text('Back', 'menu:back') });
    });
    const running = bot.start({ timeout: 30 });
    try {
      await alice.sendCommand('/start');
      await standIn.waitFor({ method: 'sendMessage' });
      const menu = standIn.lastMessage(ALICE.id);
      expect(menu).toMatchObject({ text: 'Hello, Alice', reply_markup: keyboard });

      const press = await alice.press(menu ?? 0, 'Images');
      await standIn.waitFor({ method: 'editMessageText' });
      expect(standIn.callbackAnswer(press.callback_query?.id ?? '')).toMatchObject({
        text: 'Opening images',
      });
      expect(standIn.messages(ALICE.id)).toHaveLength(1);
      expect(standIn.lastMessage(ALICE.id)).toMatchObject({
        message_id: menu?.message_id,
        text: 'Images',
        reply_markup: { inline_keyboard: [[{ text: 'Back', callback_data: 'menu:back' }]] },
      });
    } finally {
      await bot.stop();
      await running;
    }
    expect(standIn.pendingUpdates()).toEqual([]);
    const methods = new Set(standIn.calls.map((call) => call.method));
    expect(methods).toEqual(
      new Set([
        'getMe',
        'deleteWebhook',
        'getUpdates',
        'sendMessage',
        'answerCallbackQuery',
        'editMessageText',
      ]),
    );
  });
});
