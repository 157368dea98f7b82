import type { Message } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EVENT } from '../src/telemetry/conventions.js';
import { encodeCallbackData } from '../src/ui/callback-data.js';
import type { SimulatedUser } from '../tools/telegram-stand-in/index.js';
import { freshUserId, type Harness, startHarness } from './support/harness.js';

/**
 * At the default level the spans carry the routine stages; the log keeps an update's last line (which
 * names the update) and every decision that is not a plain success (docs/telemetry.md, "Logs").
 */
describe('log lines per update at LOG_LEVEL=info', () => {
  let h: Harness;
  let user: SimulatedUser;
  const linesOf = (traceId: string) =>
    h.logLines().filter((line) => line.trace_id === traceId) as Array<Record<string, unknown>>;

  beforeAll(async () => {
    h = await startHarness({ env: { LOG_LEVEL: 'info' } });
    user = h.standIn.user({ id: freshUserId(), first_name: 'Lin', language_code: 'en' });
  });
  afterAll(() => h.stop());

  test('a success writes its last line (and its business events), which names the update and the screen', async () => {
    const start = await h.act(() => user.sendCommand('/start'));
    // USER_STARTED is a business event, not a stage: it keeps its line.
    expect(linesOf(start.traceId).map((line) => line.event)).toEqual([EVENT.USER_STARTED, EVENT.DISPATCH_OK]);
    expect(linesOf(start.traceId).at(-1)).toMatchObject({
      level: 'info',
      update_type: 'message',
      update_id: expect.any(Number),
      outcome: 'success',
      reason_code: 'SUCCESS',
      handler: 'menu',
      screen_id: 'MAIN_MENU',
    });

    const press = await h.act(() => user.press(h.standIn.lastMessage(user.id) as Message, '🎬 Video'));
    expect(linesOf(press.traceId).map((line) => line.event)).toEqual([EVENT.DISPATCH_OK]);
    expect(linesOf(press.traceId)[0]).toMatchObject({ update_type: 'callback_query' });
    // The stages are still all in the trace.
    expect(
      h.finishedSpans().filter((span) => span.spanContext().traceId === press.traceId).length,
    ).toBeGreaterThan(4);
  });

  test('a rejection keeps its decision line, with the reason', async () => {
    const [first] = h.standIn.messages(user.id);
    const stale = await h.act(() =>
      user.pressData(first as Message, encodeCallbackData('MAIN_MENU', 'CATEGORY', ['video'])),
    );
    const lines = linesOf(stale.traceId);
    expect(lines.map((line) => line.event)).toEqual([EVENT.CALLBACK_REJECTED, EVENT.DISPATCH_OK]);
    expect(lines[0]).toMatchObject({ level: 'warn', reason_code: 'STATE_MISMATCH' });

    const stray = await h.act(() => user.sendText('hello?'));
    expect(linesOf(stray.traceId).find((line) => line.event === EVENT.MESSAGE_REJECTED)).toMatchObject({
      level: 'info',
      reason_code: 'NOOP',
    });
  });
});
