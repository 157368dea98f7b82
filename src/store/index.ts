export type { Db, DbOperation, OwnedDb, Queryable, QueryMeta, QueryResult, StoreEngine } from './db.js';
export {
  type AuditMismatch,
  type Balance,
  type BonusInput,
  type BonusResult,
  type CreditResult,
  createLedger,
  ENTRY_KINDS,
  type EntryKind,
  LEDGER_RESULTS,
  type Ledger,
  type LedgerEntry,
  type LedgerOperation,
  type LedgerSample,
  type Payment,
  type PaymentInput,
  type ReserveInput,
  type ReserveResult,
  type SettleInput,
  type SettleResult,
  type StarsRefundInput,
  type StarsRefundResult,
} from './ledger.js';
export {
  type ConnectionLost,
  DEFAULT_QUERY_TIMEOUT_MS,
  type OpenStoreOptions,
  openStore,
  type Store,
  type StoreConnection,
  type StoreToOpen,
  storeToOpen,
} from './open-store.js';
export { type Claim, PROCESSED_UPDATE_RETENTION_HOURS, type ProcessedUpdates } from './processed-updates.js';
export {
  type NewPromoCode,
  normalisePromoCode,
  PROMO_CODE_PATTERN,
  type PromoCodes,
  type RedeemInput,
  type RedeemResult,
} from './promo.js';
export { type SessionStorage, sessionStorage } from './sessions.js';
export { REFERRAL_CODE_PATTERN, type StartInput, type StartResult, type Users } from './users.js';
