import type { Message, Update } from 'grammy/types';
import { describe, expect, test, vi } from 'vitest';
import type { SessionData } from '../src/bot/context.js';
import { EVENT } from '../src/telemetry/conventions.js';
import { encodeCallbackData } from '../src/ui/callback-data.js';
import { freshUserId, startHarness, TEST_TOKEN } from './support/harness.js';

const SECRET = 'lifecycle-secret';

describe('webhook mode under load', () => {
  test('two presses of one chat delivered in parallel are handled one after the other', async () => {
    // The stand-in delivers webhooks one at a time, like a polite Telegram; real Telegram opens up to 40
    // connections. So this test posts hand-made updates to the webhook itself, concurrently.
    const h = await startHarness({
      env: { BOT_MODE: 'webhook', WEBHOOK_SECRET: SECRET, PUBLIC_URL: 'http://127.0.0.1:9' },
    });
    try {
      const userId = freshUserId();
      const from = { id: userId, is_bot: false, first_name: 'Cora', language_code: 'en' };
      h.standIn.user({ id: userId, first_name: 'Cora', language_code: 'en' });
      const post = (update: Update) =>
        fetch(`${h.httpUrl}/telegram/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
          body: JSON.stringify(update),
        });
      const now = Math.floor(Date.now() / 1000);
      const started = h.waitForOutcomes(1);
      await post({
        update_id: 1,
        message: {
          message_id: 1,
          date: now,
          chat: { id: userId, type: 'private', first_name: 'Cora' },
          from,
          text: '/start',
          entities: [{ type: 'bot_command', offset: 0, length: 6 }],
        },
      } as Update);
      await started;
      const menu = h.standIn.lastMessage(userId) as Message;
      // The stand-in makes the presses (so Telegram knows their query ids) but must not deliver them itself.
      await fetch(`${h.standIn.apiRoot}/bot${TEST_TOKEN}/deleteWebhook`);
      const user = h.standIn.user({ id: userId, first_name: 'Cora', language_code: 'en' });
      const image = await user.pressData(menu, encodeCallbackData('MAIN_MENU', 'CATEGORY', ['image']));
      const video = await user.pressData(menu, encodeCallbackData('MAIN_MENU', 'CATEGORY', ['video']));

      const both = h.waitForOutcomes(2);
      const responses = await Promise.all([post(image), post(video)]);
      expect(responses.map((r) => r.status)).toEqual([200, 200]);
      const outcomes = await both;

      // The first press moved the chat on; the second was on a screen the chat had left.
      expect(outcomes.map((o) => o.reasonCode).sort()).toEqual(['STATE_MISMATCH', 'SUCCESS']);
      const session = await h.app.store.sessions<SessionData>().read(String(userId));
      const shown = h.standIn.lastMessage(userId)?.text ?? '';
      expect(shown).toContain(
        session?.category === 'image' ? 'Images: choose a model' : 'Video: choose a model',
      );
    } finally {
      await h.stop();
    }
  });

  test('an update that reaches a bot which cannot take it gets a 500, so Telegram delivers it again', async () => {
    const h = await startHarness({
      env: { BOT_MODE: 'webhook', WEBHOOK_SECRET: SECRET, PUBLIC_URL: 'http://127.0.0.1:9' },
    });
    try {
      // A malformed-but-valid-JSON update that grammY itself refuses before any middleware runs.
      const original = h.app.bot.handleUpdate.bind(h.app.bot);
      h.app.bot.handleUpdate = () => Promise.reject(new Error('Bot not initialized!'));
      const response = await fetch(`${h.httpUrl}/telegram/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: 77 }),
      });
      h.app.bot.handleUpdate = original;
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ status: 'rejected', reason: 'INTERNAL_ERROR' });
      expect(h.logLines()).toContainEqual(
        expect.objectContaining({
          event: EVENT.WEBHOOK_REJECTED,
          status: 500,
          reason: 'INTERNAL_ERROR',
          detail: expect.stringMatching(/^\w*Error: /),
        }),
      );
    } finally {
      await h.stop();
    }
  });
});

