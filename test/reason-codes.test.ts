import { SpanStatusCode } from '@opentelemetry/api';
import { Composer } from 'grammy';
import type { Message } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBot, FEATURES } from '../src/bot/bot.js';
import type { BotContext } from '../src/bot/context.js';
import { openStore } from '../src/store/index.js';
import { ATTR, EVENT, LABEL, SPAN } from '../src/telemetry/conventions.js';
import type { UpdateSummary } from '../src/telemetry/grammy/index.js';
import { createLogger } from '../src/telemetry/logger.js';
import type { REASON_CODES } from '../src/telemetry/reason-codes.js';
import { encodeCallbackData } from '../src/ui/callback-data.js';
import type { SimulatedUser } from '../tools/telegram-stand-in/index.js';
import { startBotApiStandIn } from '../tools/telegram-stand-in/index.js';
import { storeBotDeps } from './support/bot-deps.js';
import { freshUserId, type Harness, startHarness, TEST_TOKEN, testTelemetry } from './support/harness.js';
import { assertOutcome, TraceView } from './support/telemetry-assertions.js';

/** The reply a user got for the update: the callback answer's text, or the last message the bot sent. */
function lastAnswerText(h: Harness): string | undefined {
  return h.standIn.calls.filter((c) => c.method === 'answerCallbackQuery').at(-1)?.params.text as
    | string
    | undefined;
}

const live = (h: Harness, user: SimulatedUser) => h.standIn.lastMessage(user.id) as Message;

