import { SpanStatusCode } from '@opentelemetry/api';
import type { Message } from 'grammy/types';
import { describe, expect, test, vi } from 'vitest';
import { ATTR, EVENT, SPAN } from '../src/telemetry/conventions.js';
import { startBotApiStandIn } from '../tools/telegram-stand-in/index.js';
import { freshUserId, startHarness, TEST_TOKEN, uniqueUpdateId } from './support/harness.js';
import { TraceView } from './support/telemetry-assertions.js';

/** The update pipeline against a Bot API that misbehaves the way Telegram does (issue 6). */

// Each test starts a real bot (PGlite's WASM start-up is slow on a loaded machine); latency bounds are in the asserts.
vi.setConfig({ testTimeout: 45_000 });

describe('polling runs chats concurrently', () => {
  test("one user's hung call does not hold another user's reply", async () => {
    const h = await startHarness({ botApiDeadlineMs: 5_000 });
    try {
      const ann = h.standIn.user({ id: freshUserId(), first_name: 'Ann', language_code: 'en' });
      const ben = h.standIn.user({ id: freshUserId(), first_name: 'Ben', language_code: 'en' });
      h.standIn.failNext('sendMessage', { kind: 'hang' });
      await ann.sendCommand('/start');
      await h.standIn.waitFor({ method: 'sendMessage' });
      const sentAt = Date.now();
      await ben.sendCommand('/start');
      await h.standIn.waitFor({ method: 'sendMessage', where: (call) => call.params.chat_id === ben.id });
      const tookMs = Date.now() - sentAt;

      // Ann's call is held until its 5 s deadline; Ben's reply does not wait for it.
      expect(tookMs).toBeLessThan(2_000);
      expect(h.standIn.lastMessage(ann.id)).toBeUndefined();
      expect(h.standIn.lastMessage(ben.id)?.text).toContain('Pick a category');
    } finally {
      await h.stop();
    }
  });
});

describe("Telegram's errors", () => {
  test('a 429 with retry_after is retried: two CLIENT spans, the reply arrives, no apology', async () => {
    const h = await startHarness();
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Rae', language_code: 'en' });
      h.standIn.failNext('sendMessage', {
        error_code: 429,
        description: 'Too Many Requests: retry after 1',
        retry_after: 1,
      });
      const summary = await h.act(() => user.sendCommand('/start'));

      expect(summary).toMatchObject({ reasonCode: 'SUCCESS', outcome: 'success' });
      const sends = TraceView.of(summary.traceId, h.finishedSpans()).named(
        `${SPAN.BOTAPI_PREFIX}sendMessage`,
      );
      expect(sends.map((s) => s.attributes[ATTR.BOTAPI_ERROR_CODE] ?? 'ok')).toEqual(['429', 'ok']);
      const texts = h.standIn.calls
        .filter((c) => c.method === 'sendMessage' && c.ok)
        .map((c) => String(c.params.text));
      expect(texts).toEqual([expect.stringContaining('Pick a category')]);
    } finally {
      await h.stop();
    }
  });

  test.each([
    {
      method: 'editMessageText',
      description:
        'Bad Request: message is not modified: specified new message content and reply markup are exactly the same',
    },
    {
      method: 'answerCallbackQuery',
      description: 'Bad Request: query is too old and response timeout expired or query ID is invalid',
    },
  ])('"$description" is an answer, not an error: the span is not ERROR', async ({ method, description }) => {
    const h = await startHarness();
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Ivy', language_code: 'en' });
      await h.act(() => user.sendCommand('/start'));
      h.standIn.failNext(method, { error_code: 400, description });
      const summary = await h.act(() => user.press(h.standIn.lastMessage(user.id) as Message, '❓ Help'));

      expect(summary).toMatchObject({ reasonCode: 'SUCCESS', outcome: 'success' });
      const [refused] = TraceView.of(summary.traceId, h.finishedSpans()).named(
        `${SPAN.BOTAPI_PREFIX}${method}`,
      );
      expect(refused?.attributes[ATTR.BOTAPI_ERROR_CODE]).toBe('400');
      expect(refused?.status.code).not.toBe(SpanStatusCode.ERROR);
    } finally {
      await h.stop();
    }
  });
});

