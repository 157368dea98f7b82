import { expect, test } from 'vitest';
import { OutcomeWindow } from '../../src/debug/outcome-window.js';

test('counts updates and failures over the last 5 and 60 minutes, forgetting older ones', () => {
  let now = Date.UTC(2026, 10, 29, 22, 0, 30);
  const window = new OutcomeWindow(() => now);
  for (let i = 0; i < 10; i += 1) window.record(i < 4); // 22:00: 4 of 10 failed
  now += 10 * 60_000; // 22:10
  window.record(false);
  window.record(true);
  expect(window.over(5)).toEqual({ updates: 2, failed: 1 });
  expect(window.over(60)).toEqual({ updates: 12, failed: 5 });
  now += 55 * 60_000; // 23:05: 22:00 is more than an hour ago
  expect(window.over(60)).toEqual({ updates: 2, failed: 1 });
  now += 60 * 60_000;
  expect(window.over(60)).toEqual({ updates: 0, failed: 0 });
});
