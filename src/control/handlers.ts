// What the daemon implements so the control server can answer. The server validates every
// request first (targets are parsed and masked), so handlers receive typed values only.
//
// Contract:
// - An expected problem (unknown jail, invalid config on reload) is thrown as a PbanError; its
//   code and message become the error reply. Anything else thrown becomes an "internal" error
//   reply and is passed to the server's onError; it never stops the daemon.
// - Handlers may be async. Requests from several clients can overlap, so a handler that awaits
//   must leave state consistent at every await.
// - stop() is called only after the "stopping" reply has been flushed to the client.
import type { Ban, MatchTrace, Target } from '../events.js';
import type { DaemonStatus, ReloadReply, VersionReply } from './types.js';

type MaybePromise<T> = T | Promise<T>;

/** A jail's fail2ban-style status, with targets still typed: the server renders them. */
export interface JailStatusData {
  readonly name: string;
  readonly filter: string;
  readonly sources: readonly string[];
  readonly currentlyFailed: number;
  readonly totalFailed: number;
  readonly totalBanned: number;
  /** Active bans' targets, in the order they were made; their count is "currently banned". */
  readonly banned: readonly Target[];
}

/** What `why` finds for a target: covering active bans and jails where it is failing. */
export interface WhyData {
  readonly bans: readonly { readonly ban: Ban; readonly lines: readonly MatchTrace[] }[];
  readonly failing: readonly { readonly jail: string; readonly failures: number; readonly lines: readonly MatchTrace[] }[];
}

export type UnbanSelector = { readonly targets: readonly Target[] } | { readonly all: true };

export interface ControlHandlers {
  status(): MaybePromise<DaemonStatus>;
  /** Throws ControlError code "jail.unknown" for a jail that does not exist. */
  jailStatus(jail: string): MaybePromise<JailStatusData>;
  /** Active bans, of one jail or all. An iterable so the daemon can stream from its store. */
  banned(jail?: string): MaybePromise<Iterable<Ban>>;
  /** timeMs: undefined = the jail's bantime, null = permanent. Returns the ban made (or the existing one, extended). */
  ban(jail: string, target: Target, timeMs: number | null | undefined): MaybePromise<Ban>;
  /** Lifts matching active bans (in one jail, or in every jail) and returns those lifted. */
  unban(which: UnbanSelector, jail?: string): MaybePromise<readonly Ban[]>;
  /** Every active ban covering the target (in any jail), and the jails where it is failing. */
  why(target: Target): MaybePromise<WhyData>;
  /** Throws a ConfigError for an invalid config; the old config keeps running. */
  reload(opts?: { liftRemoved?: boolean }): MaybePromise<ReloadReply>;
  /** Begins shutdown. Called after the reply is sent. */
  stop(): MaybePromise<void>;
  version(): MaybePromise<VersionReply>;
}
