// Timestamps at the start of a log line. Pure: the caller passes `now` (for the year of
// BSD syslog dates) and the zone in which zone-less dates are written.

export type DateFormat = 'bsd-syslog' | 'rfc3339' | 'rfc5424' | 'iso-local' | 'tai64n' | 'fail2ban';

export interface ParsedDate {
  /** Milliseconds since the epoch, UTC. */
  readonly time: number;
  readonly format: DateFormat;
}

/**
 * Date.UTC for integer fields (month 0–11; a day, hour, … past its range carries over as it
 * does in Date.UTC), in plain arithmetic: Date.UTC is a call into the runtime, and it runs once per
 * matched line. Years 0–99 go to Date.UTC itself, which reads them as 1900–1999.
 */
export function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  if (!(year >= 100 && year <= 9999 && month >= 0 && month <= 11)) return Date.UTC(year, month, day, hour, minute, second, ms);
  // Days since 1970-01-01 of a proleptic Gregorian date, counted in 400-year eras
  // from March, so the leap day is the last day of its year.
  const m = month + 1;
  const y = m <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146_097 + doe - 719_468;
  return days * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

/** Turns a wall-clock time in one zone into epoch milliseconds. */
export interface Zone {
  readonly name: string;
  /** month 0–11. */
  toUtc(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number;
}

/** The zone the process runs in (TZ or /etc/localtime); honours POSIX TZ strings too. */
export const SYSTEM_ZONE: Zone = cachedZone(Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'local', (wall) => {
  const d = new Date(wall);
  const local = new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
  if (d.getUTCFullYear() < 100) local.setFullYear(d.getUTCFullYear());
  return wall - Math.floor(wall / 1000) * 1000 + local.getTime();
});

/**
 * Wraps a wall-clock → UTC conversion with a cache of the zone offset per quarter hour of
 * wall time: offsets change at most that often, and logs are read in order.
 */
function cachedZone(name: string, convert: (wallAsUtc: number) => number): Zone {
  const cache = new Map<number, number>();
  // The last quarter hour and its offset: consecutive lines nearly always share it.
  let lastKey = NaN;
  let lastOff = 0;
  return {
    name,
    toUtc: (y, mo, d, h, mi, s, ms) => {
      const wall = utcMs(y, mo, d, h, mi, s, ms);
      const key = Math.floor(wall / 900_000);
      if (key === lastKey) return wall - lastOff;
      let off = cache.get(key);
      if (off === undefined) {
        off = wall - convert(wall);
        if (cache.size > 4096) cache.clear();
        cache.set(key, off);
      }
      lastKey = key;
      lastOff = off;
      return wall - off;
    },
  };
}

/** An IANA zone such as Europe/Berlin; throws RangeError for an unknown name. */
export function ianaZone(name: string): Zone {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: name,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  // Offsets change at most every quarter hour, and logs are read in order, so a small
  // cache keyed by the quarter hour makes the Intl call rare.
  const cache = new Map<number, number>();
  const offsetAt = (utc: number): number => {
    const key = Math.floor(utc / 900_000);
    let off = cache.get(key);
    if (off === undefined) {
      const p: Record<string, number> = {};
      for (const part of fmt.formatToParts(new Date(key * 900_000))) {
        if (part.type !== 'literal') p[part.type] = Number(part.value);
      }
      off = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0) - key * 900_000;
      if (cache.size > 4096) cache.clear();
      cache.set(key, off);
    }
    return off;
  };
  return {
    name: fmt.resolvedOptions().timeZone,
    toUtc: (y, mo, d, h, mi, s, ms) => {
      const wall = utcMs(y, mo, d, h, mi, s, ms);
      const first = offsetAt(wall);
      const second = offsetAt(wall - first);
      return wall - second;
    },
  };
}

/** Resolves a configured zone name; undefined means the system's. */
export function resolveZone(name: string | undefined): Zone {
  if (name === undefined || name === '') return SYSTEM_ZONE;
  if (name === 'UTC' || name === 'Etc/UTC') return { name: 'UTC', toUtc: utcMs };
  return ianaZone(name);
}

// ---- scanning -----------------------------------------------------------------------
// One scanner serves two callers: the per-line pre-check only needs where the header ends
// (no allocation, no parsing), the matcher needs the fields. The fields go into this
// module-private scratch record, so the hot path allocates nothing.

const enum Kind {
  None = 0,
  Bsd = 1,
  Iso = 2,
  Rfc5424 = 3,
  Tai = 4,
}

const f = { kind: Kind.None, year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, ms: 0, offsetMin: 0, zoned: false, iso: false, tai: 0 };

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

