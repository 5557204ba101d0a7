// --since and --until: a date and time (ISO 8601; without a zone it is UTC, as the report
// prints), or a duration before now ("2h", "1d").
import { parseDuration } from '../config/index.js';

export function parseReportTime(text: string, now: number): { ms: number } | { error: string } {
  const s = text.trim();
  const d = parseDuration(s);
  if (typeof d === 'number' && /^[\d]/.test(s) && !/^\d{4}-/.test(s)) return { ms: now - d };
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (m !== null) {
    const zone = m[3] === undefined ? 'Z' : m[3].toUpperCase();
    const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00'}${zone}`);
    if (Number.isFinite(ms)) return { ms };
  }
  return { error: `invalid time "${text}": expected a date and time such as 2026-11-27T14:00 (UTC unless a zone is given) or a duration before now such as 2h or 1d` };
}
