import type { Message } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLinkSigner } from '../../src/debug/signed-link.js';
import { traceLinks } from '../../src/debug/trace-links.js';
import { EVENT } from '../../src/telemetry/conventions.js';
import { GRAFANA_DATASOURCE } from '../../src/telemetry/grafana.js';
import { createPseudonymizer } from '../../src/telemetry/pseudonym.js';
import type { SimulatedUser } from '../../tools/telegram-stand-in/index.js';
import {
  freshUserId,
  type Harness,
  startHarness,
  TEST_PSEUDONYM_KEY,
  TEST_TOKEN,
} from '../support/harness.js';

const CID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('signed trace-page links', () => {
  const signer = createLinkSigner('k'.repeat(32), 60);
  const now = Date.UTC(2026, 10, 29, 22, 0, 0);
  const parse = (path: string) => {
    const url = new URL(path, 'http://bot');
    return {
      cid: url.pathname.split('/').at(-1) as string,
      exp: url.searchParams.get('exp') ?? undefined,
      sig: url.searchParams.get('sig') ?? undefined,
    };
  };

  test('a link /debug signed opens its trace until it expires', () => {
    const { cid, exp, sig } = parse(signer.tracePath(CID, now));
    expect(cid).toBe(CID);
    expect(signer.verify(cid, exp, sig, now + 59_000)).toEqual({ ok: true });
    expect(signer.verify(cid, exp, sig, now + 61_000)).toEqual({ ok: false, reason: 'expired' });
  });

  test('another cid, a later expiry, another key or no signature are refused', () => {
    const { exp, sig } = parse(signer.tracePath(CID, now));
    const other = `${CID.slice(0, 31)}0`;
    expect(signer.verify(other, exp, sig, now)).toEqual({ ok: false, reason: 'forged' });
    expect(signer.verify(CID, String(Number(exp) + 3600), sig, now)).toEqual({ ok: false, reason: 'forged' });
    expect(createLinkSigner('x'.repeat(32)).verify(CID, exp, sig, now)).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(signer.verify(CID, exp, undefined, now)).toEqual({ ok: false, reason: 'unsigned' });
    expect(signer.verify(CID, undefined, undefined, now)).toEqual({ ok: false, reason: 'unsigned' });
  });

  test('Grafana links open the trace in Tempo and its logs in Loki through the provisioned datasources', () => {
    const links = traceLinks(CID, {
      grafanaUrl: 'https://grafana.example',
      pageBaseUrl: 'https://bot.example',
      signer,
    });
    expect(links.map((l) => l.label)).toEqual(['trace page', 'Tempo', 'Loki']);
    expect(links[0]?.href).toMatch(new RegExp(`^https://bot\\.example/debug/traces/${CID}\\?exp=\\d+&sig=`));
    const tempo = decodeURIComponent(links[1]?.href ?? '');
    expect(tempo).toContain(GRAFANA_DATASOURCE.TEMPO.uid);
    expect(tempo).toContain(CID);
    const loki = decodeURIComponent(links[2]?.href ?? '');
    expect(loki).toContain(GRAFANA_DATASOURCE.LOKI.uid);
    expect(loki).toContain(`trace_id=\\"${CID}\\"`);
    // No Grafana configured: the bot's own page is still there.
    expect(traceLinks(CID, { pageBaseUrl: 'https://bot.example', signer }).map((l) => l.label)).toEqual([
      'trace page',
    ]);
  });
});

describe('the trace page of a real failure', () => {
  let h: Harness;
  let user: SimulatedUser;
  let cid: string;

  beforeAll(async () => {
    h = await startHarness();
    user = h.standIn.user({
      id: freshUserId(),
      first_name: 'Pagey',
      username: 'pagey_secret',
      language_code: 'en',
    });
    await h.act(() => user.sendCommand('/start'));
    // A refusal Telegram does not ask us to retry (a 5xx would be retried, and succeed).
    h.standIn.failNext('editMessageText', {
      error_code: 400,
      description: 'Bad Request: message to edit not found',
    });
    const summary = await h.act(() => user.press(h.standIn.lastMessage(user.id) as Message, '🖼 Images'));
    // The support code the user was shown.
    cid = /[0-9a-f]{32}/.exec(h.standIn.lastMessage(user.id)?.text ?? '')?.[0] ?? '';
    expect(cid).toBe(summary.traceId);
  });
  afterAll(() => h.stop());

  const get = (path: string) => fetch(`${h.httpUrl}${path}`);

  test('opens from a signed link: waterfall, attributes, status, events and log lines, all on one page', async () => {
    const response = await get(h.app.linkSigner.tracePath(cid));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await response.text();
    for (const text of [
      'update callback_query',
      'stage received',
      'stage render',
      'botapi editMessageText',
      'INTERNAL_ERROR',
      'message to edit not found',
      'exception',
      'tracegram.button_id',
      'CATEGORY',
      EVENT.UPDATE_RECEIVED,
      EVENT.DISPATCH_FAIL,
      createPseudonymizer(TEST_PSEUDONYM_KEY)(user.id),
    ]) {
      expect(html).toContain(text);
    }
    // Bars to scale: the render bar is narrower than the root's full width.
    const widths = [...html.matchAll(/width:([\d.]+)%/g)].map((m) => Number(m[1]));
    expect(Math.max(...widths)).toBeGreaterThan(90);
    expect(Math.min(...widths)).toBeLessThan(Math.max(...widths));
    // Self-contained, and nothing personal.
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    for (const personal of [String(user.id), 'Pagey', 'pagey_secret', TEST_TOKEN])
      expect(html).not.toContain(personal);
  });

  test.each([
    ['unsigned', (path: string) => path.split('?')[0] as string, 'unsigned'],
    ['forged signature', (path: string) => path.replace(/sig=.{4}/, 'sig=AAAA'), 'forged'],
    [
      'longer expiry',
      (path: string) => path.replace(/exp=(\d+)/, (_m, exp: string) => `exp=${Number(exp) + 1}`),
      'forged',
    ],
    [
      'another trace',
      (path: string) =>
        path.replace(/traces\/([0-9a-f])/, (_m, c: string) => `traces/${c === '0' ? '1' : '0'}`),
      'forged',
    ],
  ])('a %s link → 403 and a log line', async (_name, tamper, reason) => {
    const before = h.logLines().length;
    const response = await get(tamper(h.app.linkSigner.tracePath(cid)));
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain('stage render');
    expect(h.logLines().slice(before)).toContainEqual(
      expect.objectContaining({ event: EVENT.DEBUG_LINK_REJECTED, reason, status: 403 }),
    );
  });

  test('an expired link → 403', async () => {
    const path = h.app.linkSigner.tracePath(cid, Date.now() - 2 * 24 * 3600 * 1000);
    const response = await get(path);
    expect(response.status).toBe(403);
    expect(h.logLines().at(-1)).toMatchObject({ event: EVENT.DEBUG_LINK_REJECTED, reason: 'expired' });
  });
});
