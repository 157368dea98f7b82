import { Agent, request } from 'node:http';
import type { FakeBotApi } from './fake-bot-api.js';
import { buildUpdate, nextAction, UPDATE_KINDS, type UpdateKind } from './workload.js';

export interface Target {
  token: string;
  webhookUrl: string;
  secret: string;
  /** The chats of this bot's users; one update per chat is in flight at a time. */
  chatIds: readonly number[];
  nextUpdateId: number;
  agent: Agent;
}

export interface LoadResult {
  updates: number;
  failed: number;
  /** The failed deliveries by their HTTP status; 0 is a delivery the bot never answered (a socket error). */
  failedByStatus: Map<number, number>;
  latenciesMs: number[];
  byKind: Record<UpdateKind, number>;
  elapsedMs: number;
}

export function createTarget(
  token: string,
  webhookUrl: string,
  secret: string,
  chatIds: readonly number[],
  concurrency: number,
): Target {
  return {
    token,
    webhookUrl,
    secret,
    chatIds,
    nextUpdateId: 1,
    agent: new Agent({ keepAlive: true, maxSockets: concurrency }),
  };
}

/**
 * A closed loop: `concurrency` webhook deliveries in flight, each for a chat that has none in flight,
 * for `durationMs`. The webhook answers after the update is handled, so the next action of that chat's
 * user sees the screen the bot drew.
 */
export async function drive(
  target: Target,
  api: FakeBotApi,
  options: { concurrency: number; durationMs: number; random: () => number },
): Promise<LoadResult> {
  const result: LoadResult = {
    updates: 0,
    failed: 0,
    failedByStatus: new Map(),
    latenciesMs: [],
    byKind: Object.fromEntries(UPDATE_KINDS.map((kind) => [kind, 0])) as Record<UpdateKind, number>,
    elapsedMs: 0,
  };
  const busy = new Set<number>();
  let cursor = Math.floor(options.random() * target.chatIds.length);
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;

  const nextChat = (): number => {
    for (;;) {
      cursor = (cursor + 1) % target.chatIds.length;
      const chatId = target.chatIds[cursor] as number;
      if (!busy.has(chatId)) return chatId;
    }
  };

  const worker = async () => {
    while (performance.now() < deadline) {
      const chatId = nextChat();
      busy.add(chatId);
      const chat = api.chat(target.token, chatId);
      const action = nextAction(chat, options.random);
      const body = JSON.stringify(buildUpdate(target.nextUpdateId++, chatId, chat, action));
      const sentAt = performance.now();
      const status = await post(target, body);
      result.latenciesMs.push(performance.now() - sentAt);
      busy.delete(chatId);
      result.updates += 1;
      result.byKind[action.kind] += 1;
      if (status !== 200) {
        result.failed += 1;
        result.failedByStatus.set(status, (result.failedByStatus.get(status) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, target.chatIds.length) }, worker));
  result.elapsedMs = performance.now() - startedAt;
  return result;
}

function post(target: Target, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      target.webhookUrl,
      {
        method: 'POST',
        agent: target.agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-telegram-bot-api-secret-token': target.secret,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
