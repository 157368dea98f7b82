import { logs } from '@opentelemetry/api';
import { Composer } from 'grammy';
import type { Message, Update } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBot, FEATURES } from '../src/bot/bot.js';
import type { BotContext, SessionData } from '../src/bot/context.js';
import { diagnoseCommand } from '../src/debug/commands.js';
import { type Diagnosis, diagnose } from '../src/debug/diagnosis.js';
import { englishReplies } from '../src/debug/reply-text.js';
import { parseSupportCode, shortCode } from '../src/debug/support-code.js';
import { TempoLokiSource } from '../src/debug/tempo-loki-source.js';
import { StoreError } from '../src/errors.js';
import { openStore } from '../src/store/index.js';
import { EVENT, INSTRUMENTATION_SCOPE } from '../src/telemetry/conventions.js';
import { createLogger } from '../src/telemetry/logger.js';
import { createPseudonymizer } from '../src/telemetry/pseudonym.js';
import { ALL_REASON_CODES } from '../src/telemetry/reason-codes.js';
import { encodeCallbackData } from '../src/ui/callback-data.js';
import type { SimulatedUser } from '../tools/telegram-stand-in/index.js';
import { type FakeTempoLoki, startFakeTempoLoki } from './support/fake-tempo-loki.js';
import {
  freshUserId,
  type Harness,
  startHarness,
  TEST_PSEUDONYM_KEY,
  TEST_TOKEN,
} from './support/harness.js';

/**
 * The proof of the 60-second promise: inject one fault per reason code (and the classic incidents), run the
 * real journey, take what the admin would have (the support code the user was shown, or the user's last
 * update when they saw none), and diagnose from telemetry alone: Tempo's and Loki's APIs, served from what
 * the bot exported. Each case must name the reason code and the failing stage. The table printed at the end
 * (share diagnosed, time per case) is the one in docs/runbook.md.
 */

interface FaultCase {
  name: string;
  reasonCode: string;
  failingStage: string | undefined;
  /** Also checked: the downstream line, when a downstream is involved. */
  downstream?: RegExp;
  whatUserDid?: RegExp;
  exitCode: 0 | 1;
  /** Runs the journey with the fault; resolves with what the admin is given (a code, or undefined: none shown). */
  run: (user: SimulatedUser) => Promise<string | undefined>;
}

/** Faults whose journeys have not landed: listed in the report, added when they land. */
const NOT_YET: Array<{ name: string; why: string }> = [
  {
    name: 'PASSIVE_REJECT: a standby instance answers',
    why: 'no standby instances yet: no code path produces it',
  },
  { name: 'RATE_LIMIT: a user sends too fast', why: 'no rate limiting yet: no code path produces it' },
  {
    name: 'DOWNSTREAM_TIMEOUT, PROVIDER_ERROR, INSUFFICIENT_FUNDS, BOT_BLOCKED: generation faults',
    why: 'generation landed with the suite; its failure paths are tested end to end (test/generation-*.test.ts), not yet diagnosed here',
  },
  {
    name: 'DUPLICATE_UPDATE: Telegram delivers an update again',
    why: 'the user saw one answer; nothing to diagnose from a support code',
  },
  {
    name: 'PAYMENT_MISMATCH, USER_BLOCKED, REFUND_REFUSED, PROMO_EXPIRED, PROMO_EXHAUSTED, PROMO_ALREADY_USED, PAYMENT_UNMATCHED',
    why: 'payment and promo refusals that need an admin set-up or a foreign invoice: not in the suite yet',
  },
];

const results: Array<{ name: string; diagnosed: boolean; ms: number; reason: string; stage: string }> = [];

