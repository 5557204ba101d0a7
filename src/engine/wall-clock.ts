// How a jail's clock relates to the wall clock. The jail's clock is the lines' own time, which
// anyone who can write a line controls: one line dated next year would otherwise move the clock
// there, lift every ban at once and drop every real failure as "older than findtime" until that
// date, and the stored clock would carry the damage across restarts. So the wall clock bounds it:
//
// - A line dated after the wall clock counts at the wall clock. It was written before pban read
//   it, so the wall clock is the best bound on when it happened; counting it (rather than dropping
//   it) keeps a mis-dated sender, or a wrong `timezone`, from switching protection off.
// - One dated more than CLOCK_TOLERANCE_MS ahead is also counted as "future-dated" (pban status)
//   and logged, rate-limited: small skews between syslog senders are normal, hours are not.
// - When the wall clock is more than CLOCK_TOLERANCE_MS behind the jail's clock (the system clock
//   was stepped back, or a stored clock is ahead), the jail's clock is set back to the wall clock
//   and every window is emptied: failure times from both sides of the step cannot be compared.
//   Bans stay. Without this, every failure would count as late until the wall clock caught up.
//
// So a jail's clock never runs more than CLOCK_TOLERANCE_MS ahead of the wall clock.
// Pure: the caller passes the wall clock in.

/**
 * One minute: far above the skew of NTP-synchronised senders and the jitter of a clock that is
 * slewed (milliseconds), far below any useful findtime (fail2ban's default is 10 minutes), and
 * it bounds how early a ban can end or how late a real line can be because of a skewed clock.
 */
export const CLOCK_TOLERANCE_MS = 60_000;

/** Whether a line dated `time`, read when the wall clock said `wall`, is future-dated. */
export function isFutureDated(time: number, wall: number): boolean {
  return time > wall + CLOCK_TOLERANCE_MS;
}

/** Counters a jail keeps about its clock (since the jail was built). */
export interface ClockCounters {
  /** Failures dated more than CLOCK_TOLERANCE_MS after the wall clock (counted at the wall clock). */
  readonly futureDated: number;
  /** Times the wall clock was found more than CLOCK_TOLERANCE_MS behind the jail's clock. */
  readonly clockSetBack: number;
}

/** What to log about a jail's clock, with the counts since the previous record. */
export interface ClockNotice {
  readonly futureDated: number;
  readonly clockSetBack: number;
  readonly totalFutureDated: number;
}

/**
 * Turns a jail's clock counters into at most one log record per interval: a flood of
 * future-dated lines (an attack, or a sender with a wrong clock) yields one record a minute
 * with the count, not one record per line.
 */
export class ClockNoticeThrottle {
  private seen: ClockCounters = { futureDated: 0, clockSetBack: 0 };
  private lastAt = -Infinity;

  constructor(private readonly intervalMs = 60_000) {}

  /** Returns a record to log now, or null (nothing new, or one was logged less than an interval ago). */
  take(now: number, c: ClockCounters): ClockNotice | null {
    const future = c.futureDated - this.seen.futureDated;
    const back = c.clockSetBack - this.seen.clockSetBack;
    if ((future <= 0 && back <= 0) || now - this.lastAt < this.intervalMs) return null;
    this.seen = { futureDated: c.futureDated, clockSetBack: c.clockSetBack };
    this.lastAt = now;
    return { futureDated: future, clockSetBack: back, totalFutureDated: c.futureDated };
  }
}
