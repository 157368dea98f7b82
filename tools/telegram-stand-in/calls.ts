/** One Bot API request as the stand-in answered it. */
export interface RecordedCall {
  /** Canonical casing (`sendMessage`) for known methods, as requested otherwise. */
  method: string;
  /** Parameters after decoding: JSON-string objects parsed, uploads reduced to their shape. */
  params: Record<string, unknown>;
  ok: boolean;
  errorCode?: number;
  description?: string;
  result?: unknown;
  /** Set when the answer was an injected fault rather than the method's own outcome. */
  fault?: 'network' | 'hang' | 'error';
  /** Epoch milliseconds when the answer was decided. */
  at: number;
}

export interface CallMatch {
  method: string;
  /** How many matching calls to wait for, counting from the first call ever made; default 1. */
  count?: number;
  where?: (call: RecordedCall) => boolean;
}

export type CallsPredicate = (calls: readonly RecordedCall[]) => boolean;

const RECENT_CALLS_SHOWN = 15;

/** The call history, and the waiting on it that tests need to sync with a bot running in the background. */
export class CallLog {
  private readonly entries: RecordedCall[] = [];
  private readonly listeners = new Set<() => void>();
  private closed = false;

  get all(): readonly RecordedCall[] {
    return [...this.entries];
  }

  record(call: RecordedCall): void {
    this.entries.push(call);
    for (const listener of this.listeners) listener();
  }

  /**
   * Resolves with the matching calls (for a predicate: all calls) once the condition holds; rejects
   * after `timeoutMs` with the recent calls listed, so a failing test says what the bot did instead.
   */
  waitFor(match: CallMatch | CallsPredicate, timeoutMs: number): Promise<RecordedCall[]> {
    const check = (): RecordedCall[] | undefined => {
      if (typeof match === 'function') return match(this.entries) ? [...this.entries] : undefined;
      const found = this.entries.filter(
        (call) => call.method === match.method && (match.where?.(call) ?? true),
      );
      return found.length >= (match.count ?? 1) ? found : undefined;
    };
    const wanted =
      typeof match === 'function'
        ? 'the calls predicate to hold'
        : `${match.count ?? 1} × ${match.method}${match.where ? ' (with where)' : ''}`;
    return new Promise((resolve, reject) => {
      const settle = (outcome: RecordedCall[] | Error) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const listener = () => {
        if (this.closed) return settle(new Error(`waitFor: stand-in stopped while waiting for ${wanted}`));
        const found = check();
        if (found) settle(found);
      };
      const timer = setTimeout(
        () =>
          settle(
            new Error(
              `waitFor: timed out after ${timeoutMs} ms waiting for ${wanted}.\n${this.describeRecent()}`,
            ),
          ),
        timeoutMs,
      );
      this.listeners.add(listener);
      listener();
    });
  }

  /** Wakes pending waits so they fail now instead of at their timeout. */
  close(): void {
    this.closed = true;
    for (const listener of [...this.listeners]) listener();
  }

  describeRecent(): string {
    // Long polling floods the log with empty getUpdates; they are counted, not listed.
    const polls = this.entries.filter((call) => call.method === 'getUpdates').length;
    const recent = this.entries.filter((call) => call.method !== 'getUpdates').slice(-RECENT_CALLS_SHOWN);
    const lines = recent.map(
      (call) => `  ${new Date(call.at).toISOString().slice(11, 23)} ${describeCall(call)}`,
    );
    return [`Recent calls (${polls} getUpdates not shown):`, ...(lines.length ? lines : ['  (none)'])].join(
      '\n',
    );
  }
}

function describeCall(call: RecordedCall): string {
  const outcome = call.ok ? 'ok' : `${call.errorCode ?? call.fault} ${call.description ?? ''}`.trim();
  const params = JSON.stringify(call.params);
  return `${call.method} → ${outcome} ${params.length > 160 ? `${params.slice(0, 157)}...` : params}`;
}
