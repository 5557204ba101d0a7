// One journal entry (a line of `journalctl --output=json`) turned into the syslog-like line the
// filters read: `<RFC 3339 UTC time> <host> <identifier>[<pid>]: <message>`. Pure functions.
//
// journalctl's JSON: a field is a string; a byte array (numbers) when its value is not valid UTF-8
// or has control bytes; an array of such values when the field occurs several times.

/** The fields pban reads; journalctl is asked for these only (--output-fields). */
export const ENTRY_FIELDS = ['MESSAGE', 'SYSLOG_IDENTIFIER', '_COMM', '_PID', 'SYSLOG_PID', '_HOSTNAME'] as const;

export interface JournalEntry {
  readonly cursor: string;
  /** The syslog-like line. */
  readonly text: string;
}

type FieldValue = string | number[] | (string | number[])[] | null | undefined;

/** A field as text: the first value if repeated; bytes decoded as UTF-8 (invalid bytes become U+FFFD). */
export function fieldText(v: unknown): string | undefined {
  const value = v as FieldValue;
  if (typeof value === 'string') return value;
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (value.every((b) => typeof b === 'number')) return Buffer.from(value as number[]).toString('utf8');
  return fieldText(value[0]);
}

/**
 * Control characters become `#ooo` (octal), as rsyslog writes them to mail.log: a newline in a
 * message can never start what looks like a line of its own.
 */
function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `#${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** Host and identifier are one token each in the line; blanks inside them would shift the frame. */
function token(s: string | undefined): string {
  const t = s === undefined ? '' : escapeControls(s).replace(/\s/g, '_');
  return t === '' ? '-' : t;
}

/** `__REALTIME_TIMESTAMP` (µs since the epoch) as `2026-11-27T19:19:20.670269+00:00`. */
export function formatMicros(us: bigint): string {
  const ms = us / 1000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const frac = (((us % 1_000_000n) + 1_000_000n) % 1_000_000n).toString().padStart(6, '0');
  return `${base}.${frac}+00:00`;
}

/**
 * Parses one JSON line from journalctl. Returns null for a line that is not an entry (not JSON,
 * no cursor). `nowMs` stands in for a missing timestamp.
 */
export function parseEntry(json: string, nowMs: number): JournalEntry | null {
  let o: unknown;
  try {
    o = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return null;
  const f = o as Record<string, unknown>;
  const cursor = fieldText(f['__CURSOR']);
  if (cursor === undefined || cursor === '') return null;
  const rt = fieldText(f['__REALTIME_TIMESTAMP']);
  const us = rt !== undefined && /^\d{1,19}$/.test(rt) ? BigInt(rt) : BigInt(nowMs) * 1000n;
  const ident = fieldText(f['SYSLOG_IDENTIFIER']) ?? fieldText(f['_COMM']);
  const pid = fieldText(f['_PID']) ?? fieldText(f['SYSLOG_PID']);
  const message = escapeControls(fieldText(f['MESSAGE']) ?? '');
  const tag = pid !== undefined && /^\d+$/.test(pid) ? `${token(ident)}[${pid}]` : token(ident);
  return { cursor, text: `${formatMicros(us)} ${token(fieldText(f['_HOSTNAME']))} ${tag}: ${message}` };
}
