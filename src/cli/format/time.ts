// Times and durations for people: "in 53m", "2h 5m ago", "never"; and the reverse, "2h" → ms.
// Pure functions: `now` is always passed in.
import { parseDuration as parseConfigDuration } from '../../config/duration.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;


/**
 * A compact duration with at most two units, rounded to the smaller one: 45s, 53m, 2h 5m, 3d 4h.
 * Rounded rather than truncated, so a 4-hour ban a few seconds old shows "4h", not "3h 59m".
 */
export function formatDuration(ms: number): string {
  const a = Math.abs(ms);
  if (Math.round(a / SECOND) < 60) return `${Math.round(a / SECOND)}s`;
  if (Math.round(a / MINUTE) < 60) return `${Math.round(a / MINUTE)}m`;
  const minutes = Math.round(a / MINUTE);
  if (minutes < 24 * 60) {
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return m ? `${h}h ${m}m` : `${h}h`;
  }
  const hours = Math.round(a / HOUR);
  const d = Math.floor(hours / 24);
  const h = hours % 24;
  return h ? `${d}d ${h}h` : `${d}d`;
}

/** "in 53m" for the future, "2h ago" for the past, "now" within a second. */
export function formatRelative(at: number, now: number): string {
  const d = at - now;
  if (Math.abs(d) < SECOND) return 'now';
  return d > 0 ? `in ${formatDuration(d)}` : `${formatDuration(d)} ago`;
}

/** When a ban ends: relative, or "never" for a permanent ban. */
export function formatExpiry(until: number | null, now: number): string {
  return until === null ? 'never' : formatRelative(until, now);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Local wall time, sortable: 2026-11-27 18:11:05. */
export function formatTimestamp(ms: number): string {
  const t = new Date(ms);
  return `${t.getFullYear()}-${pad2(t.getMonth() + 1)}-${pad2(t.getDate())} ${pad2(t.getHours())}:${pad2(t.getMinutes())}:${pad2(t.getSeconds())}`;
}

/**
 * Parses a ban duration as written on the command line: what a config file accepts (config's
 * parser does the work, so both agree on units), plus "permanent"/"never"/"forever", and whole
 * numbers only. Returns an error message for anything else.
 */
export function parseDuration(text: string): { ms: number | null } | { error: string } {
  const s = text.trim().toLowerCase();
  if (s === 'permanent' || s === 'never' || s === 'forever') return { ms: null };
  if (s.includes('.')) return { error: `invalid duration "${text}": whole numbers only` };
  const d = parseConfigDuration(s);
  return d !== null && typeof d === 'object' ? { error: d.error.replace(`"${s}"`, `"${text}"`) } : { ms: d };
}