describe('shutdown', () => {
  test('with Telegram unreachable, stop still closes the HTTP server and the store, and says what failed', async () => {
    const h = await startHarness();
    const user = h.standIn.user({ id: freshUserId(), first_name: 'Ivo', language_code: 'en' });
    await h.act(() => user.sendCommand('/start'));
    await h.standIn.stop();
    // Long polling now fails: the line names the host TELEGRAM_API_ROOT points at and why, never the token.
    const apiHost = new URL(h.standIn.apiRoot).host;
    await vi.waitFor(
      () =>
        expect(h.logLines()).toContainEqual(
          expect.objectContaining({
            event: EVENT.BOTAPI_ERROR,
            error_code: 'network',
            host: apiHost,
            detail: 'ECONNREFUSED',
            msg: expect.stringContaining(apiHost),
          }),
        ),
      { timeout: 10_000 },
    );
    expect(JSON.stringify(h.logLines())).not.toContain(TEST_TOKEN.split(':')[1]);
    await h.app.stop();
    expect(h.app.http.server.listening).toBe(false);
    await expect(h.app.store.ping()).rejects.toThrow();
    const lines = h.logLines();
    expect(lines).toContainEqual(
      expect.objectContaining({ event: EVENT.SHUTDOWN_STEP_FAILED, step: 'confirm handled updates' }),
    );
    expect(lines.at(-1)?.event).toBe(EVENT.APP_STOPPED);
  });

  test('updates handled before a stop are confirmed to Telegram, so the next instance does not repeat them', async () => {
    const h = await startHarness();
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Pia', language_code: 'en' });
      const all = h.waitForOutcomes(3);
      await user.sendCommand('/start');
      await user.sendCommand('/help');
      await user.sendText('hello');
      const first = h.waitForOutcomes(1);
      await first;
      await h.app.stop();
      await all;
      expect(h.outcomes).toHaveLength(3);
      expect(h.standIn.pendingUpdates()).toEqual([]);
    } finally {
      await h.standIn.stop();
    }
  });
});

describe('a draft belongs to one model', () => {
  test('switching models drops the prompt and options the old model accepted', async () => {
    const h = await startHarness();
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Max', language_code: 'en' });
      const live = () => h.standIn.lastMessage(user.id) as Message;
      await h.act(() => user.sendCommand('/start'));
      await h.act(() => user.press(live(), '🖼 Images'));
      await h.act(() => user.press(live(), 'Stable Diffusion XL · 2 cr'));
      await h.act(() => user.press(live(), '⚙️ Set parameters'));
      await h.act(() => user.press(live(), 'Anime'));
      expect((await h.act(() => user.sendText('y'.repeat(900)))).reasonCode).toBe('SUCCESS');
      for (let i = 0; i < 3; i += 1) await h.act(() => user.press(live(), '⬅️ Back'));
      await h.act(() => user.press(live(), '🎵 Audio'));
      await h.act(() => user.press(live(), 'Suno · 10 cr'));
      await h.act(() => user.press(live(), '⚙️ Set parameters'));
      expect(live().text).toContain('Send your prompt as a message (up to 500 characters)');
      const session = await h.app.store.sessions<SessionData>().read(String(user.id));
      expect(session?.options).toEqual({ length: '30' });
      const done = await h.act(() => user.press(live(), '➡️ Continue'));
      expect(done).toMatchObject({ reasonCode: 'VALIDATION_FAILED', detail: 'prompt missing' });
    } finally {
      await h.stop();
    }
  });
});

