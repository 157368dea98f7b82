import type { Message } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TELEGRAM_MESSAGE_LIMIT } from '../../src/debug/debug-views.js';
import { SPAN } from '../../src/telemetry/conventions.js';
import { encodeCallbackData } from '../../src/ui/callback-data.js';
import type { SimulatedUser } from '../../tools/telegram-stand-in/index.js';
import { credit, placeOrder, settled } from '../generation/support.js';
import { freshUserId, type Harness, startHarness } from '../support/harness.js';

const adminId = freshUserId();
const buttons = (m: Message | undefined) =>
  (m?.reply_markup?.inline_keyboard ?? []).flat().map((b) => b.text);
const links = (m: Message | undefined) =>
  (m?.entities ?? []).flatMap((e) => (e.type === 'text_link' ? [e.url] : []));

describe('/debug', () => {
  let h: Harness;
  let admin: SimulatedUser;
  let stranger: SimulatedUser;
  let victim: SimulatedUser;
  let failedCid: string;

  beforeAll(async () => {
    h = await startHarness({ env: { ADMIN_IDS: `1,${adminId}`, LOCAL_PROVIDER_DELAY_MS: '50' } });
    admin = h.standIn.user({ id: adminId, first_name: 'Ada', language_code: 'en' });
    stranger = h.standIn.user({ id: freshUserId(), first_name: 'Eve', language_code: 'en' });
    victim = h.standIn.user({ id: freshUserId(), first_name: 'Vic', language_code: 'en' });
    await h.act(() => victim.sendCommand('/start'));
    // A refusal that is not retried (a 5xx would be, and then succeed).
    h.standIn.failNext('editMessageText', {
      error_code: 400,
      description: 'Bad Request: message to edit not found',
    });
    failedCid = (await h.act(() => victim.press(h.standIn.lastMessage(victim.id) as Message, '🖼 Images')))
      .traceId;
  });
  afterAll(() => h.stop());

  test.each(['/debug', '/debug 4bf92f35', `/debug user ${adminId}`, '/debug errors'])(
    'a non-admin sending %s sees exactly the unknown-command reply; the update records FORBIDDEN',
    async (command) => {
      const unknown = await h.act(() => stranger.sendCommand('/frobnicate'));
      const unknownReply = h.standIn.lastMessage(stranger.id);
      const before = h.standIn.messages(stranger.id).length;
      const summary = await h.act(() => stranger.sendCommand(command));
      const replies = h.standIn
        .messages(stranger.id)
        .slice(before)
        .filter((m) => m.from?.is_bot);
      expect(replies.map((m) => [m.text, m.entities, m.reply_markup])).toEqual([
        [unknownReply?.text, unknownReply?.entities, unknownReply?.reply_markup],
      ]);
      expect(unknown).toMatchObject({ reasonCode: 'UNKNOWN_ACTION', outcome: 'rejected' });
      expect(summary).toMatchObject({ reasonCode: 'FORBIDDEN', outcome: 'rejected' });
    },
  );

  test('a forged /debug button from a non-admin is refused as FORBIDDEN with the unknown-button toast', async () => {
    await h.act(() => stranger.sendCommand('/start'));
    const summary = await h.act(() =>
      stranger.pressData(
        h.standIn.lastMessage(stranger.id) as Message,
        encodeCallbackData('DEBUG', 'DEBUG_LIST', ['all']),
      ),
    );
    expect(summary).toMatchObject({ reasonCode: 'FORBIDDEN' });
    const toast = h.standIn.calls.filter((c) => c.method === 'answerCallbackQuery').at(-1)?.params.text;
    expect(toast).toMatch(/not recognised/);
  });

  test('/debug <code>: the chain, the diagnosis and a link that opens the trace page', async () => {
    const before = h.standIn.messages(admin.id).length;
    await h.act(() => admin.sendCommand(`/debug ${failedCid.slice(0, 8)}`));
    const [answer, ...more] = h.standIn
      .messages(admin.id)
      .slice(before)
      .filter((m) => m.from?.is_bot);
    expect(more).toEqual([]);
    const text = answer?.text ?? '';
    expect(text).toContain(`Support code ${failedCid.slice(0, 8)} · cid ${failedCid}`);
    expect(text).toMatch(/outcome error · INTERNAL_ERROR/);
    expect(text).toMatch(/failing stage stage render › botapi editMessageText/);
    expect(text).toMatch(
      /downstream Telegram Bot API editMessageText → 400: Bad Request: message to edit not found/,
    );
    expect(text).toMatch(/user was told "Something went wrong on our side/);
    expect(text).toMatch(/botapi editMessageText/);
    const [page] = links(answer);
    expect(page).toMatch(new RegExp(`/debug/traces/${failedCid}\\?exp=\\d+&sig=`));
    const response = await fetch(page as string);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('INTERNAL_ERROR');
  });

  test('/debug: instance, telemetry, error ratios and the last 10 outcomes; Errors only and an entry open by button', async () => {
    await h.act(() => admin.sendCommand('/debug'));
    const overview = h.standIn.lastMessage(admin.id);
    const text = overview?.text ?? '';
    expect(text).toMatch(/^Instance active · v\d+\.\d+\.\d+ · up \d+ (s|min)/);
    expect(text).toMatch(/Telemetry embedded/);
    expect(text).toMatch(/Errors \(error or silent\) 5 min: 1\/\d+ \(\d+\.\d%\) · 60 min: 1\/\d+/);
    expect(text).toMatch(/Last 10 updates/);
    expect(text).not.toMatch(new RegExp(`${adminId}|Ada|Vic|Eve`));
    expect(buttons(overview).slice(0, 2)).toEqual(['Errors only', '🔄 Refresh']);
    expect(links(overview).length).toBeGreaterThanOrEqual(10);

    await h.act(() => admin.press(overview as Message, 'Errors only'));
    const errors = h.standIn.lastMessage(admin.id);
    expect(errors?.message_id).toBe(overview?.message_id);
    expect(errors?.text).toContain(failedCid.slice(0, 8));
    const entries = (errors?.text ?? '').split('\n').filter((l) => /^\S+ \d\d:\d\d:\d\d /.test(l));
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(entry).toMatch(/INTERNAL_ERROR|FORBIDDEN|UNKNOWN_ACTION/);
    expect(buttons(errors).slice(0, 2)).toEqual(['All updates', '🔄 Refresh']);

    const entryButton = buttons(errors).find((b) => b.startsWith(`🔎 ${failedCid.slice(0, 8)}`));
    await h.act(() => admin.press(errors as Message, entryButton as string));
    expect(h.standIn.lastMessage(admin.id)?.text).toContain(`cid ${failedCid}`);
  });

  test('/debug user <id>: that user’s recent updates by pseudonym, with their codes', async () => {
    await h.act(() => admin.sendCommand(`/debug user ${victim.id}`));
    const text = h.standIn.lastMessage(admin.id)?.text ?? '';
    expect(text).toMatch(
      new RegExp(`^User ${victim.id} appears in telemetry as u_[\\w-]{16}: their last 2 updates`),
    );
    expect(text).toContain(failedCid.slice(0, 8));
  });

  test('/debug <code> of a generation: the later steps under the same cid, the update still the root', async () => {
    const payer = h.standIn.user({ id: freshUserId(), first_name: 'Gen', language_code: 'en' });
    await credit(h, payer.id, 10);
    const { result, cid } = await placeOrder(h, payer);
    if (!result.ok) throw new Error('order refused');
    expect((await settled(h, result.job.id)).state).toBe('delivered');
    // The callback's span (its parent is the stored traceparent: remote) ends last; the update stays the root.
    await expect
      .poll(() =>
        h.finishedSpans().some((s) => s.name === SPAN.PROVIDER_CALLBACK && s.spanContext().traceId === cid),
      )
      .toBe(true);

    await h.act(() => admin.sendCommand(`/debug ${cid.slice(0, 8)}`));
    const text = h.standIn.lastMessage(admin.id)?.text ?? '';
    expect(text).toMatch(/user did pressed GENERATE on CONFIRM/);
    expect(text).toMatch(/outcome success · SUCCESS/);
    const later = text.slice(text.indexOf('Later under the same cid'));
    expect(text.indexOf('Later under the same cid')).toBeGreaterThan(-1);
    for (const step of [
      'process generation',
      SPAN.PROVIDER_SUBMIT,
      SPAN.PROVIDER_CALLBACK,
      SPAN.JOB_DELIVER,
      'botapi sendPhoto',
      'ledger charge',
    ])
      expect(later, step).toContain(step);
  });

  test('a long answer is one message paged with ◀ ▶, each page within 4096 characters, HTML escaped', async () => {
    // Telegram's error description is quoted in the error, the downstream and the chain: a long one,
    // full of markup characters, makes an answer of several pages.
    const description = `Bad Request: can't parse entities: ${Array.from(
      { length: 40 },
      (_, i) => `<tag${i}> & "quoted ${i}"`,
    ).join(' ')}`;
    await h.act(() => victim.sendCommand('/start'));
    h.standIn.failNext('editMessageText', { error_code: 400, description });
    const { traceId: cid } = await h.act(() =>
      victim.press(h.standIn.lastMessage(victim.id) as Message, '🖼 Images'),
    );

    const before = h.standIn.messages(admin.id).length;
    await h.act(() => admin.sendCommand(`/debug ${cid}`));
    const sent = h.standIn
      .messages(admin.id)
      .slice(before)
      .filter((m) => m.from?.is_bot);
    expect(sent).toHaveLength(1);
    const id = sent[0]?.message_id;
    const current = () => h.standIn.messages(admin.id).find((m) => m.message_id === id) as Message;
    const total = Number(/\(1\/(\d+)\)$/.exec(current().text ?? '')?.[1]);
    expect(total).toBeGreaterThan(1);
    expect(buttons(current()).slice(0, 2)).toEqual(['▶', '⬅️ Last updates']);

    const pages = [current().text ?? ''];
    for (let page = 2; page <= total; page += 1) {
      await h.act(() => admin.press(current(), '▶'));
      expect(current().text).toMatch(new RegExp(`\\(${page}/${total}\\)$`));
      pages.push(current().text ?? '');
    }
    // The last page: ◀ only (then the answer's own buttons); ◀ goes back in the same message.
    expect(buttons(current()).slice(0, 2)).toEqual(['◀', '⬅️ Last updates']);
    await h.act(() => admin.press(current(), '◀'));
    expect(current().text).toBe(pages[total - 2]);
    expect(
      h.standIn
        .messages(admin.id)
        .slice(before)
        .filter((m) => m.from?.is_bot),
    ).toHaveLength(1);

    // Each page as sent, HTML entities and all, within Telegram's limit; markup in values escaped.
    const drawn = h.standIn.calls
      .filter((c) => ['sendMessage', 'editMessageText'].includes(c.method) && c.params.chat_id === admin.id)
      .slice(-(total + 1));
    for (const call of drawn) {
      const html = String(call.params.text);
      expect(html.length).toBeLessThanOrEqual(TELEGRAM_MESSAGE_LIMIT);
      expect(html).not.toMatch(/<tag\d/);
      expect(html).toContain('&lt;tag');
    }
    // What the admin reads: the description as Telegram gave it, the whole chain and the links.
    const all = pages.join('\n');
    expect(all).toContain(`cid ${cid}`);
    expect(all).toContain(`downstream Telegram Bot API editMessageText → 400: ${description}`);
    expect(all).toMatch(/failing stage stage render › botapi editMessageText/);
    expect(all).toMatch(/Chain \(\d+ spans/);
    expect(pages.at(-1)).toMatch(/trace page/);
  });

  test('nonsense arguments get the usage, unknown codes a clear answer', async () => {
    const asked = await h.act(() => admin.sendCommand('/debug what'));
    expect(asked).toMatchObject({ reasonCode: 'VALIDATION_FAILED' });
    expect(h.standIn.lastMessage(admin.id)?.text).toMatch(/^Usage: \/debug/);
    await h.act(() => admin.sendCommand('/debug 00000001'));
    expect(h.standIn.lastMessage(admin.id)?.text).toMatch(
      /No such update among the traces this instance keeps/,
    );
  });
});