function two(s: string, i: number): number {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

// Month names by their three character codes packed in one number: no string is built.
const MONTHS = new Map<number, number>(
  ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((m, i) => [
    (m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2),
    i,
  ]),
);

function monthOf(s: string, i: number): number {
  return MONTHS.get((s.charCodeAt(i) << 16) | (s.charCodeAt(i + 1) << 8) | s.charCodeAt(i + 2)) ?? -1;
}

/** `HH:MM:SS[.frac]` at i; returns the index after it or -1. */
function clock(s: string, i: number, end: number): number {
  const h = two(s, i);
  const m = two(s, i + 3);
  const sec = two(s, i + 6);
  if (h < 0 || m < 0 || sec < 0 || s.charCodeAt(i + 2) !== 58 || s.charCodeAt(i + 5) !== 58) return -1;
  if (h > 23 || m > 59 || sec > 60) return -1;
  f.hour = h;
  f.minute = m;
  f.second = sec === 60 ? 59 : sec;
  f.ms = 0;
  i += 8;
  if (i < end && (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44)) {
    i++;
    let n = 0;
    let scale = 100;
    while (i < end) {
      const d = digit(s, i);
      if (d < 0) break;
      n += d * scale;
      scale /= 10;
      i++;
    }
    f.ms = Math.floor(n);
  }
  return i;
}

function scanBsd(s: string, i: number, end: number): number {
  const mo = monthOf(s, i);
  if (mo < 0 || s.charCodeAt(i + 3) !== 32) return -1;
  i += 4;
  if (s.charCodeAt(i) === 32) i++;
  let day = digit(s, i);
  if (day < 0) return -1;
  i++;
  const d2 = digit(s, i);
  if (d2 >= 0) {
    day = day * 10 + d2;
    i++;
  }
  if (day < 1 || day > 31 || s.charCodeAt(i) !== 32) return -1;
  i = clock(s, i + 1, end);
  if (i < 0) return -1;
  f.kind = Kind.Bsd;
  f.month = mo;
  f.day = day;
  f.zoned = false;
  return i;
}

/** `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±HH:MM|±HHMM]`. */
function scanIso(s: string, i: number, end: number): number {
  const y1 = two(s, i);
  const y2 = two(s, i + 2);
  const mo = two(s, i + 5);
  const d = two(s, i + 8);
  if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31) return -1;
  if (s.charCodeAt(i + 4) !== 45 || s.charCodeAt(i + 7) !== 45) return -1;
  const sep = s.charCodeAt(i + 10);
  if (sep !== 84 && sep !== 32 && sep !== 116) return -1;
  const j = clock(s, i + 11, end);
  if (j < 0) return -1;
  f.year = y1 * 100 + y2;
  f.month = mo - 1;
  f.day = d;
  f.zoned = false;
  f.offsetMin = 0;
  i = j;
  const c = s.charCodeAt(i);
  if (c === 90 || c === 122) {
    f.zoned = true;
    i++;
  } else if (c === 43 || c === 45) {
    const oh = two(s, i + 1);
    let k = i + 3;
    if (s.charCodeAt(k) === 58) k++;
    const om = two(s, k);
    if (oh >= 0 && om >= 0 && oh < 24 && om < 60) {
      f.zoned = true;
      f.offsetMin = (c === 45 ? -1 : 1) * (oh * 60 + om);
      i = k + 2;
    }
  }
  f.kind = Kind.Iso;
  return i;
}

function scanTai(s: string, i: number): number {
  // @4000000000000000 + seconds (16 hex digits), then 8 hex digits of nanoseconds.
  if (s.slice(i + 1, i + 5) !== '4000') return -1;
  const hex = s.slice(i + 5, i + 25);
  if (!/^[0-9a-fA-F]{20}$/.test(hex)) return -1;
  f.tai = parseInt(hex.slice(0, 12), 16) * 1000 + Math.floor(parseInt(hex.slice(12), 16) / 1e6);
  f.kind = Kind.Tai;
  return i + 25;
}

/**
 * Recognises the timestamp that opens the line at `start`. Returns the index after the
 * timestamp and the spaces that follow it, or -1 when there is none.
 */
