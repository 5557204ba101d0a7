// The plain data that flows between stages. This module imports nothing from src/:
// every stage depends on it, it depends on no stage.

/** IP family. */
export type Family = 4 | 6;

/**
 * A normalised address: IPv4 in four-part decimal, IPv6 in RFC 5952 form
 * (lowercase, compressed), IPv4-mapped IPv6 already turned into IPv4.
 * Only src/filters/address.ts mints these, so holding one proves validation happened.
 */
export type Address = string & { readonly __address: unique symbol };

/** One line read from a source, with where it ends so a restart can resume after it. */
export interface LogLine {
  readonly text: string;
  /** Stable id of the source (for a file: its configured path). */
  readonly sourceId: string;
  /** Byte offset just past this line's newline in the file it came from. */
  readonly end: number;
}

/** One matched log line: the unit every jail counts. */
export interface Failure {
  /** Milliseconds since the epoch (UTC), taken from the line itself. */
  readonly time: number;
  readonly ip: Address;
  readonly family: Family;
  /** Filter name, e.g. "postfix". */
  readonly filter: string;
  /** The `kind` label of the regex that matched (sasl, reject, relay, …). */
  readonly kind: string;
  /**
   * Whether it counts towards its network's window and distinct addresses (the filter's
   * [kinds] table decides; filters always set it). Left out: it does.
   */
  readonly network?: boolean;
  /**
   * The client's name as Postfix logged it before `[addr]` (`<HOST>`), when it is not empty
   * and not "unknown": verified by Postfix's forward lookup. Attacker-controlled text still:
   * allow-names.ts accepts only plain host names.
   */
  readonly client?: string;
  /** Named captures other than the host, e.g. { user: "alice" }. Attacker-controlled text. */
  readonly fields: Readonly<Record<string, string>>;
}

/** A ban target: an address (/32, /128) or a network, always held in masked CIDR form. */
export interface Target {
  /** Network address with host bits cleared (for /32 and /128 the address itself). */
  readonly addr: Address;
  readonly prefix: number;
  readonly family: Family;
}

/** Why a target is banned: its own failures, its network's failures, or an admin. */
export type BanKind = 'address' | 'network' | 'manual';

/** Why a ban ended. */
export type LiftReason = 'expired' | 'manual' | 'jail-removed';

/** How many matched lines are kept per target per jail (the store's trace ring, a ban's `matches`). */
export const TRACE_LINES = 10;

/**
 * One matched log line kept as evidence: why a target is failing or banned. The line is
 * attacker-controlled text: show it, never run it.
 */
export interface MatchTrace {
  /** When the failure counted (ms): the line's date, bounded by the wall clock. */
  readonly time: number;
  readonly jail: string;
  /** The kind of the regex that matched (sasl, reject, …). */
  readonly kind: string;
  /** The filter regex's id, and its index in the filter's active regex list. */
  readonly regexId: string;
  readonly regexIndex: number;
  readonly line: string;
}

/** A ban as decided by a jail or an admin. Times are ms since the epoch. */
export interface Ban {
  readonly target: Target;
  readonly jail: string;
  readonly kind: BanKind;
  readonly created: number;
  /** null means permanent. */
  readonly until: number | null;
  /** Failures in the window that triggered it (0 for a manual ban). */
  readonly failures: number;
  /** 1 for a first ban, n for the n-th remembered ban of this target in this jail. */
  readonly banNumber: number;
  /**
   * The kinds of the failures behind it (sasl, relay, …), in the order the jail first saw
   * them; absent for a manual ban and for one read back from the store.
   */
  readonly kinds?: readonly string[];
}

/**
 * A ban as it is handed to the actions when it is made: with what led to it. Bans re-applied
 * at start or reload carry no evidence (they are plain Bans).
 */
export interface BanEvidence {
  /** The matched lines behind the ban, oldest first, at most TRACE_LINES (empty for a manual ban). */
  readonly matches: readonly MatchTrace[];
}

/**
 * A Ban with its evidence: what the daemon passes to actions for a new ban. Its `kinds` (on Ban)
 * name every kind counted in the window; `matches` holds only the last lines.
 */
export type ExplainedBan = Ban & Partial<BanEvidence>;

/** The distinct kinds of some matched lines, in order of first appearance. */
export function kindsOf(matches: readonly MatchTrace[]): string[] {
  const out: string[] = [];
  for (const m of matches) if (!out.includes(m.kind)) out.push(m.kind);
  return out;
}

/** What a jail decides about one failure. */
export type Decision =
  | { readonly type: 'none'; readonly reason: 'counted' | 'ignored' | 'already-banned' }
  | { readonly type: 'ban'; readonly bans: readonly Ban[] };

/** Renders a target as CIDR, always with its prefix: 192.0.2.1/32, 2001:db8::/64. */
export function targetToString(t: Target): string {
  return `${t.addr}/${t.prefix}`;
}

/**
 * Where a file source stands, so a restart resumes exactly after the last committed line.
 * `firstLineHash` tells a rotated-away file from the one we read before.
 */
export interface SourcePosition {
  readonly sourceId: string;
  readonly path: string;
  readonly inode: number;
  readonly offset: number;
  readonly firstLineHash: string;
}
