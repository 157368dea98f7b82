import { createServer } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Message } from 'grammy/types';
import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LOCAL_PROVIDER_PREFIX, localProvider } from '../src/generation/provider/local-provider.js';
import { SPAN } from '../src/telemetry/conventions.js';
import { credit } from './generation/support.js';
import { freshUserId, type Harness, startHarness, TEST_TOKEN } from './support/harness.js';

/**
 * The bot token sits in every Bot API URL and the webhook secret in every webhook request; user ids,
 * names and prompts are personal data. None may reach a span, a log line (stdout or OTLP) or a metric.
 */
const WEBHOOK_SECRET = 'whsec_must_never_appear_in_telemetry';
const PROMPT = 'my secret birthday surprise for Grandma Zelda';
const PROVIDER_API_KEY = 'pk_live_provider_key_must_never_leak';
const PROVIDER_CALLBACK_SECRET = 'cbsec_provider_callback_secret_must_never_leak';

let h: Harness;
let userId: number;
let provider: FastifyInstance;

/** A port nobody listens on now: the bot's PUBLIC_URL must name its own port before it starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  // A provider outside the bot (PROVIDER_URL), speaking the real contract with its own key and secret:
  // the generation below authenticates to it and verifies its signed callback.
  provider = Fastify();
  const providerBase = () => `http://127.0.0.1:${(provider.server.address() as { port: number }).port}`;
  await provider.register(
    localProvider({
      apiKey: PROVIDER_API_KEY,
      callbackSecret: PROVIDER_CALLBACK_SECRET,
      delayMs: 50,
      fault: 'none',
      publicBase: providerBase,
      logger: pino({ enabled: false }),
    }),
    { prefix: LOCAL_PROVIDER_PREFIX },
  );
  await provider.listen({ port: 0, host: '127.0.0.1' });
  const botPort = await freePort();
  h = await startHarness({
    env: {
      BOT_MODE: 'webhook',
      WEBHOOK_SECRET,
      PORT: String(botPort),
      PUBLIC_URL: `http://127.0.0.1:${botPort}`,
      PROVIDER_URL: `${providerBase()}${LOCAL_PROVIDER_PREFIX}`,
      PROVIDER_API_KEY,
      PROVIDER_CALLBACK_SECRET,
    },
  });
  // Webhook mode: point the stand-in at the bot's real webhook endpoint.
  await fetch(`${h.standIn.apiRoot}/bot${TEST_TOKEN}/setWebhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${h.httpUrl}/telegram/webhook`, secret_token: WEBHOOK_SECRET }),
  });
  userId = freshUserId() + 900_000_000;
  const user = h.standIn.user({
    id: userId,
    first_name: 'Zelda',
    last_name: 'Privatova',
    username: 'zelda_private_handle',
    language_code: 'en',
  });
  const act = h.act;
  const live = () => h.standIn.lastMessage(userId) as Message;
  await act(() => user.sendCommand('/start'));
  await act(() => user.press(live(), '🖼 Images'));
  await act(() => user.press(live(), 'Flux Pro · 4 cr'));
  await act(() => user.press(live(), '⚙️ Set parameters'));
  await act(() => user.sendText(PROMPT));
  // A Bot API network error: grammY's error message must not carry the URL (and so the token).
  h.standIn.failNext('editMessageText', { kind: 'network' });
  await act(() => user.press(live(), '16:9'));
  await act(() => user.pressData(live(), '1.forged.data'));
  // A whole generation through the external provider: submit with the key, signed callback, the photo.
  await credit(h, userId, 10);
  const withButton = (label: string) =>
    h.standIn
      .messages(userId)
      .findLast((m) => m.reply_markup?.inline_keyboard.flat().some((b) => b.text === label)) as Message;
  await act(() => user.press(withButton('➡️ Continue'), '➡️ Continue'));
  await act(() => user.press(withButton('✨ Generate · 4 cr'), '✨ Generate · 4 cr'));
  await h.standIn.waitFor({ method: 'sendPhoto' }, 20_000);
  // A request with the wrong secret is rejected and logged, without echoing what was sent.
  const forged = await fetch(`${h.httpUrl}/telegram/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': `${WEBHOOK_SECRET}x` },
    body: JSON.stringify({ update_id: 1 }),
  });
  expect(forged.status).toBe(401);
  await h.otel.telemetry.flush();
  await h.otel.metricReader.forceFlush();
});
afterAll(async () => {
  await h.stop();
  await provider.close();
});

function forbidden(): string[] {
  const [, tokenSecret] = TEST_TOKEN.split(':');
  return [
    TEST_TOKEN,
    tokenSecret as string,
    WEBHOOK_SECRET,
    PROVIDER_API_KEY,
    PROVIDER_CALLBACK_SECRET,
    String(userId),
    'Zelda',
    'Privatova',
    'zelda_private_handle',
    PROMPT,
    'Grandma',
  ];
}

function expectClean(where: string, text: string): void {
  for (const secret of forbidden()) {
    expect(text.includes(secret), `${where} contains "${secret}"`).toBe(false);
  }
}

test('the journey really ran through the failure paths it claims to cover', () => {
  const codes = h.outcomes.map((o) => o.reasonCode);
  expect(codes).toContain('SUCCESS');
  expect(codes).toContain('INTERNAL_ERROR');
  expect(codes).toContain('UNKNOWN_ACTION');
  expect(h.logLines().some((l) => l.event === 'WEBHOOK_REJECTED')).toBe(true);
  expect(h.finishedSpans().some((s) => s.attributes['tracegram.botapi.error_code'] === 'network')).toBe(true);
  const events = h.logLines().map((l) => l.event);
  expect(events).toContain('PROVIDER_SUBMITTED');
  expect(events).toContain('RESULT_DELIVERED');
  const names = h.finishedSpans().map((s) => s.name);
  expect(names).toContain(SPAN.PROVIDER_SUBMIT);
  expect(names).toContain(SPAN.PROVIDER_CALLBACK);
});

test('no exported span carries a secret or personal data', () => {
  const spans = h.finishedSpans();
  expect(spans.length).toBeGreaterThan(20);
  for (const span of spans) {
    const text = JSON.stringify({
      name: span.name,
      attributes: span.attributes,
      events: span.events,
      status: span.status,
      links: span.links,
      resource: span.resource.attributes,
    });
    expectClean(`span "${span.name}"`, text);
  }
});

test('no log line, on stdout or exported by OTLP, carries a secret or personal data', () => {
  const lines = h.logLines();
  expect(lines.length).toBeGreaterThan(20);
  for (const line of lines) expectClean(`log line ${line.event}`, JSON.stringify(line));
  const records = h.otel.logs.getFinishedLogRecords();
  expect(records.length).toBe(lines.length);
  for (const record of records) {
    expectClean('OTel log record', JSON.stringify({ body: record.body, attributes: record.attributes }));
  }
});

test('no metric, exported or scraped, carries a secret or personal data', async () => {
  const exported = JSON.stringify(h.otel.metrics.getMetrics());
  expect(exported).toContain('tracegram.updates');
  expectClean('exported metrics', exported);
  const scraped = await (await fetch(`${h.metricsUrl}/metrics`)).text();
  expect(scraped).toContain('tracegram_updates_total');
  expectClean('/metrics', scraped);
});
