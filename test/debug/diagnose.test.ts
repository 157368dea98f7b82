import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { Message } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AdminApiSource } from '../../src/debug/admin-api-source.js';
import { diagnoseCommand, replayCommand } from '../../src/debug/commands.js';
import { logViewsFromLoki } from '../../src/debug/loki.js';
import { englishReplies } from '../../src/debug/reply-text.js';
import { shortCode } from '../../src/debug/support-code.js';
import { TempoLokiSource } from '../../src/debug/tempo-loki-source.js';
import { createPseudonymizer } from '../../src/telemetry/pseudonym.js';
import type { SimulatedUser } from '../../tools/telegram-stand-in/index.js';
import { type FakeTempoLoki, startFakeTempoLoki } from '../support/fake-tempo-loki.js';
import { freshUserId, type Harness, startHarness, TEST_PSEUDONYM_KEY } from '../support/harness.js';

const run = promisify(execFile);

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
const supportCodeIn = (text: string | undefined) => /[0-9a-f]{32}/.exec(text ?? '')?.[0];

describe('npm run diagnose against Tempo and Loki', () => {
  let h: Harness;
  let fake: FakeTempoLoki;
  let user: SimulatedUser;
  let okCid: string;
  let failedCode: string;
  const replyText = englishReplies();

  beforeAll(async () => {
    h = await startHarness();
    user = h.standIn.user({ id: freshUserId(), first_name: 'Dee', language_code: 'en' });
    okCid = (await h.act(() => user.sendCommand('/start'))).traceId;
    // A refusal that is not retried (a 5xx would be, and then succeed).
    h.standIn.failNext('editMessageText', {
      error_code: 400,
      description: 'Bad Request: message to edit not found',
    });
    await h.act(() => user.press(h.standIn.lastMessage(user.id) as Message, '🖼 Images'));
    // What the user quotes: the short form of the code in the apology.
    failedCode = shortCode(supportCodeIn(h.standIn.lastMessage(user.id)?.text) ?? '');
    fake = await startFakeTempoLoki({
      spans: () => h.otel.spans.getFinishedSpans(),
      logs: () => h.otel.logs.getFinishedLogRecords(),
    });
  });
  afterAll(async () => {
    await fake.stop();
    await h.stop();
  });

  const source = () => new TempoLokiSource({ tempoUrl: fake.tempoUrl, lokiUrl: fake.lokiUrl });

  test('names the reason, the failing stage, the downstream, what the user was told and what to do', async () => {
    const result = await diagnoseCommand(failedCode, source(), { replyText });
    expect(result.exitCode).toBe(1);
    const screen = result.stdout;
    expect(screen).toMatch(/^what the user did +pressed CATEGORY on MAIN_MENU/m);
    expect(screen).toMatch(/^outcome +error · INTERNAL_ERROR/m);
    expect(screen).toMatch(/^failing stage +stage render › botapi editMessageText$/m);
    expect(screen).toMatch(
      /^downstream +Telegram Bot API editMessageText → 400: Bad Request: message to edit not found$/m,
    );
    expect(screen).toMatch(
      /^user was told +"Something went wrong on our side.*" via answerCallbackQuery ✓, sendMessage ✓$/m,
    );
    expect(screen).toMatch(/^next step +Telegram refused the request \(400\)/m);
    // Its log lines came from Loki: the decision and the closing line are in the chain's source.
    expect(fake.requests.some((r) => r.startsWith('/loki/loki/api/v1/query_range'))).toBe(true);
    expect(screen).toContain(`support code ${failedCode}`);
  });

  test('a successful update exits 0; the full cid works as well as the short code', async () => {
    const result = await diagnoseCommand(okCid, source(), { replyText });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^what the user did +sent \/start/m);
    expect(result.stdout).toMatch(/^outcome +success · SUCCESS/m);
    expect(result.stdout).toMatch(/^failing stage +—$/m);
  });

  test('an unknown code, or a source that does not answer, exits 2 with a clear message', async () => {
    const unknown = await diagnoseCommand('00000001', source());
    expect(unknown).toMatchObject({ exitCode: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/no trace for 00000001 .*no trace id starting with 00000001/);

    const closed = await closedPort();
    const down = await diagnoseCommand(
      failedCode,
      new TempoLokiSource({ tempoUrl: `http://127.0.0.1:${closed}`, lokiUrl: `http://127.0.0.1:${closed}` }),
    );
    expect(down.exitCode).toBe(2);
    expect(down.stderr).toMatch(
      new RegExp(`cannot ask .*127\\.0\\.0\\.1:${closed}.* could not be reached \\(ECONNREFUSED\\)`),
    );

    expect((await diagnoseCommand('hello', source())).stderr).toMatch(/^usage: npm run diagnose/);
  });

  test('the npm script reads TEMPO_URL and LOKI_URL and exits with the status', async () => {
    const env = { ...process.env, TEMPO_URL: fake.tempoUrl, LOKI_URL: fake.lokiUrl };
    const failed = await run('node', ['--import', 'tsx', 'scripts/diagnose.ts', failedCode], { env }).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed).toMatchObject({ code: 1 });
    expect(failed.stdout).toContain('INTERNAL_ERROR');

    const missing = await run('node', ['--import', 'tsx', 'scripts/diagnose.ts', failedCode], {
      env: { ...process.env, TEMPO_URL: '', LOKI_URL: '', ADMIN_API_TOKEN: '' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(missing).toMatchObject({ code: 2 });
    expect((missing as { stderr: string }).stderr).toMatch(/no telemetry source: set TEMPO_URL/);
  });

  test('npm run replay rebuilds the session from Tempo: what they did, what they saw, codes', async () => {
    const pseudonym = createPseudonymizer(TEST_PSEUDONYM_KEY)(user.id);
    const result = await replayCommand([pseudonym, '--since', '1h'], source(), { replyText });
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split('\n').filter((l) => l.startsWith('   '));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/sent \/start +→ MAIN_MENU .* code [0-9a-f]{8}/);
    expect(lines[1]).toMatch(
      new RegExp(`pressed CATEGORY on MAIN_MENU.* ✗ error INTERNAL_ERROR .* code ${failedCode}`),
    );
    expect(result.stdout).not.toContain(String(user.id));
  });
});

test('Loki answers read the same with and without categorised labels', () => {
  const meta = {
    trace_id: 'a'.repeat(32),
    span_id: 'b'.repeat(16),
    severity_text: 'WARN',
    event: 'BOTAPI_ERROR',
    method: 'sendMessage',
    error_code: '403',
  };
  const categorised = {
    status: 'success',
    data: {
      resultType: 'streams',
      result: [
        {
          stream: { service_name: 'tracegram' },
          values: [['1764450000123456789', 'Bot API call failed', { structuredMetadata: meta }]],
        },
      ],
    },
  };
  const merged = {
    status: 'success',
    data: {
      resultType: 'streams',
      result: [
        {
          stream: { service_name: 'tracegram', ...meta },
          values: [['1764450000123456789', 'Bot API call failed']],
        },
      ],
    },
  };
  const expected = [
    {
      timeMs: 1764450000123.456,
      level: 'warn',
      event: 'BOTAPI_ERROR',
      message: 'Bot API call failed',
      spanId: 'b'.repeat(16),
      fields: { method: 'sendMessage', error_code: 403 },
    },
  ];
  expect(logViewsFromLoki(categorised)).toEqual(expected);
  expect(logViewsFromLoki(merged)).toEqual(expected);
});

describe('npm run diagnose and replay against the running bot’s admin API', () => {
  const token = 'a'.repeat(12) + 'b'.repeat(12);
  let h: Harness;
  let user: SimulatedUser;
  let failedCode: string;

  beforeAll(async () => {
    h = await startHarness({ env: { ADMIN_API_TOKEN: token } });
    user = h.standIn.user({ id: freshUserId(), first_name: 'Ann', language_code: 'en' });
    await h.act(() => user.sendCommand('/start'));
    h.standIn.failNext('sendMessage', {
      error_code: 403,
      description: 'Forbidden: bot was blocked by the user',
    });
    await h.act(() => user.sendCommand('/help'));
    failedCode = shortCode(supportCodeIn(h.standIn.lastMessage(user.id)?.text) ?? '');
  });
  afterAll(() => h.stop());

  test('diagnoses a support code from the bot’s own memory, with the token', async () => {
    const result = await diagnoseCommand(failedCode, new AdminApiSource({ url: h.metricsUrl, token }));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^failing stage +stage render › botapi sendMessage$/m);
    expect(result.stdout).toMatch(
      /^downstream +Telegram Bot API sendMessage → 403: Forbidden: bot was blocked by the user$/m,
    );
    expect(result.stdout).toMatch(/^next step +Telegram answered 403: the user blocked the bot/m);
  });

  test('replays a user’s session from their Telegram id (the bot computes the pseudonym)', async () => {
    const result = await replayCommand([String(user.id)], new AdminApiSource({ url: h.metricsUrl, token }));
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n').filter((l) => l.startsWith('   '))).toEqual([
      expect.stringMatching(/sent \/start +→ MAIN_MENU/),
      expect.stringMatching(new RegExp(`sent /help +✗ error INTERNAL_ERROR .* code ${failedCode}`)),
    ]);
  });

  test('a wrong or missing token is refused with 401 and a log line; the tool exits 2', async () => {
    const before = h.logLines().length;
    const result = await diagnoseCommand(
      failedCode,
      new AdminApiSource({ url: h.metricsUrl, token: 'x'.repeat(24) }),
    );
    expect(result).toMatchObject({ exitCode: 2 });
    expect(result.stderr).toMatch(/cannot ask the bot's admin API .* answered HTTP 401/);
    const bare = await fetch(`${h.metricsUrl}/admin/api/traces/${failedCode}`);
    // The port that faces Telegram serves no admin API.
    expect((await fetch(`${h.httpUrl}/admin/api/traces/${failedCode}`)).status).toBe(404);
    expect(bare.status).toBe(401);
    expect(
      h
        .logLines()
        .slice(before)
        .map((l) => [l.event, l.reason]),
    ).toEqual([
      ['ADMIN_API_REJECTED', 'token wrong'],
      ['ADMIN_API_REJECTED', 'token missing'],
    ]);
  });

  test('without ADMIN_API_TOKEN the bot serves no admin API at all', async () => {
    const plain = await startHarness();
    try {
      expect((await fetch(`${plain.metricsUrl}/admin/api/traces/${failedCode}`)).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});
