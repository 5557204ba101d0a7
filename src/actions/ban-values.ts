// What a notification learns about a ban: the one place that maps a ban to template values.
// A new value (the matched lines, say) is one more entry here and one more name in
// BAN_PLACEHOLDERS; the loader then accepts it in ban commands and nowhere else.
//
// These values exist only in `ban.run` commands (argv elements and stdin lines): never in a
// batch script, where a firewall program would parse them. Some come from log lines, which an
// attacker writes; a command gets each as one argv element (or stdin text), never a shell.
import type { Ban, ExplainedBan } from '../events.js';
import { safeText } from '../safe-text.js';
import type { ParamScalar } from './template.js';

/** The names, for the loader's checks. */
export const BAN_PLACEHOLDERS = ['failures', 'kinds', 'ban_kind', 'ban_number', 'ban_until', 'ban_created', 'matches'] as const;
export type BanPlaceholder = (typeof BAN_PLACEHOLDERS)[number];

/** The template values of one ban. */
export function banValues(ban: Ban | ExplainedBan): Map<BanPlaceholder, ParamScalar> {
  return new Map<BanPlaceholder, ParamScalar>([
    // failures in the window that triggered it (0 for a manual ban)
    ['failures', String(ban.failures)],
    // "sasl,relay": a comma-separated string, so it is one argument whatever its length
    ['kinds', (ban.kinds ?? []).join(',')],
    // address, network or manual
    ['ban_kind', ban.kind],
    ['ban_number', String(ban.banNumber)],
    ['ban_created', new Date(ban.created).toISOString()],
    ['ban_until', ban.until === null ? 'permanent' : new Date(ban.until).toISOString()],
    // The last matched lines behind it, oldest first, one per text line ("" for a manual or a
    // restored ban). Log text is the client's: control characters become visible escapes, so a
    // line can neither add a mail header nor a second text line.
    ['matches', ('matches' in ban && ban.matches !== undefined ? ban.matches : []).map((m) => safeText(m.line)).join('\n')],
  ]);
}
