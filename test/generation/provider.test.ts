import Fastify from 'fastify';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, test } from 'vitest';
import { CALLBACK_PATH, providerCallbackRoute } from '../../src/generation/callback-route.js';
import type { CallbackResult } from '../../src/generation/generation.js';
import {
  REPLAY_WINDOW_S,
  SIGNATURE_HEADER,
  signCallback,
  TIMESTAMP_HEADER,
} from '../../src/generation/provider/callback-signature.js';
import type { CallbackPayload } from '../../src/generation/provider/contract.js';
import { promptImage } from '../../src/generation/provider/prompt-image.js';
import { createLogger } from '../../src/telemetry/logger.js';

const SECRET = 'callback-secret-for-tests-0123456789';
const JOB = '3f2b8a9e-1c4d-4e5f-8a7b-9c0d1e2f3a4b';
const NOW = Date.UTC(2026, 10, 29, 22, 0, 0);

describe('POST /provider/callback', () => {
  const lines: Array<Record<string, unknown>> = [];
  const handled: CallbackPayload[] = [];
  let answer: CallbackResult = 'accepted';
  const app = Fastify();
  app.register(
    providerCallbackRoute({
      secret: SECRET,
      logger: createLogger({
        level: 'info',
        destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
      }),
      handle: async (_jobId, payload) => {
        handled.push(payload);
        return answer;
      },
      now: () => NOW,
    }),
  );
  afterEach(() => {
    lines.length = 0;
    handled.length = 0;
    answer = 'accepted';
  });

  const body = JSON.stringify({
    task_id: 't1',
    state: 'success',
    result_urls: ['https://cdn.example/r.png'],
  });
  const post = (headers: Record<string, string>, payload = body) =>
    app.inject({
      method: 'POST',
      url: `${CALLBACK_PATH}?job=${JOB}`,
      headers: { 'content-type': 'application/json', ...headers },
      payload,
    });
  const signed = (timestampS = NOW / 1000, payload = body, secret = SECRET) => ({
    [TIMESTAMP_HEADER]: String(timestampS),
    [SIGNATURE_HEADER]: signCallback(secret, timestampS, payload),
  });

  test('a correctly signed callback reaches the job', async () => {
    const response = await post(signed());
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'accepted' });
    expect(handled).toEqual([JSON.parse(body)]);
  });

  test('a duplicate is acknowledged (200) so the provider stops retrying', async () => {
    answer = 'duplicate';
    const response = await post(signed());
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'duplicate' });
  });

  test.each([
    ['signature missing', { [TIMESTAMP_HEADER]: String(NOW / 1000) }],
    ['timestamp missing', { [SIGNATURE_HEADER]: signCallback(SECRET, NOW / 1000, body) }],
    ['signature wrong', signed(NOW / 1000, body, 'another-secret-of-enough-length')],
    ['signature wrong', signed(NOW / 1000, body.replace('t1', 't2'))],
    ['timestamp outside window', signed(NOW / 1000 - REPLAY_WINDOW_S - 1)],
    ['timestamp outside window', signed(NOW / 1000 + REPLAY_WINDOW_S + 1)],
  ])('%s → 401 and a PROVIDER_CALLBACK_REJECTED line; the job never sees it', async (reason, headers) => {
    const response = await post(headers);
    expect(response.statusCode).toBe(401);
    expect(handled).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'PROVIDER_CALLBACK_REJECTED', reason, status: 401 }),
    );
  });

  test('a body changed after signing (even only its whitespace) is refused', async () => {
    const headers = signed();
    const response = await post(headers, body.replace(',', ', '));
    expect(response.statusCode).toBe(401);
  });

  test('a task we do not know is a 404', async () => {
    answer = 'unknown';
    expect((await post(signed())).statusCode).toBe(404);
  });
});

describe('the local provider image', () => {
  const decode = (bytes: Buffer) => PNG.sync.read(bytes);

  test('is a real PNG of the ordered aspect ratio', () => {
    expect(decode(promptImage('sdxl', { prompt: 'a fox', aspect: '16x9' }))).toMatchObject({
      width: 320,
      height: 180,
    });
    expect(decode(promptImage('sdxl', { prompt: 'a fox', aspect: '1x1' }))).toMatchObject({
      width: 256,
      height: 256,
    });
  });

  test('depends on the prompt: the same order gives the same picture, another prompt another one', () => {
    const fox = promptImage('sdxl', { prompt: 'a fox' });
    expect(promptImage('sdxl', { prompt: 'a fox' }).equals(fox)).toBe(true);
    expect(promptImage('sdxl', { prompt: 'a hare' }).equals(fox)).toBe(false);
  });
});
