// Human renderings of `pban why`, of the covering networks `pban unban` leaves in place, and of
// the lines behind a ban (`pban replay --explain`). Pure: data and `now` in, text out.
// A matched line is attacker-controlled: control characters are shown escaped, never sent to
// the terminal.
import type { BannedEntry, TraceEntry, WhyReply } from '../../control/types.js';
import { safeText } from '../../safe-text.js';
import { displayCidr } from './target-text.js';
import { formatExpiry, formatTimestamp } from './time.js';

/** One indented line per matched line: `<indent><time> <kind> (<regex>)  <line>`. */
export function renderTraceLines(lines: readonly TraceEntry[], indent = '    '): string {
  if (lines.length === 0) return `${indent}(no matched lines kept)\n`;
  return lines.map((l) => `${indent}${formatTimestamp(l.time)} ${l.kind} (${l.regex})  ${safeText(l.line)}\n`).join('');
}

function banHead(b: BannedEntry & { readonly kinds: readonly string[] }, now: number): string {
  const kinds = b.kinds.length > 0 ? `, kinds ${b.kinds.join(', ')}` : '';
  return (
    `  ${displayCidr(b.target)} in jail ${b.jail}: ${b.kind} ban #${b.banNumber}, ${b.failures} failures${kinds}\n` +
    `    since ${formatTimestamp(b.bannedAt)}, ${b.expiresAt === null ? 'permanent' : `until ${formatTimestamp(b.expiresAt)} (${formatExpiry(b.expiresAt, now)})`}\n`
  );
}

export function renderWhy(r: WhyReply, now: number): string {
  const out: string[] = [];
  const who = displayCidr(r.target);
  if (r.bans.length === 0) out.push(`${who} is not blocked: no active ban covers it.\n`);
  else {
    out.push(`${who} is blocked by ${r.bans.length} ${r.bans.length === 1 ? 'ban' : 'bans'}:\n`);
    for (const b of r.bans) {
      out.push(banHead(b, now));
      if (b.kind !== 'manual') out.push('    lines:\n', renderTraceLines(b.lines, '      '));
      else out.push('    banned by hand\n');
    }
  }
  if (r.failing.length === 0) {
    if (r.bans.length === 0) out.push(`${who} is not failing in any jail.\n`);
  } else {
    for (const f of r.failing) {
      out.push(`${who} is failing in jail ${f.jail}: ${f.failures} ${f.failures === 1 ? 'failure' : 'failures'} in the window\n`);
      out.push(renderTraceLines(f.lines, '    '));
    }
  }
  return out.join('');
}

/** The command that lifts a ban: what `pban unban` prints for a network it leaves in place. */
export function unbanCommandFor(b: { readonly target: string; readonly jail: string }): string {
  return `pban unban ${displayCidr(b.target)} --jail ${b.jail}`;
}

/** For `pban unban TARGET`: the bans that still block it after the lift (networks that contain it, other jails). */
export function renderStillBlocked(target: string, bans: readonly BannedEntry[]): string {
  const nets = bans.every((b) => b.target !== target);
  const what = nets ? (bans.length === 1 ? 'a network ban' : 'network bans') : bans.length === 1 ? 'a ban' : 'bans';
  const out = [`pban: ${displayCidr(target)} is still blocked by ${what}:\n`];
  for (const b of bans) out.push(`  ${displayCidr(b.target)} in jail ${b.jail} (lift it with: ${unbanCommandFor(b)})\n`);
  return out.join('');
}
