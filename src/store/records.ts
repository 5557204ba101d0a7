// The shapes the store reads and writes. They mirror src/engine/changes.ts structurally (the
// store does not import the engine): a jail's takeChanges() result can be passed to commit(),
// and loadJail()'s result to Jail.restore().
import type { Ban, LiftReason, MatchTrace, SourcePosition } from '../events.js';

export interface StoreFailureColumns {
  readonly seq: readonly number[];
  readonly time: readonly number[];
  readonly address: readonly string[];
  readonly kind: readonly string[];
}

export interface StoreRecordedBan extends Ban {
  readonly clearSeq: number;
  /** The lines behind the ban, kept with it (schema version 3). */
  readonly matches?: readonly MatchTrace[];
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
