// A progress line for long offline runs (`pban replay`, `pban test-filter`) on stderr:
//
//    42% [############.................]  1,234,567 lines  812,345 lines/s  ETA 0:03
//
// Only for a person watching: stderr must be a terminal, the output must not be --json, and
// nothing else may be writing lines to the same terminal meanwhile. Redrawn in place (\r) at
// most every 100 ms and erased at the end, so it never stays in what the command printed. The
// runs it reports on are synchronous loops, so it is driven by their chunks, not by a timer.
import { fstatSync } from 'node:fs';
import { groupDigits } from './number.js';

export interface ProgressContext {
  readonly stderrIsTTY: boolean;
  /** --json: output for programs, never decorated. */
  readonly json: boolean;
  /** The command prints lines to a terminal stdout while it runs (--print-matched on a tty). */
  readonly stdoutLive: boolean;
  /** $TERM: "dumb" cannot go back to the start of the line. */
  readonly term: string | undefined;
}

/** The one decision: is there a person at a terminal who wants a progress line? */
export function progressWanted(c: ProgressContext): boolean {
  return c.stderrIsTTY && !c.json && !c.stdoutLive && c.term !== 'dumb';
}

export interface ProgressState {
  readonly lines: number;
  readonly bytes: number;
  /** Bytes the run will read in all, when known (regular files); null for stdin. */
  readonly totalBytes: number | null;
  readonly elapsedMs: number;
}

/** m:ss or h:mm:ss. */
export function formatEta(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(n / (1024 * 1024 * 1024)).toFixed(2)} GiB`;
}

/** Rates are not shown before this: the first chunk says little about the speed. */
const SETTLE_MS = 250;

/** One progress line that fits in `columns` (no \r, no newline). */
export function renderProgress(s: ProgressState, columns = 80): string {
  const settled = s.elapsedMs >= SETTLE_MS;
  const rate = settled ? Math.round((s.lines * 1000) / s.elapsedMs) : null;
  const counts = `${groupDigits(s.lines)} lines  ${rate === null ? '-' : groupDigits(rate)} lines/s`;
  if (s.totalBytes === null || s.totalBytes <= 0) {
    return fit(`${counts}  ${formatBytes(s.bytes)} read`, columns);
  }
  const fraction = Math.min(1, s.bytes / s.totalBytes);
  const pct = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  let eta = 'ETA -:--';
  if (settled && s.bytes > 0) eta = `ETA ${formatEta(((s.totalBytes - s.bytes) * s.elapsedMs) / s.bytes)}`;
  const tail = `  ${counts}  ${eta}`;
  // The bar takes what is left of the line, between 10 and 30 columns.
  const barWidth = Math.min(30, columns - 1 - pct.length - 3 - tail.length);
  if (barWidth < 10) return fit(`${pct}${tail}`, columns);
  const filled = Math.round(fraction * barWidth);
  return `${pct} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${tail}`;
}

/** Never wider than the terminal: a wrapped line cannot be redrawn with \r. */
function fit(line: string, columns: number): string {
  return line.length < columns ? line : line.slice(0, Math.max(0, columns - 1));
}

export interface ProgressStream {
  write(s: string): unknown;
  readonly columns?: number;
}

/** Draws renderProgress on a terminal as a run advances. */
export class ProgressLine {
  private readonly started: number;
  private last = -Infinity;
  private drawn = false;

  constructor(
    private readonly out: ProgressStream,
    private readonly totalBytes: number | null,
    private readonly now: () => number = () => performance.now(),
    private readonly everyMs = 100,
  ) {
    this.started = now();
  }

  /** Called as the run goes (per chunk): redraws when the last drawing is old enough. */
  update(lines: number, bytes: number): void {
    const t = this.now();
    if (t - this.last < this.everyMs) return;
    this.last = t;
    this.drawn = true;
    this.out.write(`\r${renderProgress({ lines, bytes, totalBytes: this.totalBytes, elapsedMs: t - this.started }, this.out.columns || 80)}\x1b[K`);
  }

  /** Erases the line, so what the command prints next starts on a clean line. */
  done(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** The bytes to expect from a descriptor: its size for a regular file (also `< file` on stdin), else null. */
export function expectedBytes(fd: number): number | null {
  try {
    const st = fstatSync(fd);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}
