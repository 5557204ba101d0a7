// The shapes the store reads and writes. They mirror src/engine/changes.ts structurally (the
// store does not import the engine): a jail's takeChanges() result can be passed to commit(),
// and loadJail()'s result to Jail.restore().
import type { Ban, LiftReason, SourcePosition } from '../events.js';

export interface StoreFailureColumns {
  readonly seq: readonly number[];
  readonly time: readonly number[];
  readonly address: readonly string[];
  readonly kind: readonly string[];
  /** The matched line and filter regex of each failure (undefined: not traced). */
  readonly line?: readonly (string | undefined)[];
  readonly regexId?: readonly string[];
  readonly regexIndex?: readonly number[];
}

export interface StoreRecordedBan extends Ban {
  readonly clearSeq: number;
  /** Failures whose lines are copied to the ban (see schema version 3). */
  readonly traceSeqs?: readonly number[];
}

export interface StoreLift {
  readonly ban: StoreRecordedBan;
  readonly reason: LiftReason;
  readonly time: number;
}

export interface StoreJailChanges {
  readonly jail: string;
  readonly clock: number | null;
  readonly seq: number;
  readonly totalFailed: number;
  readonly totalBanned: number;
  readonly failures: StoreFailureColumns;
  readonly pruneBelowSeq: number;
  readonly bans: readonly StoreRecordedBan[];
  readonly lifts: readonly StoreLift[];
}

/** One commit: every jail's changes and the source positions reached, all or nothing. */
export interface CommitBatch {
  readonly jails: readonly StoreJailChanges[];
  readonly positions?: readonly SourcePosition[];
}

/** A ban row as the CLI and daemon read it. */
export interface StoredBan extends StoreRecordedBan {
  readonly id: number;
  readonly active: boolean;
  readonly liftReason: LiftReason | null;
  readonly liftedAt: number | null;
}

export interface StoredSnapshot {
  readonly clock: number | null;
  readonly seq: number;
  readonly totalFailed: number;
  readonly totalBanned: number;
  readonly failures: { seq: number[]; time: number[]; address: string[]; kind: string[] };
  readonly bans: readonly StoredBan[];
}

export interface JailTotals {
  readonly jail: string;
  readonly clock: number | null;
  readonly totalFailed: number;
  readonly totalBanned: number;
  readonly activeBans: number;
  readonly storedFailures: number;
}