function startUpdate(userId: number) {
  return {
    update_id: uniqueUpdateId(),
    message: {
      message_id: 1,
      date: Math.floor(Date.now() / 1000),
      chat: { id: userId, type: 'private', first_name: 'Dee' },
      from: { id: userId, is_bot: false, first_name: 'Dee', language_code: 'en' },
      text: '/start',
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    },
  };
}

describe('redelivery', () => {
  const SECRET = 'redelivery-secret';

  test.each([
    { store: 'PGlite', postgres: false },
    { store: 'Postgres', postgres: true },
  ])('one update delivered twice gets one reply ($store)', async ({ postgres }) => {
    const h = await startHarness({
      postgres,
      env: { BOT_MODE: 'webhook', WEBHOOK_SECRET: SECRET, PUBLIC_URL: 'http://127.0.0.1:9' },
    });
    try {
      const userId = freshUserId();
      h.standIn.user({ id: userId, first_name: 'Dee', language_code: 'en' });
      const update = startUpdate(userId);
      const deliver = () =>
        h.act(() =>
          fetch(`${h.httpUrl}/telegram/webhook`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
            body: JSON.stringify(update),
          }),
        );
      expect((await deliver()).reasonCode).toBe('SUCCESS');
      expect(await deliver()).toMatchObject({ reasonCode: 'DUPLICATE_UPDATE', outcome: 'noop' });
      const replies = h.standIn.calls.filter(
        (c) => c.method === 'sendMessage' && c.params.chat_id === userId,
      );
      expect(replies).toHaveLength(1);
    } finally {
      await h.stop();
    }
  });
});

