import { expect, test } from 'vitest';
import { EVENT } from '../src/telemetry/conventions.js';
import { startHarness, TEST_TOKEN } from './support/harness.js';

test('a second instance polling with the same token stops this one loudly (409), not silently', async () => {
  const reasons: string[] = [];
  const h = await startHarness({ onFatal: (reason) => reasons.push(reason) });
  try {
    // The bot's long poll is held open by the stand-in (a held call is recorded only when it returns).
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Another process takes over long polling: Telegram answers the bot's pending poll with 409.
    await fetch(`${h.standIn.apiRoot}/bot${TEST_TOKEN}/getUpdates?timeout=0`);
    const deadline = Date.now() + 10_000;
    while (reasons.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(reasons).toEqual(['polling stopped']);
    const lines = h.logLines();
    expect(lines).toContainEqual(
      expect.objectContaining({ event: EVENT.BOTAPI_ERROR, method: 'getUpdates', error_code: 409 }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ event: EVENT.POLLING_STOPPED, level: 'fatal' }));
    const metrics = await (await fetch(`${h.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/tracegram_botapi_calls_total\{method="getUpdates",error_code="409"\} 1/);
    // Long polls are counted but kept out of the latency histogram: their wait is not Telegram's latency.
    expect(metrics).not.toMatch(/tracegram_botapi_duration_seconds_count\{method="getUpdates"/);
    expect(metrics).toMatch(/tracegram_botapi_duration_seconds_count\{method="setMyCommands"/);
  } finally {
    await h.stop();
  }
});
