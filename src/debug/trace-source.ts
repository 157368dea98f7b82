import type { SupportCode } from './support-code.js';
import type { TraceView } from './trace-view.js';

/**
 * Where a diagnosis reads a trace from: the in-process recorders (the bot itself), Tempo + Loki, or a
 * running bot's admin API. Every source answers the same four ways, so the tools tell "no such code"
 * from "could not ask" (exit 2 either way, with a different message).
 */
export type Lookup =
  | { readonly status: 'found'; readonly trace: TraceView }
  | { readonly status: 'not-found'; readonly message: string }
  | { readonly status: 'ambiguous'; readonly cids: readonly string[] }
  | { readonly status: 'unreachable'; readonly message: string };

export interface TraceSource {
  /** A short name for messages: `tempo+loki`, `admin API at http://…`, `this process`. */
  readonly name: string;
  find(code: SupportCode): Promise<Lookup>;
  /** Traces whose root carries this user pseudonym, oldest first, since `sinceMs` (epoch ms). */
  userTraces(pseudonym: string, sinceMs: number, limit: number): Promise<UserTraces>;
}

export type UserTraces =
  | { readonly status: 'found'; readonly traces: readonly TraceView[] }
  | { readonly status: 'unreachable'; readonly message: string };