describe('a Telegram that stops answering', () => {
  test('a Bot API call that never returns is given up on: the user gets an apology, not a spinning button, and the log says no answer came in time, not that Telegram is unreachable', async () => {
    const h = await startHarness({ botApiDeadlineMs: 300 });
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Hal', language_code: 'en' });
      h.standIn.failNext('sendMessage', { kind: 'hang' });
      const started = Date.now();
      const summary = await h.act(() => user.sendCommand('/start'));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(summary).toMatchObject({ reasonCode: 'INTERNAL_ERROR', outcome: 'error' });
      expect(h.standIn.lastMessage(user.id)?.text).toMatch(/went wrong on our side/);
      const failed = h
        .logLines()
        .find(
          (line) =>
            line.trace_id === summary.traceId &&
            line.event === EVENT.BOTAPI_ERROR &&
            line.method === 'sendMessage',
        );
      expect(failed).toMatchObject({ error_code: 'network', detail: 'deadline' });
      expect(failed?.msg).toMatch(
        /^Bot API gave no answer in time at 127\.0\.0\.1:\d+ \(TELEGRAM_API_ROOT\)$/,
      );
    } finally {
      await h.stop();
    }
  });

  test("shutdown finishes while Telegram hangs, instead of waiting out grammY's 500 s", async () => {
    const h = await startHarness({ botApiDeadlineMs: 300 });
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Wes', language_code: 'en' });
      await h.act(() => user.sendText('hello'));
      // From now on Telegram accepts getUpdates and never answers: grammY's own stop() calls it, and so
      // does the confirmation of handled updates.
      h.standIn.failNext('getUpdates', { kind: 'hang' }, 5);
      const started = Date.now();
      await h.app.stop();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(h.app.http.server.listening).toBe(false);
    } finally {
      await h.standIn.stop();
    }
  });
});

describe('two instances with one token', () => {
  test('the instance that is pushed out (409) stops without knocking out the one that took over', async () => {
    const reasons: string[] = [];
    const old = await startHarness({ onFatal: (reason) => reasons.push(reason) });
    let next: Awaited<ReturnType<typeof startHarness>> | undefined;
    try {
      const early = old.standIn.user({ id: freshUserId(), first_name: 'Ola', language_code: 'en' });
      await old.act(() => early.sendCommand('/start'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      next = await startHarness({ standIn: old.standIn });
      const deadline = Date.now() + 10_000;
      while (reasons.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(reasons).toEqual(['polling stopped']);
      await old.app.stop();

      // The new instance is still polling: it answers the next /start.
      const user = old.standIn.user({ id: freshUserId(), first_name: 'Nia', language_code: 'en' });
      const summary = await next.act(() => user.sendCommand('/start'));
      expect(summary.reasonCode).toBe('SUCCESS');
      expect(next.logLines().some((l) => l.event === EVENT.POLLING_STOPPED)).toBe(false);
    } finally {
      await next?.stop();
      await old.standIn.stop();
    }
  });
});

describe('a press Telegram no longer lets us answer', () => {
  test('"query is too old" neither fails the update nor loses the screen the user already sees', async () => {
    const h = await startHarness();
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Lou', language_code: 'en' });
      const live = () => h.standIn.lastMessage(user.id) as Message;
      await h.act(() => user.sendCommand('/start'));
      h.standIn.failNext('answerCallbackQuery', {
        error_code: 400,
        description: 'Bad Request: query is too old and response timeout expired or query ID is invalid',
      });
      const late = await h.act(() => user.press(live(), '🖼 Images'));
      expect(late).toMatchObject({ reasonCode: 'SUCCESS', outcome: 'success' });
      // The session moved on with the screen, so the next press on it works.
      const next = await h.act(() => user.press(live(), 'Flux Pro · 4 cr'));
      expect(next.reasonCode).toBe('SUCCESS');
      expect(
        h.logLines().filter((l) => l.trace_id === late.traceId && l.event === EVENT.ANSWER_CALLBACK_QUERY),
      ).toEqual([]);
    } finally {
      await h.stop();
    }
  });
});
