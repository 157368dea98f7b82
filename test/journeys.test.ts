import { SpanKind } from '@opentelemetry/api';
import type { Message } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ATTR, EVENT, SPAN } from '../src/telemetry/conventions.js';
import type { UpdateSummary } from '../src/telemetry/grammy/index.js';
import { createPseudonymizer } from '../src/telemetry/pseudonym.js';
import type { SimulatedUser } from '../tools/telegram-stand-in/index.js';
import { freshUserId, type Harness, startHarness, TEST_PSEUDONYM_KEY } from './support/harness.js';
import { assertOutcome, TraceView } from './support/telemetry-assertions.js';

function buttonTexts(message: Message | undefined): string[] {
  const keyboard = message?.reply_markup?.inline_keyboard ?? [];
  return keyboard.flat().map((button) => button.text);
}

describe.each([
  { store: 'PGlite', postgres: false },
  { store: 'Postgres', postgres: true },
])('the catalogue journey on $store', ({ postgres }) => {
  let h: Harness;
  let alice: SimulatedUser;

  beforeAll(async () => {
    h = await startHarness({ postgres });
    alice = h.standIn.user({
      id: freshUserId(),
      first_name: 'Alice',
      username: 'alice_secret',
      language_code: 'en',
    });
  });
  afterAll(() => h.stop());

  test('/start → category → model → parameters → confirm, with the telemetry of every step', async () => {
    const chat = alice.id;
    const steps: UpdateSummary[] = [];

    steps.push(await h.act(() => alice.sendCommand('/start')));
    const menu = h.standIn.lastMessage(chat);
    expect(menu?.text).toContain('Pick a category');
    expect(buttonTexts(menu)).toEqual([
      '🖼 Images',
      '🎬 Video',
      '🎵 Audio',
      '💰 Balance',
      '🕘 History',
      '❓ Help',
    ]);

    steps.push(await h.act(() => alice.press(menu as Message, '🎬 Video')));
    const models = h.standIn.lastMessage(chat);
    expect(models?.message_id).toBe(menu?.message_id);
    expect(models?.text).toContain('Video: choose a model');
    expect(buttonTexts(models)).toEqual(['Veo Fast · 30 cr', 'Kling · 25 cr', '⬅️ Back', '✖️ Cancel']);

    steps.push(await h.act(() => alice.press(models as Message, 'Veo Fast · 30 cr')));
    const card = h.standIn.lastMessage(chat);
    expect(card?.text).toContain('Veo Fast — 30 credits per generation');

    steps.push(await h.act(() => alice.press(card as Message, '⚙️ Set parameters')));
    const form = h.standIn.lastMessage(chat);
    expect(form?.text).toContain('Send your prompt as a message');
    expect(buttonTexts(form)).toContain('✅ 1:1');

    steps.push(await h.act(() => alice.sendText('a red fox running through snow')));
    const formWithPrompt = h.standIn.lastMessage(chat);
    expect(formWithPrompt?.message_id).not.toBe(form?.message_id);
    expect(formWithPrompt?.text).toContain('Prompt: a red fox running through snow');
    // The old form lost its keyboard, so it cannot be pressed any more.
    expect(
      h.standIn.messages(chat).find((m) => m.message_id === form?.message_id)?.reply_markup,
    ).toBeUndefined();

    steps.push(await h.act(() => alice.press(formWithPrompt as Message, '16:9')));
    expect(buttonTexts(h.standIn.lastMessage(chat))).toContain('✅ 16:9');

    steps.push(await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, '10 s')));
    steps.push(await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, '➡️ Continue')));
    const confirm = h.standIn.lastMessage(chat);
    expect(confirm?.text).toContain('Check your order: Veo Fast, 30 credits.');
    expect(confirm?.text).toContain('Aspect ratio: 16:9');
    expect(confirm?.text).toContain('Duration: 10 s');
    expect(buttonTexts(confirm)).toEqual(['✨ Generate · 30 cr', '💰 Top up', '⬅️ Back', '✖️ Cancel']);

    // Every update succeeded, each in its own trace.
    expect(steps.map((s) => s.reasonCode)).toEqual(Array(8).fill('SUCCESS'));
    expect(new Set(steps.map((s) => s.traceId)).size).toBe(steps.length);
    expect(steps.map((s) => s.screenId)).toEqual([
      'MAIN_MENU',
      'CATEGORY_PICK',
      'MODEL_PICK',
      'PARAMS_FORM',
      'PARAMS_FORM',
      'PARAMS_FORM',
      'PARAMS_FORM',
      'CONFIRM',
    ]);

    const spans = h.finishedSpans();
    for (const step of steps) {
      const view = TraceView.of(step.traceId, spans);
      assertOutcome(view, 'SUCCESS', 'success');
      expect(view.root.kind).toBe(SpanKind.CONSUMER);
      expect(view.root.attributes['messaging.system']).toBe('telegram');
      // The pseudonym `npm run pseudonym -- <id>` and `/debug user <id>` print, keyed with PSEUDONYM_KEY, never the raw id.
      expect(view.root.attributes[ATTR.USER_PSEUDONYM]).toBe(
        createPseudonymizer(TEST_PSEUDONYM_KEY)(alice.id),
      );
      expect(view.stages()).toEqual([SPAN.RECEIVED, SPAN.ROUTED, SPAN.RENDER, SPAN.ACCEPTED]);
      // Store queries are children of the root: the claim of the update, which reads the chat's session
      // in the same statement (one round trip), and the session write.
      const claim = view.one('INSERT processed_updates');
      expect(String(claim.attributes['db.query.text'])).toMatch(
        /RETURNING \(SELECT value FROM sessions WHERE key = \$3\)/,
      );
      const storeSpans = view.spans.filter((s) => s.attributes['db.collection.name'] === 'sessions');
      expect(storeSpans.map((s) => s.name)).toEqual(['INSERT sessions']);
      for (const span of [claim, ...storeSpans]) expect(view.parentOf(span)).toBe(view.root);
      // Bot API calls that draw the screen are CLIENT children of the render stage.
      const render = view.one(SPAN.RENDER);
      const drawing = view.spans.filter((s) => view.parentOf(s) === render);
      expect(drawing.length).toBeGreaterThan(0);
      for (const call of drawing) {
        expect(call.kind).toBe(SpanKind.CLIENT);
        expect(call.name).toMatch(/^botapi (sendMessage|editMessageText|editMessageReplyMarkup)$/);
        expect(call.attributes[ATTR.BOTAPI_OK]).toBe(true);
      }
    }
    // Button presses are answered, in a span of their own under the root.
    const press = TraceView.of(steps[1]?.traceId ?? '', spans);
    expect(press.one(`${SPAN.BOTAPI_PREFIX}answerCallbackQuery`).parentSpanContext?.spanId).toBe(
      press.root.spanContext().spanId,
    );
    expect(press.one(SPAN.ROUTED).attributes).toMatchObject({
      [ATTR.HANDLER]: 'catalogue',
      [ATTR.BUTTON_ID]: 'CATEGORY',
      [ATTR.SCREEN_ID]: 'MAIN_MENU',
    });

    // Every log line written while an update was handled carries that update's trace id.
    const lines = h.logLines();
    for (const step of steps) {
      const own = lines.filter((line) => line.trace_id === step.traceId);
      const events = own.map((line) => line.event);
      expect(events[0]).toBe(EVENT.UPDATE_RECEIVED);
      expect(events.at(-1)).toBe(EVENT.DISPATCH_OK);
      expect(events).toContain(EVENT.UI_RENDER);
      // The closing line names the user by pseudonym, so `grep u_…` finds their updates without Tempo.
      const pseudonym = TraceView.of(step.traceId, spans).root.attributes[ATTR.USER_PSEUDONYM];
      expect(pseudonym).toMatch(/^u_[\w-]{16}$/);
      expect(own.at(-1)?.user_pseudonym).toBe(pseudonym);
      for (const line of own) expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
    }
    const inUpdate = lines.filter((line) =>
      [EVENT.UPDATE_RECEIVED, EVENT.CALLBACK_RECEIVED, EVENT.UI_RENDER, EVENT.DISPATCH_OK].includes(
        line.event as never,
      ),
    );
    for (const line of inUpdate) expect(line.trace_id, JSON.stringify(line)).toMatch(/^[0-9a-f]{32}$/);
  });

  test('Back and Cancel walk the registry transitions', async () => {
    const chat = alice.id;
    await h.act(() => alice.sendCommand('/start'));
    await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, '🖼 Images'));
    await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, 'Flux Pro · 4 cr'));
    await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, '⬅️ Back'));
    expect(h.standIn.lastMessage(chat)?.text).toContain('Images: choose a model');
    await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, '⬅️ Back'));
    expect(h.standIn.lastMessage(chat)?.text).toContain('Pick a category');
    await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, '❓ Help'));
    expect(h.standIn.lastMessage(chat)?.text).toContain('/start — main menu');
    await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, '⬅️ Back'));
    await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, '💰 Balance'));
    expect(h.standIn.lastMessage(chat)?.text).toContain('Balance: 0 credits');

    await h.act(() => alice.sendCommand('/start'));
    await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, '🎵 Audio'));
    await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, 'Suno · 10 cr'));
    await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, '⚙️ Set parameters'));
    await h.act(() => alice.sendText('lofi beat'));
    const cancelled = await h.act(() => alice.press(h.standIn.lastMessage(chat) as Message, '✖️ Cancel'));
    expect(cancelled.reasonCode).toBe('SUCCESS');
    expect(h.standIn.lastMessage(chat)?.text).toContain('Pick a category');
  });

  test('a Russian-speaking user gets Russian replies', async () => {
    const boris = h.standIn.user({ id: freshUserId(), first_name: 'Борис', language_code: 'ru' });
    await h.act(() => boris.sendCommand('/start'));
    const menu = h.standIn.lastMessage(boris.id);
    expect(menu?.text).toBe('Что создадим? Выберите категорию.');
    expect(buttonTexts(menu)).toContain('🖼 Картинки');
    const stale = await h.act(() => boris.pressData(menu as Message, '1.zz.forged'));
    expect(stale.reasonCode).toBe('UNKNOWN_ACTION');
    const answer = h.standIn.calls.filter((c) => c.method === 'answerCallbackQuery').at(-1);
    expect(answer?.params.text).toBe('Кнопка не распознана. Отправьте /start для нового меню.');

    // Prices agree with their numbers: 4 кредита, 25 кредитов; units are Russian too.
    await h.act(() => boris.press(menu as Message, '🖼 Картинки'));
    await h.act(() => boris.press(h.standIn.lastMessage(boris.id) as Message, 'Flux Pro · 4 кр'));
    expect(h.standIn.lastMessage(boris.id)?.text).toContain('Flux Pro — 4 кредита за генерацию.');
    await h.act(() => boris.sendCommand('/start'));
    await h.act(() => boris.press(h.standIn.lastMessage(boris.id) as Message, '🎬 Видео'));
    await h.act(() => boris.press(h.standIn.lastMessage(boris.id) as Message, 'Kling · 25 кр'));
    expect(h.standIn.lastMessage(boris.id)?.text).toContain('Kling — 25 кредитов за генерацию.');
    await h.act(() => boris.press(h.standIn.lastMessage(boris.id) as Message, '⚙️ Параметры'));
    expect(buttonTexts(h.standIn.lastMessage(boris.id))).toContain('✅ 5 с');
  });
});
