// Time buckets for the charts: a round step (1 min, 5 min, …, 1 day, 1 week) that cuts the
// period into at most the number of buckets asked for, aligned on the step in UTC.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = [MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY];

/** Buckets covering [lo, hi): the smallest round step giving at most `max` of them. */
export function pickBucket(lo: number, hi: number, max: number): { start: number; bucketMs: number; buckets: number } {
  const span = Math.max(1, hi - lo);
  let bucketMs = STEPS.find((s) => Math.ceil((span + (lo % s)) / s) <= max);
  // Longer than the steps go: whole weeks.
  if (bucketMs === undefined) bucketMs = Math.ceil(span / max / (7 * DAY) + 1) * 7 * DAY;
  const start = Math.floor(lo / bucketMs) * bucketMs;
  const buckets = Math.max(1, Math.ceil((hi - start) / bucketMs));
  return { start, bucketMs, buckets };
}