describe('every reason code this milestone can produce', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());

  /** A fresh user standing on the parameters form of Flux Pro. */
  async function userOnForm(): Promise<SimulatedUser> {
    const user = h.standIn.user({ id: freshUserId(), first_name: 'Tess', language_code: 'en' });
    await h.act(() => user.sendCommand('/start'));
    await h.act(() => user.press(live(h, user), '🖼 Images'));
    await h.act(() => user.press(live(h, user), 'Flux Pro · 4 cr'));
    await h.act(() => user.press(live(h, user), '⚙️ Set parameters'));
    return user;
  }

  type Case = {
    name: string;
    code: keyof typeof REASON_CODES;
    outcome: string;
    detail: string;
    reply: RegExp;
    via: 'answer' | 'message';
    /** Steps before the update under test, each waited for. */
    prepare?: Array<(user: SimulatedUser) => Promise<unknown>>;
    run: (user: SimulatedUser) => Promise<unknown>;
  };

  const cases: Case[] = [
    {
      name: 'a button from a message that is no longer the live one',
      code: 'STATE_MISMATCH',
      outcome: 'rejected',
      detail: 'button on a message that is not the live one',
      reply: /outdated/,
      via: 'answer',
      prepare: [(user) => user.sendCommand('/start')],
      run: (user) => {
        const [old] = h.standIn.messages(user.id);
        return user.pressData(old as Message, encodeCallbackData('MAIN_MENU', 'CATEGORY', ['video']));
      },
    },
    {
      name: 'a button of a screen the user has left, on the live message',
      code: 'STATE_MISMATCH',
      outcome: 'rejected',
      detail: 'button of CATEGORY_PICK, chat is on PARAMS_FORM',
      reply: /outdated/,
      via: 'answer',
      run: (user) => user.pressData(live(h, user), encodeCallbackData('CATEGORY_PICK', 'MODEL', ['sdxl'])),
    },
    {
      name: 'forged callback data',
      code: 'UNKNOWN_ACTION',
      outcome: 'rejected',
      detail: 'unknown screen code',
      reply: /not recognised/,
      via: 'answer',
      run: (user) => user.pressData(live(h, user), '1.zz.drop table'),
    },
    {
      name: 'a well-formed button naming a model that does not exist',
      code: 'UNKNOWN_ACTION',
      outcome: 'rejected',
      detail: 'unknown model for this category',
      reply: /not recognised/,
      via: 'answer',
      prepare: [(user) => user.press(live(h, user), '⬅️ Back'), (user) => user.press(live(h, user), '⬅️ Back')],
      run: (user) =>
        user.pressData(live(h, user), encodeCallbackData('CATEGORY_PICK', 'MODEL', ['no-such-model'])),
    },
    {
      name: 'a button on a message older than 48 hours',
      code: 'EXPIRED_MESSAGE',
      outcome: 'rejected',
      detail: 'message older than 48 h',
      reply: /too old/,
      via: 'answer',
      run: async (user) => {
        const message = live(h, user);
        h.standIn.setMessageDate(user.id, message.message_id, Math.floor(Date.now() / 1000) - 49 * 3600);
        return user.press(h.standIn.lastMessage(user.id) as Message, '⬅️ Back');
      },
    },
    {
      name: 'a prompt longer than the model allows',
      code: 'VALIDATION_FAILED',
      outcome: 'rejected',
      detail: 'prompt too long',
      reply: /too long: 1,000 characters/,
      via: 'message',
      run: (user) => user.sendText('x'.repeat(1001)),
    },
    {
      name: 'Continue before any prompt',
      code: 'VALIDATION_FAILED',
      outcome: 'rejected',
      detail: 'prompt missing',
      reply: /Send a prompt first/,
      via: 'answer',
      run: (user) => user.press(live(h, user), '➡️ Continue'),
    },
    {
      name: 'an option value the model does not offer',
      code: 'VALIDATION_FAILED',
      outcome: 'rejected',
      detail: 'option not offered by this model',
      reply: /not valid/,
      via: 'answer',
      run: (user) =>
        user.pressData(live(h, user), encodeCallbackData('PARAMS_FORM', 'OPTION', ['aspect', '4x3'])),
    },
    {
      name: 'Cancel on an empty form',
      code: 'NOOP',
      outcome: 'noop',
      detail: 'cancel on an empty form',
      reply: /Nothing to cancel/,
      via: 'answer',
      run: (user) => user.press(live(h, user), '✖️ Cancel'),
    },
    {
      name: 'the option that is already selected',
      code: 'NOOP',
      outcome: 'noop',
      detail: 'option already selected',
      reply: /Already selected/,
      via: 'answer',
      run: (user) => user.press(live(h, user), '✅ 1:1'),
    },
    {
      name: 'an unknown command',
      code: 'UNKNOWN_ACTION',
      outcome: 'rejected',
      detail: 'unknown command',
      reply: /don't know that command/,
      via: 'message',
      run: (user) => user.sendCommand('/frobnicate'),
    },
    {
      name: 'a Bot API failure inside a handler',
      code: 'INTERNAL_ERROR',
      outcome: 'error',
      detail: 'GrammyError',
      reply: /went wrong on our side.*code: [0-9a-f]{32}/,
      via: 'answer',
      run: (user) => {
        // Not a 5xx: those are retried now, and the retry succeeds.
        h.standIn.failNext('editMessageText', {
          error_code: 400,
          description: 'Bad Request: message to edit not found',
        });
        return user.press(live(h, user), '16:9');
      },
    },
  ];

  test.each(cases)('$name → $code', async ({ code, outcome, detail, reply, via, prepare = [], run }) => {
    const user = await userOnForm();
    for (const step of prepare) await h.act(() => step(user));
    const summary = await h.act(() => run(user));
    expect(summary).toMatchObject({ reasonCode: code, outcome, detail });

    const view = TraceView.of(summary.traceId, h.finishedSpans());
    assertOutcome(view, code, outcome);
    expect(view.one(SPAN.REJECTED).attributes[ATTR.REASON_DETAIL]).toBe(detail);
    if (outcome === 'error') {
      expect(view.root.events.map((e) => e.name)).toContain('exception');
      expect(view.root.attributes['error.type']).toBeTruthy();
    }

    const text = via === 'answer' ? lastAnswerText(h) : h.standIn.lastMessage(user.id)?.text;
    expect(text).toMatch(reply);
    // The update's log lines: one decision line naming the reason, and exactly one closing line.
    const own = h.logLines().filter((l) => l.trace_id === summary.traceId);
    const decision = own.filter((l) => /_REJECTED$/.test(String(l.event)));
    expect(decision).toEqual([expect.objectContaining({ reason_code: code, reason_detail: detail })]);
    const closing = own.filter((l) => String(l.event).startsWith('DISPATCH_'));
    expect(closing).toEqual([
      expect.objectContaining({
        event: outcome === 'error' ? 'DISPATCH_FAIL' : 'DISPATCH_OK',
        reason_code: code,
      }),
    ]);
  });

  test('every callback query is answered, accepted or not', () => {
    const queries = h.standIn.calls.length;
    expect(queries).toBeGreaterThan(0);
    const pressedIds = new Set(
      h.outcomes.filter((o) => o.updateType === 'callback_query').map((o) => o.traceId),
    );
    const answers = h.standIn.calls.filter((c) => c.method === 'answerCallbackQuery' && c.ok);
    expect(answers.length).toBe(pressedIds.size);
  });
});

