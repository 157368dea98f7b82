import type { Message } from 'grammy/types';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { SessionData } from '../src/bot/context.js';
import { ATTR, SPAN } from '../src/telemetry/conventions.js';
import { encodeCallbackData } from '../src/ui/callback-data.js';
import { BUTTON, TRANSITIONS } from '../src/ui/registry.js';
import { credit } from './generation/support.js';
import { freshUserId, type Harness, startHarness } from './support/harness.js';
import { SAMPLE_ARGS } from './support/registry-samples.js';
import { TraceView } from './support/telemetry-assertions.js';

/**
 * Walks the UI registry through the running bot: every (screen, button) transition, pressed on the live
 * message of a chat standing on that screen, reaches exactly one handler — the one the registry names —
 * and ends with an outcome.
 */
let h: Harness;
/** /debug's buttons answer admins only (others get FORBIDDEN, tested in test/debug): the walker is one. */
const adminId = freshUserId();
beforeAll(async () => {
  h = await startHarness({ env: { ADMIN_IDS: String(adminId) } });
});
afterAll(() => h.stop());

test.each(TRANSITIONS)(
  '$from / $button reaches exactly its handler and lands on $to',
  async ({ from, button, to }) => {
    const id = BUTTON[button].handler === 'debug' ? adminId : freshUserId();
    const user = h.standIn.user({ id, first_name: 'Walker', language_code: 'en' });
    const started = h.waitForOutcomes(1);
    await user.sendCommand('/start');
    await started;
    const live = h.standIn.lastMessage(user.id) as Message;
    const session: SessionData = {
      screen: from,
      liveMessageId: live.message_id,
      category: 'video',
      model: 'kling',
      options: { duration: '5' },
      prompt: 'a walk through the registry',
    };
    await h.app.store.sessions<SessionData>().write(String(user.id), session);
    // Enough credits that Generate queues a job (its own tests cover a balance too low).
    await credit(h, user.id, 100);

    const summary = await h.act(() =>
      user.pressData(live, encodeCallbackData(from, button, SAMPLE_ARGS[button])),
    );

    const view = TraceView.of(summary.traceId, h.finishedSpans());
    const routed = view.named(SPAN.ROUTED);
    expect(routed).toHaveLength(1);
    expect(routed[0]?.attributes[ATTR.HANDLER]).toBe(BUTTON[button].handler);
    expect(routed[0]?.attributes[ATTR.BUTTON_ID]).toBe(button);
    expect(summary.outcome).not.toBe('silent');
    expect(summary.reasonCode).toBe('SUCCESS');
    expect(summary.screenId).toBe(to);
    expect((await h.app.store.sessions<SessionData>().read(String(user.id)))?.screen).toBe(to);
  },
);
