// Small formatting helpers the terminal and HTML renderers share: times in UTC, shares, counts.
import { groupDigits } from '../cli/format/number.js';

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** 2026-11-27 18:11 (UTC, to the minute). */
export function utcMinute(ms: number): string {
  const t = new Date(ms);
  return `${t.getUTCFullYear()}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())} ${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}`;
}

/** "12.3%" from a 0..1 share, "n/a" for null. */
export function percent(share: number | null): string {
  if (share === null) return 'n/a';
  const p = share * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

export const count = groupDigits;

/** "sasl 40, relay 3" (the kinds are in descending order already). */
export function kindList(kinds: Readonly<Record<string, number>>, max = 3): string {
  const e = Object.entries(kinds);
  const shown = e.slice(0, max).map(([k, n]) => `${k} ${count(n)}`);
  if (e.length > max) shown.push(`+${e.length - max} more`);
  return shown.join(', ');
}

/** "5m", "1h", "1d": a bucket size. */
export function stepName(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  return `${Math.round(ms / 60_000)}m`;
}

export { displayCidr } from '../cli/format/target-text.js';