describe('failures outside the handlers', () => {
  test('a dead store → DB_ERROR, a polite reply, /readyz 503, and the bot keeps running', async () => {
    const h = await startHarness();
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Dora', language_code: 'en' });
      await h.act(() => user.sendCommand('/start'));
      expect((await fetch(`${h.httpUrl}/readyz`)).status).toBe(200);

      await h.app.store.close();
      const summary = await h.act(() => user.sendCommand('/start'));
      expect(summary).toMatchObject({ reasonCode: 'DB_ERROR', outcome: 'error' });
      expect(h.standIn.lastMessage(user.id)?.text).toBe(
        `We could not save your progress, please try again in a moment. Support code: ${summary.traceId}`,
      );

      // The support code is sent so that one tap copies it.
      const apology = h.standIn.calls.filter((c) => c.method === 'sendMessage').at(-1);
      expect(apology?.params.parse_mode).toBe('HTML');
      expect(apology?.params.text).toContain(`<code>${summary.traceId}</code>`);

      const view = TraceView.of(summary.traceId, h.finishedSpans());
      assertOutcome(view, 'DB_ERROR', 'error');
      expect(view.root.attributes['error.type']).toBe('StoreError');
      // The first query of an update claims its id (deduplication); with the store gone, that one fails.
      const failedQuery = view.spans.find((s) => s.name === 'INSERT processed_updates');
      expect(failedQuery?.status.code).toBe(SpanStatusCode.ERROR);
      expect(h.logLines().some((l) => l.trace_id === summary.traceId && l.event === EVENT.STORE_ERROR)).toBe(
        true,
      );

      const ready = await fetch(`${h.httpUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'unavailable', reason: 'DB_ERROR' });
    } finally {
      await h.stop();
    }
  });

  test('a Bot API network error while replying → INTERNAL_ERROR with a network CLIENT span', async () => {
    const h = await startHarness();
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Nat', language_code: 'en' });
      h.standIn.failNext('sendMessage', { kind: 'network' });
      const summary = await h.act(() => user.sendCommand('/start'));
      expect(summary).toMatchObject({ reasonCode: 'INTERNAL_ERROR', outcome: 'error', detail: 'HttpError' });
      const view = TraceView.of(summary.traceId, h.finishedSpans());
      const calls = view.named(`${SPAN.BOTAPI_PREFIX}sendMessage`);
      expect(calls[0]?.attributes[ATTR.BOTAPI_ERROR_CODE]).toBe('network');
      expect(calls[0]?.status.code).toBe(SpanStatusCode.ERROR);
      // The error boundary's apology went out on the retry path.
      expect(h.standIn.lastMessage(user.id)?.text).toMatch(/went wrong on our side/);
    } finally {
      await h.stop();
    }
  });

  test('a 429 from the Bot API is recorded with its retry_after', async () => {
    const h = await startHarness();
    try {
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Rae', language_code: 'en' });
      h.standIn.failNext('sendMessage', {
        error_code: 429,
        description: 'Too Many Requests: retry after 1',
        retry_after: 1,
      });
      const summary = await h.act(() => user.sendCommand('/help'));
      const view = TraceView.of(summary.traceId, h.finishedSpans());
      const limited = view.named(`${SPAN.BOTAPI_PREFIX}sendMessage`)[0];
      expect(limited?.attributes).toMatchObject({
        [ATTR.BOTAPI_OK]: false,
        [ATTR.BOTAPI_ERROR_CODE]: '429',
        [ATTR.BOTAPI_RETRY_AFTER]: 1,
      });
      const metrics = await (await fetch(`${h.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(`tracegram_botapi_calls_total\\{[^}]*${LABEL.ERROR_CODE}="429"[^}]*\\} 1`),
      );
    } finally {
      await h.stop();
    }
  });
});

