// The normalised configuration: every default applied, every duration in milliseconds,
// every address masked. Nothing downstream re-reads the TOML.
import type { Target } from '../events.js';
import type { JailPolicy } from '../engine/policy.js';
import type { MetricsConfig } from '../metrics/server.js';
import type { IgnoreCommandSpec } from '../ignore/command-spec.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How the daemon writes its log: one JSON object per line, or one readable line per record. */
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const PROTOCOLS = ['tcp', 'udp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface DaemonConfig {
  /** SQLite file (absolute; relative paths in the file are taken from the config's directory). */
  readonly database: string;
  /** Control socket path (absolute, like database). */
  readonly socket: string;
  readonly loglevel: LogLevel;
  /** undefined: text on a terminal, JSON otherwise. */
  readonly logformat: LogFormat | undefined;
  /** Where /metrics is served, or null (the default: not served). */
  readonly metrics: MetricsConfig | null;
  /** IANA zone for log lines without one; undefined means the system's zone. */
  readonly timezone: string | undefined;
  /** How often each action compares the kernel's bans with pban's and repairs a difference (ms). */
  readonly checkInterval: number;
  /** Where `filter = "fail2ban:NAME"` finds NAME.conf (absolute). */
  readonly fail2banFilterDir: string;
}

/**
 * Ports a ban blocks: "all" blocks the address entirely; otherwise port numbers
 * ("25"), ranges ("8000-8080") or service names from /etc/services ("submission").
 */
export type Ports = 'all' | readonly string[];

export interface JailConfig {
  readonly name: string;
  readonly enabled: boolean;
  /**
   * "bans": the jail reads no log and counts the bans of the other jails (recidive.ts); its
   * filter is "bans" and it has no logpath or journal. Left out: it reads logs.
   */
  readonly source?: 'bans';
  /** The filter reference as written: `postfix[mode=aggressive]` or a path. */
  readonly filter: string;
  /** Files or globs to follow (absolute). Empty when the jail reads only the journal. */
  readonly logpath: readonly string[];
  /** The systemd journal entries this jail reads, or null (files only). A jail has logpath, journal, or both. */
  readonly journal: JailJournal | null;
  /** Action names in order, e.g. ["nftables"]. */
  readonly actions: readonly string[];
  readonly ports: Ports;
  readonly protocol: Protocol;
  readonly policy: JailPolicy;
  /** `ignorecommand`: asked before a failure counts; null when the jail has none. */
  readonly ignoreCommand: IgnoreCommandSpec | null;
}

/** What a jail reads from the systemd journal (`journalmatch`, `journal_directory`). */
export interface JailJournal {
  /** journalctl matches, in order: `FIELD=value`, or "+" (OR) between two of them. Never empty. */
  readonly matches: readonly string[];
  /** A journal directory (absolute) instead of the system journal (journalctl --directory). */
  readonly directory: string | undefined;
}

export interface PbanConfig {
  /** The file it was read from, for messages. */
  readonly file: string;
  readonly pban: DaemonConfig;
  /** In file order, disabled ones included (enabled: false). */
  readonly jails: readonly JailConfig[];
}

export interface LoadOptions {
  /** Returns an error message when the filter reference cannot be used, else undefined. */
  checkFilter?(spec: string): string | undefined;
  /** Returns an error message when the action name is unknown, else undefined. */
  checkAction?(name: string): string | undefined;
  /**
   * Builds an enabled jail with each stage's own rules (src/runtime.ts); a problem is reported
   * at the line of the key it names. When given, checkFilter and checkAction are not called.
   */
  buildJail?(jail: JailConfig, pban: DaemonConfig): JailProblem | undefined;
  /** The machine's own addresses for `ignoreself` (tests pass fixed ones). Default: its interfaces now. */
  selfAddresses?(): readonly Target[];
}

/** What a stage refused in a jail, and which key of the jail caused it. */
export type JailProblem =
  | { readonly key: 'filter'; readonly message: string }
  | { readonly key: 'action'; /** Which action of the jail's list. */ readonly index: number; readonly message: string };
