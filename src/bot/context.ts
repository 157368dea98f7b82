import type { I18nFlavor } from '@grammyjs/i18n';
import type { Context, SessionFlavor } from 'grammy';
import type { Category } from '../catalogue/models.js';
import type { Diagnostics } from '../debug/diagnostics.js';
import type { Generation } from '../generation/generation.js';
import type { HistoryEntry } from '../generation/job-store.js';
import type { Balance, Db, Ledger, PromoCodes, Users } from '../store/index.js';
import type { TelemetryFlavor } from '../telemetry/grammy/index.js';
import type { Action } from '../ui/callback-data.js';
import type { ScreenId } from '../ui/registry.js';

/** Per-chat state, kept in the store through grammY sessions. */
export interface SessionData {
  screen: ScreenId;
  /** The message that carries the live keyboard; buttons on any other message are stale. */
  liveMessageId: number | undefined;
  category: Category | undefined;
  model: string | undefined;
  options: Record<string, string>;
  prompt: string | undefined;
}

export function initialSession(): SessionData {
  return {
    screen: 'MAIN_MENU',
    liveMessageId: undefined,
    category: undefined,
    model: undefined,
    options: {},
    prompt: undefined,
  };
}

export interface ActionFlavor {
  /** The decoded button, set for callback queries whose data is valid and current. */
  action?: Action;
}

/** What the money journeys (balance, payments, referrals, promo codes) need, handed down by the app. */
export interface MoneyDeps {
  db: Db;
  ledger: Ledger;
  users: Users;
  promoCodes: PromoCodes;
  /** Credits for the referrer of each new user (REFERRAL_BONUS); 0 turns the bonus off. */
  referralBonus: number;
}

/** What the Balance screen shows, loaded by the handler that draws it (views are synchronous). */
export interface BalanceView {
  balance: Balance;
  referralLink: string | undefined;
  /** A line above the balance: the payment just received, the invoice just sent. */
  notice?: string | undefined;
}

export interface MoneyFlavor {
  money: MoneyDeps;
  balanceView?: BalanceView;
}

export interface AdminFlavor {
  /** ADMIN_IDS: who passes the admin gate (bot/admin-gate.ts). */
  adminIds: ReadonlySet<number>;
}

export interface DiagnosticsFlavor {
  /** What /debug reads; absent in bots built without it (then /debug is an unknown command). */
  diagnostics?: Diagnostics;
}

export interface GenerationFlavor {
  /** Places generation orders (reserve, create the job, enqueue) and reads History; handed down by the app. */
  generation: Pick<Generation, 'create' | 'history' | 'jobOf'>;
  /** What the History screen shows, loaded by the handler that draws it (views are synchronous). */
  historyView?: HistoryView;
}

export interface HistoryView {
  entries: HistoryEntry[];
  /** Counted from 0. */
  page: number;
  hasNext: boolean;
  /** The user's language: dates are written in it. */
  locale: string;
}

export type BotContext = Context &
  SessionFlavor<SessionData> &
  I18nFlavor &
  TelemetryFlavor &
  ActionFlavor &
  MoneyFlavor &
  AdminFlavor &
  DiagnosticsFlavor &
  GenerationFlavor;
