import type { CallLog, RecordedCall } from './calls.js';
import { BotApiError, DESCRIPTION } from './errors.js';
import { normalizeParams, Params, type RawParams } from './params.js';

export interface CallContext {
  /** Aborts when the client goes away, so a held getUpdates can let go. */
  signal: AbortSignal;
}

/** A successful result that Telegram accompanies with a description (setWebhook's "Webhook was set"). */
export class DescribedResult {
  constructor(
    readonly result: unknown,
    readonly description: string,
  ) {}
}

export type MethodHandler = (params: Params, context: CallContext) => unknown;

/** Handlers keyed by the method's canonical name, e.g. `sendMessage`. */
export type MethodTable = Record<string, MethodHandler>;

export type CallOutcome =
  | { ok: true; result: unknown; description?: string }
  | { ok: false; error: BotApiError; injected?: boolean };

/**
 * Runs Bot API methods and records each outcome in the call log. Method names are case-insensitive, as on Telegram
 * ("All methods in the Bot API are case-insensitive").
 */
export class MethodDispatcher {
  private readonly byLowerName = new Map<string, { name: string; handler: MethodHandler }>();

  constructor(
    table: MethodTable,
    private readonly log: CallLog,
  ) {
    for (const [name, handler] of Object.entries(table))
      this.byLowerName.set(name.toLowerCase(), { name, handler });
  }

  canonicalName(method: string): string | undefined {
    return this.byLowerName.get(method.toLowerCase())?.name;
  }

  /** Runs a method without recording it: the caller records, since a fault may change what the bot saw. */
  async run(
    method: string,
    raw: RawParams,
    context: CallContext,
  ): Promise<{ name: string; params: RawParams; outcome: CallOutcome }> {
    const entry = this.byLowerName.get(method.toLowerCase());
    let params = raw;
    try {
      if (!entry) throw new BotApiError(404, DESCRIPTION.methodNotFound);
      params = normalizeParams(raw);
      const value = await entry.handler(new Params(params), context);
      const outcome: CallOutcome =
        value instanceof DescribedResult
          ? { ok: true, result: value.result, description: value.description }
          : { ok: true, result: value };
      return { name: entry.name, params, outcome };
    } catch (error) {
      return { name: entry?.name ?? method, params, outcome: { ok: false, error: asBotApiError(error) } };
    }
  }

  record(method: string, params: RawParams, outcome: CallOutcome): void {
    const call: RecordedCall = { method, params, ok: outcome.ok, at: Date.now() };
    if (outcome.ok) call.result = outcome.result;
    else {
      call.errorCode = outcome.error.errorCode;
      call.description = outcome.error.description;
      if (outcome.injected) call.fault = 'error';
    }
    this.log.record(call);
  }
}

/** A handler bug must still reach the bot as a Telegram-shaped 500, never as a dropped request. */
function asBotApiError(error: unknown): BotApiError {
  if (error instanceof BotApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BotApiError(500, `Internal Server Error: ${message}`);
}