function scan(s: string, start: number, end: number): number {
  f.kind = Kind.None;
  if (end - start < 15) return -1;
  const c = s.charCodeAt(start);
  let i: number;
  if (c >= 65 && c <= 90) i = scanBsd(s, start, end);
  else if (c >= 48 && c <= 57) {
    i = scanIso(s, start, end);
  } else if (c === 60) {
    // RFC 5424: <PRI>1 TIMESTAMP …
    const gt = s.indexOf('>', start);
    if (gt < 0 || gt > start + 4 || s.charCodeAt(gt + 1) !== 49 || s.charCodeAt(gt + 2) !== 32) return -1;
    i = scanIso(s, gt + 3, end);
    if (i >= 0) f.kind = Kind.Rfc5424;
  } else if (c === 64) i = scanTai(s, start);
  else return -1;
  if (i < 0 || i >= end || s.charCodeAt(i) !== 32) {
    f.kind = Kind.None;
    return -1;
  }
  while (i < end && s.charCodeAt(i) === 32) i++;
  return i;
}

/**
 * Where the text after the opening timestamp begins (`start` if there is none). Runs on
 * every line, so it only checks the shape (separators at their places); parseDate
 * validates the fields of the few lines that match.
 */
export function dateHeaderEnd(s: string, start: number, end: number): number {
  if (end - start < 15) return start;
  const c = s.charCodeAt(start);
  let i: number;
  if (c >= 65 && c <= 90) {
    // Mmm dd hh:mm:ss, the day space-padded, zero-padded or not padded.
    if (s.charCodeAt(start + 3) !== 32) return start;
    i = start + 4;
    if (s.charCodeAt(i) === 32) i++;
    i++;
    if (s.charCodeAt(i) !== 32) i++;
    if (s.charCodeAt(i) !== 32 || s.charCodeAt(i + 3) !== 58 || s.charCodeAt(i + 6) !== 58) return start;
    i += 9;
    if (s.charCodeAt(i) === 46) i = s.indexOf(' ', i);
  } else if (c >= 48 && c <= 57) {
    // YYYY-MM-DD[T ]hh:mm:ss[.frac][zone]
    if (s.charCodeAt(start + 4) !== 45 || s.charCodeAt(start + 13) !== 58) return start;
    i = s.indexOf(' ', start + 19);
  } else if (c === 60 || c === 64) {
    const j = scan(s, start, end);
    return j < 0 ? start : j;
  } else return start;
  if (i < 0 || i >= end || s.charCodeAt(i) !== 32) return start;
  while (s.charCodeAt(i) === 32) i++;
  return i;
}

const DAY_MS = 86_400_000;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month !== 1) return MONTH_DAYS[month] ?? 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

let last: { key: number; zone: Zone | null; now: number; result: ParsedDate | null } = { key: -1, zone: null, now: 0, result: null };

/** The year a BSD date (fields in `f`) most likely has. */
function bsdDate(zone: Zone, now: number): ParsedDate | null {
  // No year in the line: the latest year that does not put it more than a day ahead of now
  // (next year only matters in zones ahead of UTC; Feb 29 may go back to a leap year).
  const nowYear = new Date(now).getUTCFullYear();
  for (let y = nowYear + 1; y >= nowYear - 8; y--) {
    if (f.day > daysInMonth(y, f.month)) continue;
    const t = zone.toUtc(y, f.month, f.day, f.hour, f.minute, f.second, f.ms);
    if (t <= now + DAY_MS) return { time: t, format: 'bsd-syslog' };
  }
  return null;
}

/** Parses the opening timestamp; null when the line has none. */
export function parseDate(s: string, start: number, end: number, zone: Zone, now: number): ParsedDate | null {
  if (scan(s, start, end) < 0) return null;
  switch (f.kind) {
    case Kind.Bsd: {
      // Matched lines often share their second: reuse the last answer for the same fields.
      // (`now` moves slowly; an hour's drift cannot change the year chosen but near its edge.)
      const key = ((((f.month * 32 + f.day) * 24 + f.hour) * 60 + f.minute) * 60 + f.second) * 1000 + f.ms;
      if (key === last.key && zone === last.zone && now === last.now) return last.result;
      const r = bsdDate(zone, now);
      last = { key, zone, now, result: r };
      return r;
    }
    case Kind.Iso:
    case Kind.Rfc5424: {
      if (f.day > daysInMonth(f.year, f.month)) return null;
      const format: DateFormat = f.kind === Kind.Rfc5424 ? 'rfc5424' : f.zoned ? 'rfc3339' : 'iso-local';
      const time = f.zoned
        ? utcMs(f.year, f.month, f.day, f.hour, f.minute, f.second, f.ms) - f.offsetMin * 60_000
        : zone.toUtc(f.year, f.month, f.day, f.hour, f.minute, f.second, f.ms);
      return { time, format };
    }
    case Kind.Tai:
      return { time: f.tai, format: 'tai64n' };
    default:
      return null;
  }
}