describe('the diagnosability suite', () => {
  let h: Harness;
  let fake: FakeTempoLoki;
  let source: TempoLokiSource;
  const replyText = englishReplies();
  const pseudonymize = createPseudonymizer(TEST_PSEUDONYM_KEY);
  const live = (user: SimulatedUser) => h.standIn.lastMessage(user.id) as Message;
  const shownCode = (user: SimulatedUser) => /[0-9a-f]{32}/.exec(live(user)?.text ?? '')?.[0];

  beforeAll(async () => {
    h = await startHarness();
    fake = await startFakeTempoLoki({
      spans: () => h.otel.spans.getFinishedSpans(),
      logs: () => h.otel.logs.getFinishedLogRecords(),
    });
    source = new TempoLokiSource({ tempoUrl: fake.tempoUrl, lokiUrl: fake.lokiUrl });
  });
  afterAll(async () => {
    await fake?.stop();
    await h?.stop();
    const diagnosed = results.filter((r) => r.diagnosed).length;
    const table = [
      `diagnosed ${diagnosed}/${results.length} (${Math.round((diagnosed / Math.max(results.length, 1)) * 100)}%) from Tempo + Loki alone`,
      ...results.map(
        (r) =>
          `${r.diagnosed ? '✓' : '✗'} ${String(Math.round(r.ms)).padStart(4)} ms  ${r.reason.padEnd(18)} ${r.stage.padEnd(40)} ${r.name}`,
      ),
      ...NOT_YET.map((n) => `- skipped: ${n.name} (${n.why})`),
    ];
    console.log(table.join('\n'));
  });

  async function userOnForm(): Promise<SimulatedUser> {
    const user = h.standIn.user({ id: freshUserId(), first_name: 'Fay', language_code: 'en' });
    await h.act(() => user.sendCommand('/start'));
    await h.act(() => user.press(live(user), '🖼 Images'));
    await h.act(() => user.press(live(user), 'Flux Pro · 4 cr'));
    await h.act(() => user.press(live(user), '⚙️ Set parameters'));
    return user;
  }

  const cases: FaultCase[] = [
    {
      name: 'the button does nothing: a button on an old message',
      reasonCode: 'STATE_MISMATCH',
      failingStage: 'received',
      exitCode: 1,
      run: async (user) => {
        await h.act(() => user.sendCommand('/start'));
        const [old] = h.standIn.messages(user.id);
        await h.act(() =>
          user.pressData(old as Message, encodeCallbackData('MAIN_MENU', 'CATEGORY', ['video'])),
        );
        return undefined;
      },
    },
    {
      name: 'forged callback data',
      reasonCode: 'UNKNOWN_ACTION',
      failingStage: 'received',
      exitCode: 1,
      run: async (user) => {
        await h.act(() => user.pressData(live(user), '1.zz.drop table'));
        return undefined;
      },
    },
    {
      name: 'a button on a message older than 48 hours',
      reasonCode: 'EXPIRED_MESSAGE',
      failingStage: 'received',
      exitCode: 1,
      run: async (user) => {
        h.standIn.setMessageDate(user.id, live(user).message_id, Math.floor(Date.now() / 1000) - 49 * 3600);
        await h.act(() => user.press(live(user), '⬅️ Back'));
        return undefined;
      },
    },
    {
      name: 'a prompt longer than the model allows',
      reasonCode: 'VALIDATION_FAILED',
      failingStage: 'handler params',
      exitCode: 1,
      run: async (user) => {
        await h.act(() => user.sendText('x'.repeat(1001)));
        return undefined;
      },
    },
    {
      name: 'text outside a form',
      reasonCode: 'NOOP',
      failingStage: 'handler fallback',
      exitCode: 0,
      run: async (user) => {
        await h.act(() => user.sendCommand('/start'));
        await h.act(() => user.sendText('hello?'));
        return undefined;
      },
    },
    {
      name: 'Telegram fails while a screen is drawn',
      reasonCode: 'INTERNAL_ERROR',
      failingStage: 'stage render › botapi editMessageText',
      downstream: /^Telegram Bot API editMessageText → 400: Bad Request: message to edit not found$/,
      exitCode: 1,
      run: async (user) => {
        // A refusal that is not retried (a 5xx would be, and then succeed).
        h.standIn.failNext('editMessageText', {
          error_code: 400,
          description: 'Bad Request: message to edit not found',
        });
        await h.act(() => user.press(live(user), '16:9'));
        return shownCode(user);
      },
    },
    {
      name: 'the Bot API answers 429 (flood control)',
      reasonCode: 'INTERNAL_ERROR',
      failingStage: 'stage render › botapi sendMessage',
      downstream:
        /^Telegram Bot API sendMessage → 429: Too Many Requests: retry after 30 \(retry after 30 s\)$/,
      exitCode: 1,
      run: async (user) => {
        h.standIn.failNext('sendMessage', {
          error_code: 429,
          description: 'Too Many Requests: retry after 30',
          retry_after: 30,
        });
        await h.act(() => user.sendCommand('/help'));
        return shownCode(user);
      },
    },
    {
      name: 'the bot is silent: the user blocked it (403), even the apology fails',
      reasonCode: 'INTERNAL_ERROR',
      failingStage: 'stage render › botapi sendMessage',
      downstream: /^Telegram Bot API sendMessage → 403: Forbidden: bot was blocked by the user$/,
      exitCode: 1,
      run: async (user) => {
        h.standIn.failNext(
          'sendMessage',
          { error_code: 403, description: 'Forbidden: bot was blocked by the user' },
          2,
        );
        await h.act(() => user.sendCommand('/start'));
        return undefined;
      },
    },
    {
      name: 'a non-admin sends /debug',
      reasonCode: 'FORBIDDEN',
      failingStage: 'handler debug',
      exitCode: 1,
      run: async (user) => {
        await h.act(() => user.sendCommand('/debug'));
        return undefined;
      },
    },
    {
      name: 'I paid but have no credits: the ledger write fails',
      reasonCode: 'DB_ERROR',
      failingStage: 'handler payments',
      whatUserDid: /^paid 50 ⭐ for package s50$/,
      exitCode: 1,
      run: async (user) => {
        await h.act(() => user.sendCommand('/start'));
        await h.act(() => user.press(live(user), '💰 Balance'));
        await h.act(() => user.press(live(user), '50 ⭐ → 50 credits'));
        const invoice = h.standIn.messages(user.id).findLast((m) => m.invoice !== undefined) as Message;
        const ledger = h.app.store.ledger;
        const credit = ledger.creditPayment;
        // Down for longer than the bot's retries (~4 s): the payment ends uncredited and alerted.
        ledger.creditPayment = async () => {
          throw new StoreError('ledger write failed', { detail: 'ECONNRESET' });
        };
        try {
          const both = h.waitForOutcomes(2, 20_000);
          await user.pay(invoice);
          await both;
        } finally {
          ledger.creditPayment = credit;
        }
        return shownCode(user);
      },
    },
    {
      name: 'the same payment delivered twice',
      reasonCode: 'DUPLICATE_PAYMENT',
      failingStage: 'handler payments',
      exitCode: 0,
      run: async (user) => {
        await h.act(() => user.sendCommand('/start'));
        await h.act(() => user.press(live(user), '💰 Balance'));
        await h.act(() => user.press(live(user), '50 ⭐ → 50 credits'));
        const invoice = h.standIn.messages(user.id).findLast((m) => m.invoice !== undefined) as Message;
        const both = h.waitForOutcomes(2);
        await user.pay(invoice);
        await both;
        const paid = h.standIn.updates.findLast(
          (u) => u.message?.successful_payment && u.message.chat.id === user.id,
        );
        await h.act(async () => h.standIn.redeliver(paid as Update));
        return undefined;
      },
    },
    {
      name: 'a forged top-up button naming no package',
      reasonCode: 'UNKNOWN_PACKAGE',
      failingStage: 'handler payments',
      exitCode: 1,
      run: async (user) => {
        await h.act(() => user.sendCommand('/start'));
        await h.act(() => user.press(live(user), '💰 Balance'));
        await h.act(() => user.pressData(live(user), encodeCallbackData('BALANCE', 'TOPUP', ['s999'])));
        return undefined;
      },
    },
    {
      name: 'a promo code that does not exist',
      reasonCode: 'PROMO_UNKNOWN',
      failingStage: 'handler payments',
      exitCode: 1,
      run: async (user) => {
        await h.act(() => user.sendCommand('/promo NOSUCHCODE'));
        return undefined;
      },
    },
    // Last: the database stays down for the rest of this harness.
    {
      name: 'the database goes down mid-journey',
      reasonCode: 'DB_ERROR',
      // The first store call of an update is its id's claim (redelivery deduplication).
      failingStage: 'INSERT processed_updates',
      downstream: /^store \(pglite\) INSERT processed_updates → /,
      exitCode: 1,
      run: async (user) => {
        await h.app.store.close();
        await h.act(() => user.press(live(user), '16:9'));
        return shownCode(user);
      },
    },
  ];

  test.each(cases)('$reasonCode: $name', async (c) => {
    const user = await userOnForm();
    const given = await c.run(user);
    const started = performance.now();
    // What the admin has: the quoted code (its short form), else the user's last update (/debug user, replay).
    let code = given === undefined ? undefined : shortCode(given);
    if (code === undefined) {
      const session = await source.userTraces(pseudonymize(user.id), Date.now() - 3_600_000, 50);
      expect(session.status).toBe('found');
      const last = session.status === 'found' ? session.traces.at(-1) : undefined;
      code = last && shortCode(last.traceId);
    }
    const lookup = await source.find(parseSupportCode(code ?? '') ?? { kind: 'cid', cid: '-' });
    expect(lookup.status).toBe('found');
    const d: Diagnosis | undefined =
      lookup.status === 'found' ? diagnose(lookup.trace, { replyText }) : undefined;
    const ms = performance.now() - started;
    const diagnosed = d?.reasonCode === c.reasonCode && d?.failingStage === c.failingStage;
    results.push({
      name: c.name,
      diagnosed,
      ms,
      reason: d?.reasonCode ?? '?',
      stage: d?.failingStage ?? '—',
    });

    expect(d?.reasonCode).toBe(c.reasonCode);
    expect(d?.failingStage).toBe(c.failingStage);
    if (c.downstream) expect(d?.downstream).toMatch(c.downstream);
    if (c.whatUserDid) expect(d?.whatUserDid).toMatch(c.whatUserDid);
    expect(d?.nextStep).toBeTruthy();
    expect(ms).toBeLessThan(60_000);
    // The command an admin types agrees, exit status included.
    const command = await diagnoseCommand(code, source, { replyText });
    expect(command.exitCode).toBe(c.exitCode);
    expect(command.stdout).toContain(c.reasonCode);
  });

  test('a handler that forgets to record an outcome is found from the SILENT_UPDATE alert line alone', async () => {
    // Middleware outside the features that replies and records nothing: what the run-time guard is for.
    const forgetful = new Composer<BotContext>();
    forgetful.command('forgetful', (ctx) => ctx.reply('done, I think'));
    const store = await openStore({ dataDir: 'memory://' });
    const lines: Array<Record<string, unknown>> = [];
    const bot = createBot(
      {
        token: TEST_TOKEN,
        apiRoot: h.standIn.apiRoot,
        sessions: store.sessions<SessionData>(),
        telemetry: {
          logger: createLogger({
            level: 'info',
            destination: { write: (l: string) => void lines.push(JSON.parse(l)) },
            otelLogger: logs.getLogger(INSTRUMENTATION_SCOPE),
          }),
          metrics: h.otel.telemetry.metrics,
          pseudonymize,
        },
        money: {
          db: store.db,
          ledger: store.ledger,
          users: store.users,
          promoCodes: store.promoCodes,
          referralBonus: 0,
        },
        generation: {
          create: () => Promise.reject(new Error('this test places no orders')),
          history: () => Promise.reject(new Error('this test places no orders')),
          jobOf: () => Promise.reject(new Error('this test places no orders')),
        },
      },
      [forgetful, ...FEATURES],
    );
    try {
      await bot.init();
      const user = h.standIn.user({ id: freshUserId(), first_name: 'Sil', language_code: 'en' });
      await bot.handleUpdate(await user.sendCommand('/forgetful'));
      const started = performance.now();
      // The alert: the SILENT_UPDATE line carries the cid.
      const alert = lines.find((l) => l.event === EVENT.SILENT_UPDATE);
      const lookup = await source.find({ kind: 'cid', cid: String(alert?.trace_id) });
      const d = lookup.status === 'found' ? diagnose(lookup.trace, { replyText }) : undefined;
      const ms = performance.now() - started;
      results.push({
        name: 'a handler that forgets to record an outcome',
        diagnosed: d?.reasonCode === 'NONE' && d?.failingStage === 'handler none',
        ms,
        reason: d?.reasonCode ?? '?',
        stage: d?.failingStage ?? '—',
      });
      expect(d).toMatchObject({
        outcome: 'silent',
        reasonCode: 'NONE',
        failingStage: 'handler none',
        failed: true,
      });
      expect(d?.nextStep).toMatch(/SILENT_UPDATE line names the handler/);
    } finally {
      await store.close();
    }
  });

  test('every reason code is either in the suite or listed as not produced yet', () => {
    const covered = new Set([...cases.map((c) => c.reasonCode), 'SUCCESS']);
    const pending = NOT_YET.flatMap((n) => n.name.match(/\b[A-Z][A-Z_]{3,}\b/g) ?? []);
    for (const code of ALL_REASON_CODES) expect(covered.has(code) || pending.includes(code)).toBe(true);
  });
});
