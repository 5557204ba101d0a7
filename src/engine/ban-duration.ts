// How long the n-th ban of a target lasts. Pure arithmetic, shared by automatic and manual bans.
import type { IncrementPolicy } from './policy.js';

/**
 * The duration of the `banNumber`-th ban: base·factor^(n−1) capped at maxtime when the
 * increment is enabled, base otherwise. null (permanent) stays permanent; a duration that
 * overflows to a non-finite number without a cap also becomes permanent.
 */
export function banDuration(base: number | null, banNumber: number, inc: IncrementPolicy): number | null {
  if (base === null) return null;
  if (!inc.enabled) return base;
  let d = base * Math.pow(inc.factor, banNumber - 1);
  if (inc.maxtime !== null && d > inc.maxtime) d = inc.maxtime;
  return Number.isFinite(d) ? d : null;
}

/** `created + duration`, with a permanent or unrepresentable end as null. */
export function banEnd(created: number, duration: number | null): number | null {
  if (duration === null) return null;
  const until = created + duration;
  return until <= Number.MAX_SAFE_INTEGER ? until : null;
}
