export type { Db, DbOperation, OwnedDb, Queryable, QueryMeta, QueryResult, StoreEngine } from './db.js';
export {
  DEFAULT_QUERY_TIMEOUT_MS,
  type OpenStoreOptions,
  openStore,
  type Store,
  type StoreToOpen,
  storeToOpen,
} from './open-store.js';
export { sessionStorage } from './sessions.js';
