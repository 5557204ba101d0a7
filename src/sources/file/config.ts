// Options of the file source, with the defaults an admin gets when the daemon does not override them.
import type { SourcePosition } from '../../events.js';
import type { Logger } from '../../log.js';

/** Registration name of this source kind. */
export const FILE_SOURCE = 'file';

/**
 * Where to begin a file that has no stored position and exists when following starts.
 * - `beginning`: read the backlog, as fail2ban does; the engine counts only failures younger
 *   than findtime (by the lines' own timestamps), so old lines cost time but trigger nothing stale.
 * - `end`: only lines written from now on.
 * Files that appear later (a new file after rotation, a new glob match) are always read from the
 * beginning: every line in them is new.
 */
export type StartAt = 'beginning' | 'end';

export interface FileSourceOptions {
  /** Stable id stamped on every line and position (e.g. "file"); positions are keyed by (sourceId, path). */
  readonly sourceId: string;
  /** Absolute paths or globs (`*`, `?`, `[...]` in any segment). Globs are re-expanded every poll. */
  readonly paths: readonly string[];
  /** Positions committed by an earlier run; each is matched to its file by `path`. */
  readonly positions?: readonly SourcePosition[];
  /** Default `beginning` (see StartAt). */
  readonly start?: StartAt;
  /** Safety-net poll and glob re-check period; inotify wakes the follower between polls. Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** Longer lines are dropped and counted (stats.oversizedLines). Default 64 KiB. */
  readonly maxLineBytes?: number;
  /** Upper bound of one read, hence of one batch: memory stays bounded under a flood. Default 1 MiB. */
  readonly maxBatchBytes?: number;
  /**
   * At most this many lines per batch (a read that holds more is handed over in several). The
   * consumer returns to the event loop between batches, so this bounds how long a backlog keeps
   * the control socket waiting. Default 1000.
   */
  readonly maxBatchLines?: number;
  readonly logger?: Logger;
}

export const FILE_SOURCE_DEFAULTS = {
  start: 'beginning' as StartAt,
  pollIntervalMs: 1000,
  maxLineBytes: 64 * 1024,
  maxBatchBytes: 1024 * 1024,
  // The cap: the daemon sizes batches below it by their time (sources/pace.ts). 1000 warm lines
  // take 1-3 ms to match, count and commit, large enough that the per-batch commit costs nothing
  // measurable (bench/startup.bench.ts).
  maxBatchLines: 1000,
};

/** Name suffixes of compressed rotations: they cannot be read as text, so never resumed from. */
export const COMPRESSED_SUFFIXES = ['.gz', '.bz2', '.xz', '.zst', '.lz4', '.lzma', '.Z', '.zip'];
