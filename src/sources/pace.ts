// Sizes the slices of a backlog by the time they take, not by a fixed count of lines.
//
// Why: the daemon gives the event loop a turn between two batches, so the longest a `pban status`
// waits during a burst is about one batch. A fixed 1,000 lines is 1-3 ms once V8 has optimised
// the hot path, but 30-50 ms while it has not (the first burst after a start, or after a
// deoptimisation), and a slow firewall fork or a loaded machine stretches it further. Starting
// small and growing while batches stay fast keeps every slice near the target whatever the
// per-line cost is today, and costs nothing once the work is warm (slices reach the maximum
// within a few batches). Pure: the caller measures, this decides.

export interface PaceOptions {
  /** The time one batch should take. */
  readonly targetMs: number;
  readonly minLines: number;
  readonly maxLines: number;
}

export const PACE_DEFAULTS: PaceOptions = { targetMs: 10, minLines: 50, maxLines: 1000 };

export class Pace {
  private n: number;

  constructor(private readonly o: PaceOptions = PACE_DEFAULTS) {
    if (!(o.minLines >= 1 && o.maxLines >= o.minLines && o.targetMs > 0)) throw new RangeError('pace: need 1 <= minLines <= maxLines and targetMs > 0');
    this.n = o.minLines;
  }

  /** Lines the next batch should hold at most. */
  get lines(): number {
    return this.n;
  }

  /** A batch of `lines` lines took `ms`. */
  took(lines: number, ms: number): void {
    if (lines <= 0) return;
    const fits = ms > 0 ? Math.floor((lines * this.o.targetMs) / ms) : Infinity;
    if (ms > this.o.targetMs) {
      // Too slow: shrink to what would have fitted, however small the batch was.
      this.n = clamp(Math.min(this.n, fits), this.o.minLines, this.o.maxLines);
    } else if (lines * 2 >= this.n) {
      // Fast and full enough to say something: grow, at most doubling, so one lucky batch
      // cannot jump to a size the next cold path cannot meet. A trickle of short batches
      // (a quiet log) says nothing about capacity and leaves the size alone.
      this.n = clamp(Math.min(this.n * 2, fits), this.o.minLines, this.o.maxLines);
    }
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, x));
}
