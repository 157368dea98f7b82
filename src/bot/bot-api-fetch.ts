import type { ApiClientOptions } from 'grammy';
import { Agent, request } from 'undici';

type GrammyFetch = NonNullable<ApiClientOptions['fetch']>;

/**
 * The `fetch` grammY's Bot API client calls, on undici's `request`. grammY only reads `json()` of the
 * response; skipping the WHATWG Request/Response layer (node-fetch by default, or Node's global fetch)
 * takes about a third off the client's CPU per call (docs/benchmarks.md). One keep-alive pool per bot.
 * Network failures and aborts (the API deadline) reject as before, and grammY wraps them in HttpError.
 */
export function botApiFetch(): GrammyFetch {
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
  const fetchJson = async (url: string, init: FetchInit = {}) => {
    const response = await request(url, {
      method: (init.method ?? 'GET') as 'GET',
      headers: init.headers,
      body: init.body as string | undefined,
      signal: init.signal as AbortSignal | undefined,
      dispatcher,
    });
    return { json: () => response.body.json() };
  };
  return fetchJson as unknown as GrammyFetch;
}

interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  signal?: unknown;
}
