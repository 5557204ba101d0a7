// Lifts bans at expiry with one timer armed for the earliest `until`, never a polling loop.
// The owner re-arms it whenever the earliest expiry may have changed (a ban added or lifted).
import type { Clock } from '../clock.js';

/** setTimeout's delay is a signed 32-bit number of ms; longer delays fire at once. */
const MAX_DELAY = 2 ** 31 - 1;

export class ExpiryTimer {
  private handle: NodeJS.Timeout | undefined;
  private armedFor: number | null = null;

  constructor(
    private readonly clock: Clock,
    /** Called when the armed time is reached; the owner lifts what is due and re-arms. */
    private readonly onDue: (now: number) => void,
  ) {}

  /** Arms the timer for `at` (ms epoch), or disarms it when there is nothing to expire. */
  arm(at: number | null): void {
    if (at === this.armedFor && this.handle !== undefined) return;
    this.disarm();
    if (at === null) return;
    this.armedFor = at;
    const delay = Math.max(0, at - this.clock.now());
    // A far expiry (a week-long ban) is reached in hops, so the delay never overflows.
    this.handle = setTimeout(() => {
      this.handle = undefined;
      this.armedFor = null;
      const now = this.clock.now();
      if (now >= at) this.onDue(now);
      else this.arm(at);
    }, Math.min(delay, MAX_DELAY));
    this.handle.unref();
  }

  disarm(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    this.armedFor = null;
  }

  /** The time the timer is armed for, or null. */
  get next(): number | null {
    return this.armedFor;
  }
}
