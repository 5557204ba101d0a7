// journalctl's argument arrays. Never a shell: matches come from the config, but an argument
// array keeps every value one argument whatever it holds.
import { ENTRY_FIELDS } from './entry.js';

export interface JournalSelection {
  readonly matches: readonly string[];
  readonly directory?: string;
  readonly files?: readonly string[];
}

/** Where a follow run starts. */
export type FollowFrom =
  | { readonly type: 'cursor'; readonly cursor: string }
  | { readonly type: 'since'; readonly sinceMs: number }
  | { readonly type: 'all' };

function common(sel: JournalSelection): string[] {
  const out = ['--output=json', `--output-fields=${ENTRY_FIELDS.join(',')}`, '--all', '--no-pager', '--quiet'];
  if (sel.directory !== undefined) out.push(`--directory=${sel.directory}`);
  for (const f of sel.files ?? []) out.push(`--file=${f}`);
  return out;
}

/** `journalctl --follow …`: every matching entry after the start point, then new ones as they come. */
export function followArgs(sel: JournalSelection, from: FollowFrom): string[] {
  // --follow shows at most 10 old entries, even after a cursor (seen with journalctl 252):
  // --no-tail lifts that, so nothing between the start point and now is skipped.
  const out = ['--follow', '--no-tail', ...common(sel)];
  if (from.type === 'cursor') out.push(`--after-cursor=${from.cursor}`);
  // systemd time spec: "@" + seconds since the epoch.
  else if (from.type === 'since') out.push(`--since=@${Math.floor(from.sinceMs / 1000)}`);
  // "--" so that no match can ever be read as an option.
  return [...out, '--', ...sel.matches];
}

/** `journalctl --lines=1 …`: the newest matching entry, whose cursor marks "the end" at start. */
export function tailArgs(sel: JournalSelection): string[] {
  return ['--lines=1', ...common(sel), '--', ...sel.matches];
}
