import type { Message } from 'grammy/types';
import { afterAll, beforeAll, expect, test } from 'vitest';
import packageJson from '../package.json' with { type: 'json' };
import { freshUserId, type Harness, startHarness, TEST_TOKEN } from './support/harness.js';
import { TraceView } from './support/telemetry-assertions.js';

/**
 * The standard semantic conventions on the spans and metrics a backend recognises: messaging on the root,
 * HTTP client on Bot API calls, database client on store queries, and a versioned instrumentation scope.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ postgres: true });
});
afterAll(() => h.stop());

async function start() {
  const user = h.standIn.user({ id: freshUserId(), first_name: 'Sam', language_code: 'en' });
  const summary = await h.act(() => user.sendCommand('/start'));
  return { user, view: TraceView.of(summary.traceId, h.finishedSpans()) };
}

test('the root span names its messaging operation; every span carries the tracer version', async () => {
  const { view } = await start();
  expect(view.root.attributes).toMatchObject({
    'messaging.system': 'telegram',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
  });
  for (const span of view.spans) {
    expect(span.instrumentationScope).toEqual(
      expect.objectContaining({ name: 'tracegram', version: packageJson.version }),
    );
  }
});

test('a Bot API call is an HTTP client span: server, method, status and the URL template, never the token', async () => {
  const { view } = await start();
  const call = view.one('botapi sendMessage');
  const { hostname, port } = new URL(h.standIn.apiRoot);
  expect(call.attributes).toMatchObject({
    'server.address': hostname,
    'server.port': Number(port),
    'http.request.method': 'POST',
    'http.response.status_code': 200,
    'url.template': '/bot{token}/{method}',
  });
  expect(JSON.stringify(call.attributes)).not.toContain(TEST_TOKEN.split(':')[1]);
});

test("a refused Bot API call: its status code, and Telegram's error code as error.type on the call and the update", async () => {
  const { user } = await start();
  h.standIn.failNext('editMessageText', {
    error_code: 400,
    description: 'Bad Request: message to edit not found',
  });
  const summary = await h.act(() => user.press(h.standIn.lastMessage(user.id) as Message, '🖼 Images'));
  const view = TraceView.of(summary.traceId, h.finishedSpans());
  expect(view.one('botapi editMessageText').attributes).toMatchObject({
    'http.response.status_code': 400,
    'error.type': '400',
  });
  expect(view.root.attributes['error.type']).toBe('400');
});

test('a store query carries its parameterised text, and its duration is the db.client.operation.duration metric', async () => {
  const { view } = await start();
  const queries = view.spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
  expect(queries.length).toBeGreaterThan(0);
  for (const query of queries) {
    const text = String(query.attributes['db.query.text']);
    expect(text).toMatch(/^(SELECT|INSERT|UPDATE|DELETE|BEGIN|COMMIT|WITH)\b/i);
    // Values travel as parameters: the chat id (the session key) is never in the text.
    expect(text).not.toMatch(/\d{7,}/);
  }
  const metrics = await (await fetch(`${h.metricsUrl}/metrics`)).text();
  expect(metrics).toMatch(
    /^db_client_operation_duration_seconds_count\{[^}]*db_system_name="postgresql"[^}]*db_operation_name="SELECT"[^}]*\} [1-9]/m,
  );
});
