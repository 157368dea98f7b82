import type { BotDeps } from '../../src/bot/bot.js';
import type { SessionData } from '../../src/bot/context.js';
import type { Store } from '../../src/store/index.js';

const noOrders = () => Promise.reject(new Error('a bot fed updates directly places no orders'));

/** What createBot takes from the store, for tests that build the bot themselves and place no orders. */
export function storeBotDeps(store: Store): Pick<BotDeps, 'sessions' | 'money' | 'generation'> {
  return {
    sessions: store.sessions<SessionData>(),
    money: {
      db: store.db,
      ledger: store.ledger,
      users: store.users,
      promoCodes: store.promoCodes,
      referralBonus: 0,
    },
    generation: { create: noOrders, history: noOrders, jobOf: noOrders },
  };
}
