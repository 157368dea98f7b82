import { getJson } from './http-json.js';
import type { SupportCode } from './support-code.js';
import type { Lookup, TraceSource, UserTraces } from './trace-source.js';
import type { TraceView } from './trace-view.js';

/** Paths of the admin API (src/server/admin-api.ts serves them). */
export const ADMIN_API_PATH = {
  TRACE: '/admin/api/traces/',
  USER_TRACES: '/admin/api/users/',
} as const;

/** A running bot's in-process traces, asked over its admin API with ADMIN_API_TOKEN. */
export class AdminApiSource implements TraceSource {
  readonly name: string;
  readonly #url: string;
  readonly #headers: Record<string, string>;

  constructor(options: { url: string; token: string }) {
    this.#url = options.url.replace(/\/+$/, '');
    this.#headers = { authorization: `Bearer ${options.token}` };
    this.name = `the bot's admin API (${this.#url})`;
  }

  async find(code: SupportCode): Promise<Lookup> {
    const key = code.kind === 'cid' ? code.cid : code.prefix;
    const answer = await getJson(`${this.#url}${ADMIN_API_PATH.TRACE}${key}`, { headers: this.#headers });
    if (answer.status === 'unreachable') return answer;
    if (answer.status === 'not-found') {
      return { status: 'not-found', message: 'not among the traces the bot keeps (the most recent 500)' };
    }
    return answer.body as Lookup;
  }

  async userTraces(pseudonymOrId: string, sinceMs: number, limit: number): Promise<UserTraces> {
    const params = new URLSearchParams({ since: String(Math.floor(sinceMs)), limit: String(limit) });
    const answer = await getJson(
      `${this.#url}${ADMIN_API_PATH.USER_TRACES}${encodeURIComponent(pseudonymOrId)}/traces?${params}`,
      { headers: this.#headers },
    );
    if (answer.status === 'unreachable') return answer;
    if (answer.status === 'not-found')
      return { status: 'unreachable', message: 'the admin API has no user route' };
    return { status: 'found', traces: (answer.body as { traces: TraceView[] }).traces };
  }
}
