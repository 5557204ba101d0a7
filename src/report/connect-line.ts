// Recognises Postfix smtpd's session start, `postfix/…/smtpd[pid]: connect from name[addr]`:
// the denominator of the hostile share. Pure; runs on every line of a report, so it rejects a
// line with one indexOf before it looks further.
import type { Family } from '../events.js';
import { parseAddress, parseDate, type Zone } from '../filters/index.js';

const NEEDLE = ']: connect from ';

export interface Connect {
  readonly time: number;
  readonly address: string;
  readonly family: Family;
}

/**
 * The session a `connect from` line opens, or null for any other line. `dated` false skips the
 * date (time 0): a report without --since/--until needs none, and it saves a parse per session.
 */
export function parseConnect(line: string, zone: Zone, now: number, dated = true): Connect | null {
  const at = line.indexOf(NEEDLE);
  if (at < 0) return null;
  // The syslog tag just before it must be smtpd's: `…/smtpd[1234`.
  const open = line.lastIndexOf('[', at);
  if (open < 6 || line.slice(open - 6, open) !== '/smtpd') return null;
  // `name[addr]` ends the line; the name is the client's and may hold anything but brackets.
  if (line.charCodeAt(line.length - 1) !== 93) return null;
  const lb = line.lastIndexOf('[');
  if (lb < at + NEEDLE.length) return null;
  const addr = parseAddress(line.slice(lb + 1, line.length - 1));
  if (addr === null) return null;
  if (!dated) return { time: 0, address: addr.address, family: addr.family };
  const date = parseDate(line, 0, line.length, zone, now);
  if (date === null) return null;
  return { time: date.time, address: addr.address, family: addr.family };
}
