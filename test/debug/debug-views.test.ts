import { expect, test } from 'vitest';
import { chainBlocks, paginate, TELEGRAM_MESSAGE_LIMIT } from '../../src/debug/debug-views.js';
import type { Diagnosis } from '../../src/debug/diagnosis.js';

const diagnosis: Diagnosis = {
  cid: '4bf92f3577b34da6a3ce929d0e0e4736',
  startedAt: new Date(Date.UTC(2026, 10, 29, 22, 0, 0)),
  durationMs: 48,
  updateType: 'callback_query',
  userPseudonym: 'u_abcdefghijklmnop',
  whatUserDid: 'pressed <b>CATEGORY</b> & more',
  outcome: 'error',
  reasonCode: 'INTERNAL_ERROR',
  reasonDetail: 'GrammyError',
  handler: 'catalogue',
  failingStage: 'stage render › botapi editMessageText',
  errorType: 'GrammyError',
  errorMessage: "Call to 'editMessageText' failed! (400: Bad Request: can't parse <entities>)",
  downstream: 'Telegram Bot API editMessageText → 400',
  toldUser: '"Something went wrong" via answerCallbackQuery ✓',
  chain: Array.from({ length: 300 }, (_, i) => ({
    offsetMs: i,
    durationMs: 0.5,
    depth: i % 2,
    name: `SELECT <sessions> ${i}`,
    result: 'ok',
    failed: false,
  })),
  laterSteps: [],
  nextStep: 'file it',
  failed: true,
};

test('a long chain is split into pages that each fit one Telegram message, nothing lost, HTML escaped', () => {
  const blocks = chainBlocks(diagnosis, [
    { label: 'trace page', href: 'https://bot.example/debug/traces/x?exp=1&sig=a' },
  ]);
  const pages = paginate(blocks);
  expect(pages.length).toBeGreaterThan(1);
  for (const page of pages) expect(page.length).toBeLessThanOrEqual(TELEGRAM_MESSAGE_LIMIT);
  expect(pages[0]).toMatch(/\(1\/\d+\)<\/i>$/);
  const all = pages.join('\n');
  for (let i = 0; i < 300; i += 1) expect(all).toContain(`SELECT &lt;sessions&gt; ${i}</code>`);
  expect(all).toContain('pressed &lt;b&gt;CATEGORY&lt;/b&gt; &amp; more');
  expect(all).toContain('&lt;entities&gt;');
  expect(all).not.toContain('<entities>');
  // Only the tags Telegram accepts, each closed on its page.
  for (const page of pages) {
    const tags = [...page.matchAll(/<\/?([a-z]+)[^>]*>/g)].map((m) => m[1]);
    expect(
      new Set(tags).size === 0 ||
        [...new Set(tags)].every((t) => ['b', 'i', 'code', 'a'].includes(t as string)),
    ).toBe(true);
    for (const tag of ['b', 'i', 'code', 'a']) {
      expect(page.split(`<${tag}`).length).toBe(page.split(`</${tag}>`).length);
    }
  }
});

test('a single block longer than a message is cut without breaking a tag or an entity', () => {
  const pages = paginate([`<b>x</b> <code>${'&amp;'.repeat(2000)}</code>`]);
  expect(pages).toHaveLength(1);
  expect(pages[0]?.length).toBeLessThanOrEqual(TELEGRAM_MESSAGE_LIMIT);
  expect(pages[0]).not.toMatch(/<|&[a-z]*…$/);
});
