import type { Message, Update } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ATTR, SPAN } from '../src/telemetry/conventions.js';
import { MAX_MESSAGE_TEXT } from '../tools/telegram-stand-in/user-sim.js';
import { freshUserId, type Harness, startHarness } from './support/harness.js';
import { assertOutcome, TraceView } from './support/telemetry-assertions.js';

/**
 * What users send that no journey is for, as Telegram delivers it (through the stand-in): each ends with a
 * documented outcome (docs/telemetry.md, "Input the bot does not take") and a sensible reply or none.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.stop());

const NON_TEXT_REPLY = 'I can only read text here. Use the buttons, or send /start for the main menu.';

function newUser(name: string) {
  return h.standIn.user({ id: freshUserId(), first_name: name, language_code: 'en' });
}

function sentTo(chatId: number): number {
  return h.standIn.calls.filter((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === chatId)
    .length;
}

describe('non-text messages in the private chat', () => {
  test.each(['sticker', 'photo', 'voice', 'document'] as const)(
    'a %s gets a hint to use text and the buttons; NOOP with its kind on the span',
    async (kind) => {
      const user = newUser('Mia');
      const summary = await h.act(() => user.sendMedia(kind));
      expect(h.standIn.lastMessage(user.id)?.text).toBe(NON_TEXT_REPLY);
      const view = TraceView.of(summary.traceId, h.finishedSpans());
      assertOutcome(view, 'NOOP', 'noop');
      expect(view.one(SPAN.REJECTED).attributes[ATTR.REASON_DETAIL]).toBe(`${kind} message`);
      expect(view.one(SPAN.RECEIVED).attributes[ATTR.MESSAGE_KIND]).toBe(kind);
    },
  );

  test('a photo while the prompt form waits for text is the same hint, and the form is still there', async () => {
    const user = newUser('Noa');
    await h.act(() => user.sendCommand('/start'));
    await h.act(() => user.press(h.standIn.lastMessage(user.id) as Message, '🖼 Images'));
    await h.act(() => user.press(h.standIn.lastMessage(user.id) as Message, 'Flux Pro · 4 cr'));
    const form = h.standIn.lastMessage(user.id) as Message;
    const summary = await h.act(() => user.sendMedia('photo', 'a cat'));
    expect(summary.reasonCode).toBe('NOOP');
    expect(h.standIn.lastMessage(user.id)?.text).toBe(NON_TEXT_REPLY);
    // The form's message is untouched: pressing its buttons still works.
    const next = await h.act(() => user.press(form, '⬅️ Back'));
    expect(next.reasonCode).toBe('SUCCESS');
  });
});

describe('updates nobody wrote to us', () => {
  test('an edited message is recorded and not answered', async () => {
    const user = newUser('Ola');
    const handled = h.waitForOutcomes(1);
    const { message } = await user.sendText('hello');
    await handled;
    const before = sentTo(user.id);
    const summary = await h.act(() => user.editText(message as Message, 'hello again'));
    expect(summary.updateType).toBe('edited_message');
    const view = TraceView.of(summary.traceId, h.finishedSpans());
    assertOutcome(view, 'NOOP', 'noop');
    expect(view.one(SPAN.REJECTED).attributes[ATTR.REASON_DETAIL]).toBe('edited message');
    expect(sentTo(user.id)).toBe(before);
  });

  test('a user who blocks the bot: my_chat_member is recorded, nothing is sent (it would fail 403)', async () => {
    const user = newUser('Pia');
    await h.act(() => user.sendCommand('/start'));
    const before = sentTo(user.id);
    const blocked = await h.act(() => user.blockBot());
    expect(blocked.updateType).toBe('my_chat_member');
    const view = TraceView.of(blocked.traceId, h.finishedSpans());
    assertOutcome(view, 'NOOP', 'noop');
    expect(view.one(SPAN.REJECTED).attributes[ATTR.REASON_DETAIL]).toBe('user blocked the bot');
    const unblocked = await h.act(() => user.unblockBot());
    expect(unblocked.reasonCode).toBe('NOOP');
    expect(sentTo(user.id)).toBe(before);
    expect(h.standIn.calls.filter((c) => !c.ok && c.errorCode === 403)).toEqual([]);
  });
  test('an update type no journey takes (a reaction) is recorded as NOOP, named by its type, and not answered', async () => {
    const user = newUser('Quin');
    await h.act(() => user.sendCommand('/start'));
    const before = sentTo(user.id);
    const reaction = {
      update_id: 0,
      message_reaction: {
        chat: { id: user.id, type: 'private', first_name: 'Quin' },
        message_id: (h.standIn.lastMessage(user.id) as Message).message_id,
        user: { id: user.id, is_bot: false, first_name: 'Quin' },
        date: Math.floor(Date.now() / 1000),
        old_reaction: [],
        new_reaction: [{ type: 'emoji', emoji: '👍' }],
      },
    } as Update;
    const summary = await h.act(async () => h.standIn.redeliver(reaction));
    expect(summary.updateType).toBe('message_reaction');
    const view = TraceView.of(summary.traceId, h.finishedSpans());
    assertOutcome(view, 'NOOP', 'noop');
    expect(view.root.attributes[ATTR.HANDLER]).toBe('fallback');
    expect(view.one(SPAN.REJECTED).attributes[ATTR.REASON_DETAIL]).toBe(
      'update type not handled: message_reaction',
    );
    expect(sentTo(user.id)).toBe(before);
  });
});

describe('groups', () => {
  test('the bot stays quiet in a group, even for /start, and keeps no session for it', async () => {
    const user = newUser('Rui');
    const group = { id: -freshUserId(), title: 'Friends' };
    for (const text of ['/start', 'hi all']) {
      const summary = await h.act(() => user.sendTextInGroup(group, text));
      const view = TraceView.of(summary.traceId, h.finishedSpans());
      assertOutcome(view, 'NOOP', 'noop');
      expect(view.one(SPAN.REJECTED).attributes[ATTR.REASON_DETAIL]).toBe('not a private chat (group)');
      expect(view.spans.filter((s) => s.attributes['db.collection.name'] === 'sessions')).toEqual([]);
    }
    expect(sentTo(group.id)).toBe(0);
  });
});

describe('the stand-in sends what Telegram clients can send', () => {
  test(`a text longer than ${MAX_MESSAGE_TEXT} characters is refused, as a client splits it`, async () => {
    const user = newUser('Sam');
    await expect(user.sendText('x'.repeat(MAX_MESSAGE_TEXT + 1))).rejects.toThrow(/at most 4096/);
    const summary = await h.act(() => user.sendText('x'.repeat(MAX_MESSAGE_TEXT)));
    expect(summary.reasonCode).toBe('NOOP');
  });
});
