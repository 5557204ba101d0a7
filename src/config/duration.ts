// Durations as an admin writes them: `90s`, `10m`, `1h30m`, `2d`, `1w`, a bare number of
// seconds (as fail2ban accepts), or -1 for "permanent". Always returned in milliseconds.

/** A parsed duration: milliseconds, or null for permanent. */
export type Duration = number | null;

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

// One `<number><unit>` term; a duration is one or more of them, optionally space-separated.
const TERM_RE = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/gy;

export const DURATION_HINT = 'expected e.g. 90s, 10m, 1h30m, 2d, 1w, or -1 for permanent';

/**
 * The longest duration accepted: 100 years. Anything longer is meant as "forever" (-1 says so),
 * and a bound keeps every ban end a valid date (JavaScript dates end at 8.64e15 ms) with room
 * for bantime increments capped at a maxtime of this size.
 */
export const MAX_DURATION_MS = 36_500 * 86_400_000;

function tooLong(value: unknown): { error: string } {
  return { error: `invalid duration ${typeof value === 'string' ? `"${value}"` : String(value)}: longer than the limit of ${formatDuration(MAX_DURATION_MS)} (100 years); use -1 for permanent` };
}

/**
 * Parses a duration value taken from TOML (a string, or a number of seconds).
 * Returns milliseconds, null for permanent (-1 or "-1"), or an error message.
 */
export function parseDuration(value: unknown): Duration | { error: string } {
  if (typeof value === 'number') {
    if (value === -1) return null;
    if (!Number.isFinite(value) || value <= 0) return { error: `invalid duration ${value} (${DURATION_HINT})` };
    if (value * 1000 > MAX_DURATION_MS) return tooLong(value);
    return Math.round(value * 1000);
  }
  if (typeof value !== 'string') return { error: `expected a duration, got ${describeType(value)} (${DURATION_HINT})` };
  const text = value.trim().toLowerCase();
  if (text === '-1') return null;
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    const seconds = Number(text);
    return seconds * 1000 > MAX_DURATION_MS ? tooLong(value) : parseDuration(seconds);
  }
  let total = 0;
  TERM_RE.lastIndex = 0;
  let consumed = 0;
  for (let m = TERM_RE.exec(text); m; m = TERM_RE.exec(text)) {
    const unit = UNIT_MS[m[2] ?? ''];
    if (unit === undefined) return { error: `invalid duration "${value}": unknown unit "${m[2]}" (${DURATION_HINT})` };
    total += Number(m[1]) * unit;
    consumed = TERM_RE.lastIndex;
  }
  if (text === '' || consumed !== text.length) return { error: `invalid duration "${value}" (${DURATION_HINT})` };
  if (total <= 0) return { error: `invalid duration "${value}": must be longer than zero (${DURATION_HINT})` };
  if (total > MAX_DURATION_MS) return tooLong(value);
  return Math.round(total);
}

/** Renders milliseconds compactly for messages and status output: 5400000 → "1h30m". */
export function formatDuration(ms: Duration): string {
  if (ms === null) return 'permanent';
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}

/** A short name for a value's TOML type, for "expected X, got Y" messages. */
export function describeType(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'object') return value instanceof Date ? 'a date' : 'a table';
  if (typeof value === 'number') return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === 'string') return `the string "${value}"`;
  return `a ${typeof value}`;
}
