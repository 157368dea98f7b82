import { GrammyError, HttpError } from 'grammy';
import { describe, expect, test } from 'vitest';
import { classifyError, driverFailure } from '../src/error-classifier.js';
import { ProviderError, StoreError, TracegramError } from '../src/errors.js';

const telegram = (error_code: number, description: string) =>
  new GrammyError(
    `Call to 'sendMessage' failed! (${error_code}: ${description})`,
    {
      ok: false,
      error_code,
      description,
    },
    'sendMessage',
    {},
  );

/** A pg/PGlite server error: a SQLSTATE `code` and a `severity`. */
const sqlError = (code: string) => Object.assign(new Error('server said no'), { code, severity: 'ERROR' });

describe('one classifier for every error', () => {
  test.each([
    ['Telegram 429', telegram(429, 'Too Many Requests: retry after 3'), 'INTERNAL_ERROR', '429', true],
    ['Telegram 500', telegram(500, 'Internal Server Error'), 'INTERNAL_ERROR', '500', true],
    ['Telegram 400', telegram(400, 'Bad Request: chat not found'), 'INTERNAL_ERROR', '400', false],
    [
      'Telegram unreachable',
      new HttpError('Network request failed', new Error('socket hang up')),
      'INTERNAL_ERROR',
      'HttpError',
      true,
    ],
    [
      'a lost connection',
      new StoreError('store: SELECT failed', { detail: 'ECONNREFUSED' }),
      'DB_ERROR',
      'StoreError',
      true,
    ],
    [
      'a serialization failure (40001)',
      new StoreError('store: UPDATE failed', { detail: '40001' }),
      'DB_ERROR',
      'StoreError',
      true,
    ],
    [
      'a unique violation (23505)',
      new StoreError('store: INSERT failed', { detail: '23505' }),
      'DB_ERROR',
      'StoreError',
      false,
    ],
    [
      'a domain error',
      new TracegramError('VALIDATION_FAILED', 'no', { detail: 'prompt too long' }),
      'VALIDATION_FAILED',
      'TracegramError',
      false,
    ],
    [
      'a provider that does not answer in time',
      new ProviderError('timeout', 'no answer'),
      'DOWNSTREAM_TIMEOUT',
      'timeout',
      true,
    ],
    [
      'a provider that is down',
      new ProviderError('network', 'ECONNREFUSED'),
      'PROVIDER_ERROR',
      'network',
      true,
    ],
    [
      'a provider answering 503',
      new ProviderError('http_status', '503', { status: 503 }),
      'PROVIDER_ERROR',
      'http_status',
      true,
    ],
    [
      'a provider refusing the task (400)',
      new ProviderError('http_status', '400', { status: 400 }),
      'PROVIDER_ERROR',
      'http_status',
      false,
    ],
    [
      'a task the provider failed',
      new ProviderError('task_failed', 'failed'),
      'PROVIDER_ERROR',
      'task_failed',
      false,
    ],
    ['anything else', new TypeError('x is undefined'), 'INTERNAL_ERROR', 'TypeError', false],
    ['a thrown string', 'boom', 'INTERNAL_ERROR', 'NonError', false],
  ])('%s', (_name, error, reasonCode, errorType, retryable) => {
    expect(classifyError(error)).toMatchObject({ reasonCode, errorType, retryable });
  });

  test('a store error carries its failure class as detail, never the driver message', () => {
    const classified = classifyError(
      new StoreError('store: SELECT sessions failed (08006)', { detail: '08006' }),
    );
    expect(classified).toEqual({
      reasonCode: 'DB_ERROR',
      errorType: 'StoreError',
      detail: '08006',
      retryable: true,
    });
  });

  test.each([
    ['a SQLSTATE from the server', sqlError('23505'), { type: '23505', sqlState: '23505' }],
    [
      'a Node errno',
      Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      { type: 'ECONNREFUSED', sqlState: undefined },
    ],
    ['a timeout message', new Error('Query read timeout'), { type: 'timeout', sqlState: undefined }],
    ['anything else', new Error('who knows'), { type: '_OTHER', sqlState: undefined }],
  ])('driver failure: %s', (_name, error, expected) => {
    expect(driverFailure(error)).toEqual(expected);
  });
});
