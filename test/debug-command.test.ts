import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEBUG_USAGE } from '../src/bot/features/debug.js';
import { ATTR } from '../src/telemetry/conventions.js';
import { createPseudonymizer } from '../src/telemetry/pseudonym.js';
import {
  freshUserId,
  type Harness,
  startHarness,
  TEST_PSEUDONYM_KEY,
  TEST_TOKEN,
} from './support/harness.js';
import { assertOutcome, TraceView } from './support/telemetry-assertions.js';

/**
 * `/debug user <telegram id>`: an admin resolves a user to the pseudonym telemetry carries, inside the bot,
 * without the key or the token; anyone else cannot tell /debug from a command that does not exist.
 */
const ADMIN = freshUserId();
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ env: { ADMIN_IDS: String(ADMIN) } });
});
afterAll(() => h.stop());

describe('/debug user', () => {
  test("an admin gets the user's pseudonym and their recent updates with support codes", async () => {
    const customer = h.standIn.user({ id: freshUserId(), first_name: 'Cleo', language_code: 'en' });
    const start = await h.act(() => customer.sendCommand('/start'));
    const stray = await h.act(() => customer.sendCommand('/nonsense'));

    const admin = h.standIn.user({ id: ADMIN, first_name: 'Ada', language_code: 'en' });
    const asked = await h.act(() => admin.sendCommand(`/debug user ${customer.id}`));
    const answer = h.standIn.lastMessage(admin.id)?.text ?? '';

    const pseudonym = createPseudonymizer(TEST_PSEUDONYM_KEY)(customer.id);
    expect(answer).toContain(pseudonym);
    expect(answer).not.toContain(createPseudonymizer(TEST_TOKEN)(customer.id));
    // Newest first, each with what it was and the code the user would quote.
    expect(answer.indexOf(stray.traceId.slice(0, 8))).toBeGreaterThan(-1);
    expect(answer.indexOf(stray.traceId.slice(0, 8))).toBeLessThan(answer.indexOf(start.traceId.slice(0, 8)));
    expect(answer).toMatch(/message MAIN_MENU SUCCESS/);
    expect(answer).toMatch(/message fallback UNKNOWN_ACTION/);

    const view = TraceView.of(asked.traceId, h.finishedSpans());
    assertOutcome(view, 'SUCCESS', 'success');
    expect(view.root.attributes[ATTR.HANDLER]).toBe('debug');
    // The admin's question carries the user's id; no log line or span does.
    const logged = JSON.stringify(h.logLines().filter((l) => l.trace_id === asked.traceId));
    expect(logged).not.toContain(String(customer.id));
    expect(JSON.stringify(view.spans.map((s) => s.attributes))).not.toContain(String(customer.id));
  });

  test('an admin who asks something else is told the usage', async () => {
    const admin = h.standIn.user({ id: ADMIN, first_name: 'Ada', language_code: 'en' });
    const asked = await h.act(() => admin.sendCommand('/debug user not-a-number'));
    expect(h.standIn.lastMessage(admin.id)?.text).toBe(DEBUG_USAGE);
    assertOutcome(TraceView.of(asked.traceId, h.finishedSpans()), 'VALIDATION_FAILED', 'rejected');
  });

  test('anyone else gets exactly what an unknown command gets, and the span says FORBIDDEN', async () => {
    const stranger = h.standIn.user({ id: freshUserId(), first_name: 'Eve', language_code: 'en' });
    await h.act(() => stranger.sendCommand('/nosuchcommand'));
    const unknownReply = h.standIn.lastMessage(stranger.id)?.text;

    const asked = await h.act(() => stranger.sendCommand(`/debug user ${ADMIN}`));
    expect(h.standIn.lastMessage(stranger.id)?.text).toBe(unknownReply);
    const view = TraceView.of(asked.traceId, h.finishedSpans());
    assertOutcome(view, 'FORBIDDEN', 'rejected');
    expect(asked.reasonCode).toBe('FORBIDDEN');
  });
});
