// The store: SQLite (better-sqlite3, WAL) holding failures in the window, bans and their
// history, and source positions. better-sqlite3 is imported nowhere else.
//
//   const store = openStore(path);                       // creates + migrates, WAL mode
//   const snap = store.loadJail(policy.name, { findtime: policy.findtime, remember: policy.increment.remember });
//   const jail = Jail.restore(policy, snap);              // engine state ← store
//   ...observe failures...
//   store.commit({ jails: jails.map((j) => j.takeChanges()), positions });   // one transaction
//   // then run the actions for the bans/lifts that were in those changes
//
// Window clearing is stored, not applied by deletes: each ban row carries clear_seq, and a
// failure row with seq ≤ clear_seq of its address (or network) no longer counts for it.
// Failures leave the table by a seq-range delete (pruneBelowSeq) in the same transaction.
export { openStore, peekStoreId, Store, DATABASE_SUFFIXES, type OpenStoreOptions } from './store.js';
export { MIGRATIONS, SCHEMA_VERSION, migrate, type Migration } from './schema.js';
export type {
  CommitBatch,
  JailTotals,
  StoredBan,
  StoredSnapshot,
  StoreFailureColumns,
  StoreJailChanges,
  StoreLift,
  StoreRecordedBan,
} from './records.js';
export {
  openStateStore, prepareStateDir, readMarker, writeMarker, markerPath, rescuePath,
  type OpenStateOptions, type OpenedState, type StateNote, type StoreMarker,
} from './state.js';
