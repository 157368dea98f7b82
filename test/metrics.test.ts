import type { Message } from 'grammy/types';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HANDLER_NAMES } from '../src/bot/bot.js';
import { METRIC, METRIC_LABELS } from '../src/telemetry/conventions.js';
import { ALL_REASON_CODES } from '../src/telemetry/reason-codes.js';
import { SCREEN } from '../src/ui/registry.js';
import { oneGeneration } from './generation/support.js';
import { freshUserId, type Harness, startHarness } from './support/harness.js';

let h: Harness;
let before: string;

beforeAll(async () => {
  h = await startHarness({ env: { LOCAL_PROVIDER_DELAY_MS: '10' } });
  before = await scrape();
});
afterAll(() => h.stop());

async function scrape(): Promise<string> {
  return (await fetch(`${h.metricsUrl}/metrics`)).text();
}

/** `name{a="1",b="2"} value` lines of one metric family, as label maps. */
function series(text: string, name: string): Array<Record<string, string>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])));
}

test('counters exist at 0 before their first event, so increase() sees the first one', () => {
  for (const screen of Object.values(SCREEN)) {
    expect(before).toContain(`tracegram_screen_views_total{screen_id="${screen}"} 0`);
  }
  for (const handler of HANDLER_NAMES) {
    expect(before).toContain(
      `tracegram_silent_updates_total{update_type="callback_query",handler="${handler}"} 0`,
    );
  }
  for (const code of ALL_REASON_CODES) {
    expect(before).toMatch(
      new RegExp(
        `tracegram_updates_total\\{update_type="message",handler="menu",outcome="\\w+",reason_code="${code}"\\} 0`,
      ),
    );
  }
  expect(before).toContain('tracegram_log_dropped_lines_total 0');
});

test('every series of every metric carries exactly the labels the conventions declare', async () => {
  const user = h.standIn.user({ id: freshUserId(), first_name: 'Lena', language_code: 'en' });
  await h.act(() => user.sendCommand('/start'));
  await h.act(() => user.press(h.standIn.lastMessage(user.id) as Message, '🖼 Images'));
  await h.act(() => user.pressData(h.standIn.lastMessage(user.id) as Message, 'forged'));
  expect((await oneGeneration(h, user)).state).toBe('delivered');
  const text = await scrape();
  for (const [key, metric] of Object.entries(METRIC)) {
    const declared = [...METRIC_LABELS[key as keyof typeof METRIC]].sort();
    const histogram = text.includes(`# TYPE ${metric.promName} histogram`);
    const family = histogram ? `${metric.promName}_count` : metric.promName;
    const found = series(text, family);
    expect(found.length, `${family} has series`).toBeGreaterThan(0);
    for (const labels of found) expect(Object.keys(labels).sort(), family).toEqual(declared);
  }
  expect(text).toMatch(/tracegram_screen_views_total\{screen_id="CATEGORY_PICK"\} 1/);
});

test('readiness probes query the store without leaving a trace each', async () => {
  const before = h.finishedSpans().length;
  for (let i = 0; i < 3; i += 1) expect((await fetch(`${h.httpUrl}/readyz`)).status).toBe(200);
  expect(
    h
      .finishedSpans()
      .slice(before)
      .map((span) => span.name),
  ).toEqual([]);
});