describe('webhook timing', () => {
  test('a slow update is answered to Telegram within the bound, and still handled', async () => {
    const secret = 'timing-secret';
    const h = await startHarness({
      botApiDeadlineMs: 3_000,
      webhookTimeoutMs: 300,
      env: { BOT_MODE: 'webhook', WEBHOOK_SECRET: secret, PUBLIC_URL: 'http://127.0.0.1:9' },
    });
    try {
      const userId = freshUserId();
      h.standIn.user({ id: userId, first_name: 'Tim', language_code: 'en' });
      h.standIn.failNext('sendMessage', { kind: 'hang' });
      const done = h.waitForOutcomes(1);
      const postedAt = Date.now();
      const response = await fetch(`${h.httpUrl}/telegram/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
        body: JSON.stringify(startUpdate(userId)),
      });
      const answeredMs = Date.now() - postedAt;

      // Answered long before the hung reply's 3 s deadline, which the update then runs into.
      expect(response.status).toBe(200);
      expect(answeredMs).toBeLessThan(2_000);
      expect(h.logLines()).toContainEqual(
        expect.objectContaining({ event: EVENT.WEBHOOK_TIMEOUT, timeout_ms: 300 }),
      );
      const [summary] = await done;
      expect(summary?.reasonCode).toBe('INTERNAL_ERROR');
      // The wait is measured in webhook mode too, from the request's arrival.
      const root = TraceView.of(summary?.traceId ?? '', h.finishedSpans()).root;
      expect(root.attributes[ATTR.UPDATE_QUEUE_WAIT]).toBeTypeOf('number');
    } finally {
      await h.stop();
    }
  });
});

describe('waiting before handling', () => {
  test("a chat's second update records the time it queued behind the first, on its root span and in a histogram", async () => {
    const h = await startHarness({ botApiDeadlineMs: 1_500 });
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Una', language_code: 'en' });
      h.standIn.failNext('sendMessage', { kind: 'hang' });
      const both = h.waitForOutcomes(2);
      await user.sendCommand('/start');
      await user.sendCommand('/help');
      const [first, second] = await both;

      const root = (traceId: string) => TraceView.of(traceId, h.finishedSpans()).root;
      const waited = root(second?.traceId ?? '').attributes[ATTR.UPDATE_QUEUE_WAIT] as number;
      // /help waited for /start's hung reply (1.5 s deadline) behind the chat's lock.
      expect(waited).toBeGreaterThan(1);
      expect(root(second?.traceId ?? '').attributes[ATTR.UPDATE_AGE]).toBeGreaterThanOrEqual(waited - 1);
      expect(root(first?.traceId ?? '').attributes[ATTR.UPDATE_QUEUE_WAIT]).toBeLessThan(1);
      const metrics = await h.otel.telemetry.exposition.render();
      expect(metrics).toMatch(/tracegram_update_queue_wait_seconds_bucket\{[^}]*update_type="message"/);
      expect(metrics).toMatch(/tracegram_update_age_seconds_count\{[^}]*update_type="message"[^}]*\} [1-9]/);
    } finally {
      await h.stop();
    }
  });
});

describe('set-up calls', () => {
  test('setMyCommands refused with 429 at start: the bot starts and serves, and sets the menus later', async () => {
    const standIn = await startBotApiStandIn({ token: TEST_TOKEN });
    // Longer than the retries inside one call may wait (half the 2 s deadline): the refusal reaches the app.
    standIn.failNext('setMyCommands', {
      error_code: 429,
      description: 'Too Many Requests: retry after 2',
      retry_after: 2,
    });
    const h = await startHarness({ standIn, botApiDeadlineMs: 2_000 });
    try {
      const user = standIn.user({ id: freshUserId(), first_name: 'Sam', language_code: 'en' });
      expect((await h.act(() => user.sendCommand('/start'))).reasonCode).toBe('SUCCESS');
      expect(h.logLines()).toContainEqual(
        expect.objectContaining({ event: EVENT.COMMANDS_NOT_SET, retry_in_s: 2 }),
      );

      // Retried after retry_after: the default menu and the Russian one, each in its language.
      await standIn.waitFor({ method: 'setMyCommands', count: 3 }, 10_000);
      const menu = async (language_code?: string) => {
        const url = `${standIn.apiRoot}/bot${TEST_TOKEN}/getMyCommands`;
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(language_code ? { language_code } : {}),
        });
        return ((await response.json()) as { result: Array<{ command: string; description: string }> })
          .result;
      };
      expect(await menu()).toEqual([
        { command: 'start', description: 'Main menu' },
        { command: 'help', description: 'Help' },
        { command: 'promo', description: 'Redeem a promo code' },
        { command: 'paysupport', description: 'Help with a payment' },
      ]);
      expect(await menu('ru')).toEqual([
        { command: 'start', description: 'Главное меню' },
        { command: 'help', description: 'Справка' },
        { command: 'promo', description: 'Активировать промокод' },
        { command: 'paysupport', description: 'Помощь с оплатой' },
      ]);
    } finally {
      await h.stop();
      await standIn.stop();
    }
  });
});

describe('old buttons', () => {
  test('the age past which a press is EXPIRED_MESSAGE is a setting (BUTTON_MAX_AGE_HOURS)', async () => {
    const h = await startHarness({ env: { BUTTON_MAX_AGE_HOURS: '1' } });
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Oda', language_code: 'en' });
      await h.act(() => user.sendCommand('/start'));
      const menu = h.standIn.lastMessage(user.id) as Message;
      h.standIn.setMessageDate(user.id, menu.message_id, Math.floor(Date.now() / 1000) - 2 * 3600);
      const summary = await h.act(() => user.press(h.standIn.lastMessage(user.id) as Message, '❓ Help'));
      expect(summary).toMatchObject({ reasonCode: 'EXPIRED_MESSAGE', detail: 'message older than 1 h' });
    } finally {
      await h.stop();
    }
  });
});

describe('telemetry of the pipeline itself', () => {
  test('stopping the runner aborts its long poll without counting it as a successful call', async () => {
    const h = await startHarness();
    const polls = async () => {
      const text = await h.otel.telemetry.exposition.render();
      const line = text
        .split('\n')
        .find(
          (l) =>
            /^tracegram_botapi_calls_total\{[^}]*method="getUpdates"/.test(l) && l.includes('error_code="0"'),
        );
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    // The first long poll is under way (the stand-in answers it only when an update arrives).
    await h.standIn.waitFor({ method: 'getUpdates' }).catch(() => undefined);
    const before = await polls();
    await h.stop();
    expect(await polls()).toBe(before);
  });
});

describe('answers in the webhook answer', () => {
  test('a button press is answered in the webhook answer, one Bot API round trip less, and its span says so', async () => {
    const secret = 'reply-secret';
    const h = await startHarness({
      env: { BOT_MODE: 'webhook', WEBHOOK_SECRET: secret, PUBLIC_URL: 'http://127.0.0.1:9' },
    });
    try {
      const userId = freshUserId();
      const user = h.standIn.user({ id: userId, first_name: 'Wes', language_code: 'en' });
      const deliver = async (update: unknown) => {
        let answer: { status: number; body: string } | undefined;
        const summary = await h.act(async () => {
          const response = await fetch(`${h.httpUrl}/telegram/webhook`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
            body: JSON.stringify(update),
          });
          answer = { status: response.status, body: await response.text() };
        });
        return { summary, status: answer?.status, body: JSON.parse(answer?.body ?? 'null') };
      };

      // A message is answered with a status: its reply is a call of its own.
      const started = await deliver(startUpdate(userId));
      expect(started.summary.reasonCode).toBe('SUCCESS');
      expect(started.body).toEqual({ status: 'ok' });

      // The stand-in queues the press (nothing listens at PUBLIC_URL); it is delivered here.
      const press = await user.press(h.standIn.lastMessage(userId) as Message, '🖼 Images');
      const queryId = press.callback_query?.id;
      const pressed = await deliver(press);
      expect(pressed.summary.reasonCode).toBe('SUCCESS');
      expect(pressed.status).toBe(200);
      expect(pressed.body).toEqual({ method: 'answerCallbackQuery', callback_query_id: queryId });
      // No round trip of its own to the Bot API…
      expect(h.standIn.calls.filter((c) => c.method === 'answerCallbackQuery')).toHaveLength(0);
      // …and its span is still there, saying where the answer went.
      const view = TraceView.of(pressed.summary.traceId, h.finishedSpans());
      const answerSpan = view.one('botapi answerCallbackQuery');
      expect(answerSpan.attributes).toMatchObject({
        [ATTR.BOTAPI_OK]: true,
        [ATTR.BOTAPI_WEBHOOK_REPLY]: true,
      });
      expect(answerSpan.attributes['http.response.status_code']).toBeUndefined();
      expect(view.parentOf(answerSpan)).toBe(view.root);

      // A stale press (the same button again, on a keyboard that has changed) gets its toast the same way.
      const stale = await deliver({
        ...press,
        update_id: uniqueUpdateId(),
        callback_query: { ...press.callback_query, id: `${queryId}-again` },
      });
      expect(stale.summary.reasonCode).toBe('STATE_MISMATCH');
      expect(stale.body).toMatchObject({
        method: 'answerCallbackQuery',
        callback_query_id: `${queryId}-again`,
        text: expect.any(String),
      });
      // Again no round trip of its own.
      expect(h.standIn.calls.filter((c) => c.method === 'answerCallbackQuery')).toHaveLength(0);
    } finally {
      await h.stop();
    }
  });
});
