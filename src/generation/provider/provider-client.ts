import { context, propagation, SpanKind } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import { ProviderError } from '../../errors.js';
import { ATTR, SPAN } from '../../telemetry/conventions.js';
import { inSpan } from '../../telemetry/tracer.js';
import type { JobMetrics, ProviderOperation } from '../job-metrics.js';
import { SUBMIT_PATH, type SubmitRequest, type SubmitResponse } from './contract.js';

/** Telegram takes photos up to 10 MB and documents up to 50 MB by upload. */
const MAX_RESULT_BYTES = 50 * 1024 * 1024;

export interface ProviderClientOptions {
  /** The provider's base URL; a function because the local provider's port is known only once the server listens. */
  baseUrl: () => string;
  apiKey: () => string;
  metrics: JobMetrics;
}

export interface ProviderResult {
  bytes: Buffer;
  contentType: string;
}

export interface ProviderClient {
  /** Submits a task; resolves with the provider's task id. Throws ProviderError. */
  submit(request: SubmitRequest, timeoutMs: number): Promise<string>;
  /** Downloads a result file. Throws ProviderError. */
  fetchResult(url: string, timeoutMs: number): Promise<ProviderResult>;
}

/**
 * The provider adapter: plain `fetch` with a deadline per call, a CLIENT span per call, and the W3C
 * `traceparent` of that span on the request, so a provider that traces sees our trace. The API key goes
 * only to the provider's own origin, never to a result host (a CDN) it names.
 */
export function createProviderClient(options: ProviderClientOptions): ProviderClient {
  const call = async (
    operation: ProviderOperation,
    url: URL,
    init: RequestInit,
    timeoutMs: number,
  ): Promise<Response> => {
    const spanName = operation === 'submit' ? SPAN.PROVIDER_SUBMIT : SPAN.PROVIDER_RESULT;
    return inSpan(
      spanName,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: init.method ?? 'GET',
          [ATTR_SERVER_ADDRESS]: url.hostname,
          ...(url.port ? { [ATTR_SERVER_PORT]: Number(url.port) } : {}),
        },
      },
      async (span) => {
        const headers = new Headers(init.headers);
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        for (const [key, value] of Object.entries(carrier)) headers.set(key, value);
        if (url.origin === new URL(options.baseUrl()).origin) {
          headers.set('authorization', `Bearer ${options.apiKey()}`);
        }
        const startedAt = performance.now();
        const seconds = () => (performance.now() - startedAt) / 1000;
        let response: Response;
        try {
          response = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(timeoutMs) });
        } catch (error) {
          // AbortSignal.timeout rejects with a DOMException named TimeoutError (not always `instanceof` across realms).
          const timedOut = (error as { name?: unknown }).name === 'TimeoutError';
          options.metrics.providerCall(operation, timedOut ? 'timeout' : 'error', seconds());
          const failure = timedOut
            ? new ProviderError('timeout', `provider ${operation} got no answer within ${timeoutMs} ms`, {
                cause: error,
              })
            : new ProviderError('network', `provider ${operation} failed: ${causeCode(error)}`, {
                cause: error,
              });
          span.setAttribute(ATTR.PROVIDER_ERROR_KIND, failure.kind);
          throw failure;
        }
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.status);
        if (!response.ok) {
          options.metrics.providerCall(operation, 'error', seconds());
          span.setAttribute(ATTR.PROVIDER_ERROR_KIND, 'http_status');
          await response.body?.cancel();
          throw new ProviderError('http_status', `provider ${operation} answered ${response.status}`, {
            status: response.status,
          });
        }
        options.metrics.providerCall(operation, 'ok', seconds());
        return response;
      },
    );
  };

  return {
    async submit(request, timeoutMs) {
      const response = await call(
        'submit',
        new URL(`${options.baseUrl()}${SUBMIT_PATH}`),
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) },
        timeoutMs,
      );
      const body = (await response.json().catch(() => undefined)) as Partial<SubmitResponse> | undefined;
      if (typeof body?.task_id !== 'string' || body.task_id === '') {
        throw new ProviderError('bad_response', 'provider submit answered without a task id');
      }
      return body.task_id;
    },

    async fetchResult(url, timeoutMs) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new ProviderError('bad_response', 'provider result URL is not a URL');
      }
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw new ProviderError('bad_response', 'provider result URL is not http(s)');
      }
      const response = await call('result', parsed, { method: 'GET' }, timeoutMs);
      const bytes = Buffer.from(await response.arrayBuffer());
      if (bytes.length === 0 || bytes.length > MAX_RESULT_BYTES) {
        throw new ProviderError('bad_response', `provider result has ${bytes.length} bytes`);
      }
      return { bytes, contentType: response.headers.get('content-type') ?? 'application/octet-stream' };
    },
  };
}

/** undici wraps the socket error in `cause`; its code (ECONNREFUSED) is safe to show, its message may not be. */
function causeCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.name : 'unknown';
}
