// What a jail hands to the store (JailChanges) and gets back from it at start (JailSnapshot).
// The store declares the same shapes on its side (src/store/records.ts): the two modules
// never import each other, the daemon passes one to the other.
import type { Ban, LiftReason, MatchTrace } from '../events.js';

/**
 * A ban together with the jail's failure counter at the moment it was made. The ban clears
 * its target's window: failures with seq ≤ clearSeq no longer count for that target. Storing
 * this number with the ban is how a ban's window clearing reaches the store in the same
 * transaction as the ban, without deleting rows one by one.
 */
export interface RecordedBan extends Ban {
  readonly clearSeq: number;
  /**
   * A ban made by observe() from traced failures: the matched lines behind it (the last
   * TRACE_LINES still in the jail's memory, oldest first) and their kinds. The store keeps the
   * lines with the ban; the actions get them. Absent on restored and manual bans.
   */
  readonly matches?: readonly MatchTrace[];
  readonly kinds?: readonly string[];
}

/** A ban that ended. `time` is when: the ban's `until` for an expiry, `now` otherwise. */
export interface Lift {
  readonly ban: RecordedBan;
  readonly reason: LiftReason;
  readonly time: number;
}

/** Counted failures as parallel columns (no object per failure); index i is one failure. */
export interface FailureColumns {
  /** Arrival number in this jail, strictly increasing. */
  readonly seq: number[];
  /** ms since the epoch, from the log line. */
  readonly time: number[];
  readonly address: string[];
  readonly kind: string[];
}

/** Everything a jail changed since the previous takeChanges(): commit it in one transaction. */
export interface JailChanges {
  readonly jail: string;
  /** Newest failure time seen (the jail's clock), null before the first failure. */
  readonly clock: number | null;
  /** Last seq handed out. */
  readonly seq: number;
  readonly totalFailed: number;
  readonly totalBanned: number;
  /** Failures newly counted in a window. */
  readonly failures: FailureColumns;
  /** Every stored failure with seq below this has left all windows and may be deleted. */
  readonly pruneBelowSeq: number;
  /** New bans, in decision order. */
  readonly bans: readonly RecordedBan[];
  /** Lifted bans (expired, manual, jail-removed), in the order they were lifted. */
  readonly lifts: readonly Lift[];
}

/** A stored ban, as the store returns it for a rebuild. */
export interface SnapshotBan extends RecordedBan {
  readonly active: boolean;
  /** Why a lifted ban ended: a "manual" lift resets the target's ban count. Left out: unknown. */
  readonly liftReason?: LiftReason | null;
}

/** What a jail needs to rebuild its windows, bans and history exactly. */
export interface JailSnapshot {
  readonly clock: number | null;
  readonly seq: number;
  readonly totalFailed: number;
  readonly totalBanned: number;
  /** Stored failures in seq order (kind decides whether a failure counts for its network). */
  readonly failures: FailureColumns;
  /** Active bans, plus past bans still needed for ban history or window clearing, oldest first. */
  readonly bans: readonly SnapshotBan[];
}