/** The real bot with one extra composer in front of the journeys, fed updates directly. */
async function botWith(extra: Composer<BotContext>) {
  const { telemetry, spans } = testTelemetry();
  const standIn = await startBotApiStandIn({ token: TEST_TOKEN });
  const store = await openStore({ dataDir: 'memory://' });
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (l: string) => void lines.push(JSON.parse(l)) },
  });
  const summaries: UpdateSummary[] = [];
  const bot = createBot(
    {
      token: TEST_TOKEN,
      apiRoot: standIn.apiRoot,
      ...storeBotDeps(store),
      telemetry: {
        logger,
        metrics: telemetry.metrics,
        pseudonymize: () => 'u_test',
        hooks: { onUpdateEnd: (s) => summaries.push(s) },
      },
    },
    [extra, ...FEATURES],
  );
  await bot.init();
  const user = standIn.user({ id: freshUserId(), first_name: 'Sid' });
  return {
    telemetry,
    lines,
    /** Sends a command through the bot and returns the finished update's summary and trace. */
    async command(text: string) {
      await bot.handleUpdate(await user.sendCommand(text));
      const summary = summaries.at(-1) as UpdateSummary;
      return { summary, view: TraceView.of(summary.traceId, spans.getFinishedSpans()) };
    },
    async close() {
      await store.close();
      await standIn.stop();
    },
  };
}

describe('no silent failures', () => {
  test('a handler that records no outcome is reported as SILENT_UPDATE, counted and marked failed', async () => {
    const forgetful = new Composer<BotContext>();
    forgetful.command('forgetful', (ctx) => ctx.reply('I did something but told nobody'));
    const b = await botWith(forgetful);
    try {
      const { summary, view } = await b.command('/forgetful');
      expect(summary).toMatchObject({ outcome: 'silent', reasonCode: 'NONE' });
      expect(view.root.attributes[ATTR.SILENT]).toBe(true);
      expect(view.root.attributes[ATTR.OUTCOME]).toBe('silent');
      expect(view.root.status.code).toBe(SpanStatusCode.ERROR);
      expect(b.lines.find((l) => l.event === EVENT.SILENT_UPDATE)).toMatchObject({
        level: 'error',
        trace_id: summary.traceId,
      });
      const metrics = await b.telemetry.exposition.render();
      expect(metrics).toMatch(/tracegram_silent_updates_total\{[^}]*update_type="message"[^}]*\} 1/);
    } finally {
      await b.close();
    }
  });

  test('an error that escapes the error boundary is the update failure, logged once inside its trace', async () => {
    const explosive = new Composer<BotContext>();
    explosive.command('explode', (ctx) => {
      // The boundary's own apology fails too (its translation throws), so the error escapes the boundary.
      ctx.t = () => {
        throw new Error('translations unavailable');
      };
      throw new Error('boom');
    });
    const b = await botWith(explosive);
    try {
      const { summary, view } = await b.command('/explode');
      expect(summary).toMatchObject({ reasonCode: 'INTERNAL_ERROR', outcome: 'error' });
      expect(view.root.status.code).toBe(SpanStatusCode.ERROR);
      const failures = b.lines.filter((l) => l.event === EVENT.DISPATCH_FAIL);
      expect(failures).toEqual([expect.objectContaining({ trace_id: summary.traceId })]);
    } finally {
      await b.close();
    }
  });

  test('a handler that decides twice is reported as DUPLICATE_OUTCOME; its first decision stands', async () => {
    const indecisive = new Composer<BotContext>();
    indecisive.command('indecisive', async (ctx) => {
      ctx.telemetry.routed('indecisive');
      ctx.telemetry.reject('VALIDATION_FAILED', 'first thought');
      ctx.telemetry.accept(); // the missing `return` this report exists to catch
    });
    const b = await botWith(indecisive);
    try {
      const { summary, view } = await b.command('/indecisive');
      expect(summary).toMatchObject({ reasonCode: 'VALIDATION_FAILED', outcome: 'rejected' });
      expect(view.root.attributes[ATTR.DECISIONS]).toBe(2);
      expect(b.lines.find((l) => l.event === EVENT.DUPLICATE_OUTCOME)).toMatchObject({
        level: 'error',
        trace_id: summary.traceId,
        decisions: 2,
      });
    } finally {
      await b.close();
    }
  });
});
