import type { Message } from 'grammy/types';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { SessionData } from '../src/bot/context.js';
import { jobIdOfRef } from '../src/generation/job-ref.js';
import { jobStore } from '../src/generation/job-store.js';
import { ATTR, SPAN } from '../src/telemetry/conventions.js';
import { encodeCallbackData } from '../src/ui/callback-data.js';
import { BUTTON, DETACHED_SCREENS, TRANSITIONS } from '../src/ui/registry.js';
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
    // A job button opens a job of this user's: a failed one for History (its explanation), a delivered one
    // to Repeat.
    const ref = BUTTON[button].args.includes('job' as never) ? SAMPLE_ARGS[button][0] : undefined;
    if (ref) await pastJob(user.id, ref, button === 'REPEAT' ? 'delivered' : 'failed');

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
    // A detached screen is drawn beside the journey: the chat stays where it was.
    const chatScreen = DETACHED_SCREENS.has(to) ? from : to;
    expect((await h.app.store.sessions<SessionData>().read(String(user.id)))?.screen).toBe(chatScreen);
  },
);

/** A finished job of `userId` with the id a job ref names, as Generate and the provider would leave it. */
async function pastJob(userId: number, ref: string, state: 'delivered' | 'failed'): Promise<void> {
  const id = jobIdOfRef(ref) as string;
  await h.app.store.db.transaction(async (tx) => {
    const created = await jobStore.create(tx, {
      id,
      userId,
      chatId: userId,
      model: 'kling',
      input: { prompt: 'a walk through the registry', options: { duration: '5' } },
      price: 5,
      locale: 'en',
      traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`,
      cid: '1'.repeat(32),
      deadlineAt: new Date(Date.now() + 60_000),
    });
    expect(created).toBe(true);
    await tx.query(
      `UPDATE jobs SET state = $2, reason_code = $3 WHERE id = $1`,
      [id, state, state === 'delivered' ? 'SUCCESS' : 'PROVIDER_ERROR'],
      { operation: 'UPDATE', table: 'jobs' },
    );
  });
}
