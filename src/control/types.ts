// Reply types of the control protocol, as they travel on the wire and as `--json` prints them.
// They are part of pban's stable interface (docs/cli.md): add fields, never rename or remove.
// Times are ms since the epoch; a target is always a CIDR string ("192.0.2.1/32", "2001:db8::/64").
import type { BanKind } from '../events.js';

/** Health of one action (firewall backend) of a jail. */
export interface ActionHealth {
  readonly name: string;
  /** False while the last command of this action failed. */
  readonly ok: boolean;
  /** One-line error of the last failure, null when ok. */
  readonly lastError: string | null;
  /** When the last failure happened (null if never). */
  readonly lastErrorAt: number | null;
}

/** Health of the database (the store), which every ban is committed to before it is applied. */
export interface StoreHealth {
  /** The database file. */
  readonly path: string;
  /** False while commits fail, or when the file at `path` is no longer the database pban has open. */
  readonly ok: boolean;
  /** One-line error, null when ok. */
  readonly lastError: string | null;
  /** When the current problem was first seen (null when ok). */
  readonly lastErrorAt: number | null;
}

export interface JailSummary {
  readonly name: string;
  readonly filter: string;
  /** Source ids: file paths, or "journal:…" for journald. */
  readonly sources: readonly string[];
  /** Addresses with failures in the current window. */
  readonly currentlyFailing: number;
  /** Failures counted since the daemon started. */
  readonly totalFailed: number;
  readonly currentlyBanned: { readonly addresses: number; readonly networks: number };
  /** Bans made since the daemon started. */
  readonly totalBanned: number;
  /**
   * Failures dated more than a minute after the wall clock (counted at the wall clock instead),
   * since the jail was started or reloaded: a sender's clock, a wrong `timezone`, or forged dates.
   * Absent from older daemons.
   */
  readonly futureDated?: number;
  readonly actions: readonly ActionHealth[];
}

/**
 * "starting": the socket is open but jails are still being restored from the store and their
 * bans re-applied (counts may be incomplete; other requests wait until it is done);
 * "running"; "stopping".
 */
export type DaemonState = 'starting' | 'running' | 'stopping';

export interface DaemonStatus {
  readonly version: string;
  readonly pid: number;
  readonly state: DaemonState;
  readonly startedAt: number;
  readonly uptimeMs: number;
  readonly linesRead: number;
  /** Lines read per second, averaged over the last minute. */
  readonly linesPerSecond: number;
  /** The daemon always sends it; optional only for replies of daemons that predate it. */
  readonly store?: StoreHealth;
  readonly jails: readonly JailSummary[];
  /** Whether pban protects as configured right now; `pban status` exits 3 when not. */
  readonly health: DaemonHealth;
}

export interface DaemonHealth {
  /** True when every source, action and the store work. */
  readonly ok: boolean;
  /** One line per thing that does not, e.g. `jail postfix: action nftables: <error>`. */
  readonly problems: readonly string[];
}

/** `pban status JAIL`: fail2ban's tree, with counts and the banned list. */
export interface JailStatus {
  readonly name: string;
  readonly filter: {
    readonly name: string;
    readonly currentlyFailed: number;
    readonly totalFailed: number;
    readonly sources: readonly string[];
  };
  readonly actions: {
    readonly currentlyBanned: number;
    readonly totalBanned: number;
    /** CIDR strings, in the order the bans were made. */
    readonly banned: readonly string[];
  };
}

/** One active ban, as `pban banned --json` lists it. */
export interface BannedEntry {
  readonly target: string;
  readonly jail: string;
  readonly kind: BanKind;
  readonly failures: number;
  readonly bannedAt: number;
  /** null: permanent. */
  readonly expiresAt: number | null;
  readonly banNumber: number;
}

export interface BanReply {
  readonly ban: BannedEntry;
}

export interface UnbanReply {
  readonly lifted: readonly BannedEntry[];
  /** Requested targets that had no active ban (never an error: unban is idempotent). */
  readonly notBanned: readonly string[];
}

/** One matched log line behind a ban or a failing address (attacker-controlled text). */
export interface TraceEntry {
  /** When the failure counted (ms). */
  readonly time: number;
  readonly kind: string;
  /** The filter regex's id and its index in the filter's active list. */
  readonly regex: string;
  readonly regexIndex: number;
  readonly line: string;
}

/** An active ban that covers the asked target, with what led to it. */
export interface WhyBan extends BannedEntry {
  /** Distinct kinds of `lines`. */
  readonly kinds: readonly string[];
  /** The kept lines behind the ban, oldest first (at most 10; none for a manual ban). */
  readonly lines: readonly TraceEntry[];
}

/** A jail where the asked address is failing (failures in its window) but not banned. */
export interface WhyFailing {
  readonly jail: string;
  /** Failures of the address in the jail's window now. */
  readonly failures: number;
  readonly lines: readonly TraceEntry[];
}

export interface WhyReply {
  /** The asked target, CIDR. */
  readonly target: string;
  /** Whether any active ban covers it. */
  readonly blocked: boolean;
  /** Widest network first. */
  readonly bans: readonly WhyBan[];
  readonly failing: readonly WhyFailing[];
}

export interface ReloadReply {
  readonly jails: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Bans lifted because their jail was removed. */
  readonly lifted: number;
  /** Jails no longer in the config that keep manual or permanent bans in force (retired-jails.ts). */
  readonly retired: readonly string[];
  /** Those bans, kept in force. */
  readonly kept: readonly BannedEntry[];
}

export interface StopReply {
  readonly stopping: true;
}

export interface VersionReply {
  readonly version: string;
  readonly protocol: number;
  readonly node: string;
  readonly pid: number;
}

/** What each command's success reply carries. `status` gives a JailStatus when asked for one jail. */
export interface CommandReplies {
  status: DaemonStatus | JailStatus;
  banned: readonly BannedEntry[];
  ban: BanReply;
  unban: UnbanReply;
  why: WhyReply;
  reload: ReloadReply;
  stop: StopReply;
  version: VersionReply;
}
