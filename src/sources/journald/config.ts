// Options of the journald source, and how its journal cursor is kept in a SourcePosition.
import type { SourcePosition } from '../../events.js';
import type { Logger } from '../../log.js';

/** Registration name of this source kind. */
export const JOURNAL_SOURCE = 'journal';

/**
 * SourcePosition was made for files. A journal position is its cursor, stored as
 * `{ path: "journal", inode: 0, offset: 0, firstLineHash: CURSOR }`: the store keeps positions
 * as they are, and a cursor is an opaque string like a hash. `firstLineHash` '' means "no entry
 * read yet".
 */
export const JOURNAL_POSITION_PATH = 'journal';

export function journalPosition(sourceId: string, cursor: string): SourcePosition {
  return { sourceId, path: JOURNAL_POSITION_PATH, inode: 0, offset: 0, firstLineHash: cursor };
}

/** The cursor held by a journal position, or null when it is not one (or holds none). */
export function cursorOf(p: SourcePosition | null | undefined): string | null {
  if (!p || p.path !== JOURNAL_POSITION_PATH || p.firstLineHash === '') return null;
  return p.firstLineHash;
}

/**
 * Where to begin when there is no stored cursor.
 * - `end`: entries written from now on (the cursor of the newest matching entry is fixed at start).
 * - `{ sinceMs }`: entries from that time on (the daemon passes now - findtime, as fail2ban does).
 * - `beginning`: the whole journal.
 */
export type JournalStart = 'end' | 'beginning' | { readonly sinceMs: number };

export interface JournalSourceOptions {
  /** Stable id stamped on every line and position; one position per sourceId. */
  readonly sourceId: string;
  /** journalctl matches: `FIELD=value` or `+` (OR), as on journalctl's command line. Empty: every entry. */
  readonly matches: readonly string[];
  /** Read this journal directory (`--directory`) instead of the system journal. */
  readonly directory?: string;
  /** Read these journal files (`--file`, globs allowed) instead of the system journal. */
  readonly files?: readonly string[];
  /** A position committed by an earlier run; resumed with `--after-cursor`. */
  readonly position?: SourcePosition | null;
  /** Default `end`. */
  readonly start?: JournalStart;
  /** The program to run; default `journalctl` (from PATH). */
  readonly journalctl?: string;
  /** Entries whose line is longer are dropped and counted (stats.oversizedLines). Default 64 KiB. */
  readonly maxLineBytes?: number;
  /** First pause before journalctl is run again after it exited; doubles up to restartMaxMs. Default 1000 ms. */
  readonly restartMinMs?: number;
  /** Default 30 s. */
  readonly restartMaxMs?: number;
  readonly logger?: Logger;
}

export const JOURNAL_SOURCE_DEFAULTS = {
  start: 'end' as JournalStart,
  journalctl: 'journalctl',
  maxLineBytes: 64 * 1024,
  restartMinMs: 1000,
  restartMaxMs: 30_000,
};

/** Journal field names: uppercase letters, digits and "_", not starting with a digit, at most 64. */
const MATCH_RE = /^[A-Z_][A-Z0-9_]{0,63}=/;

/** Why a journalctl match is not acceptable, or undefined when it is. */
export function checkJournalMatch(m: string): string | undefined {
  if (m === '+') return undefined;
  if (!MATCH_RE.test(m)) return `invalid journal match "${m}" (expected FIELD=value with FIELD in capitals, e.g. "_SYSTEMD_UNIT=postfix@-.service", or "+" for OR)`;
  if (/[\n\0]/.test(m)) return `invalid journal match ${JSON.stringify(m)} (no newline or NUL allowed)`;
  return undefined;
}

/** Why a whole match list is not acceptable ("+" must stand between matches). */
export function checkJournalMatches(ms: readonly string[]): { index: number; error: string } | undefined {
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i]!;
    const e = checkJournalMatch(m);
    if (e !== undefined) return { index: i, error: e };
    if (m === '+' && (i === 0 || i === ms.length - 1 || ms[i - 1] === '+')) {
      return { index: i, error: '"+" (OR) must stand between two matches' };
    }
  }
  return undefined;
}
