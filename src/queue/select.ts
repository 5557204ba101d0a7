// Which messages `pban queue delete|hold|release` acts on. Every selector narrows the selection
// (they combine with AND), and a selection without any selector is refused: deleting the whole
// queue is what `postsuper -d ALL` is for, and pban never does it by default.
import { contains, parseTarget } from '../cidr.js';
import type { Target } from '../events.js';
import { parseDuration } from '../config/duration.js';
import { UsageError } from '../errors.js';
import type { AnalysedMessage } from './analyse.js';

export interface SelectorFlags {
  backscatter?: boolean;
  sender?: string;
  recipientDomain?: string;
  client?: string;
  olderThan?: string;
  reason?: string;
}

export interface Selector {
  readonly backscatter: boolean;
  /** "<>" for the null sender, "@domain" for any sender there, else one address (lower case). */
  readonly sender: string | undefined;
  readonly recipientDomain: string | undefined;
  readonly client: Target | undefined;
  readonly olderThanMs: number | undefined;
  readonly reason: RegExp | undefined;
}

/** Turns the command-line flags into a Selector; a mistake is a UsageError (exit 2). */
export function parseSelector(flags: SelectorFlags): Selector {
  const given = [flags.backscatter === true, flags.sender, flags.recipientDomain, flags.client, flags.olderThan, flags.reason].filter((v) => v !== undefined && v !== false);
  if (given.length === 0) {
    throw new UsageError('no selector: name what to act on (--backscatter, --sender, --recipient-domain, --client, --older-than, --reason); pban never selects the whole queue');
  }
  let sender: string | undefined;
  if (flags.sender !== undefined) {
    const s = flags.sender.trim().toLowerCase();
    if (s === '') throw new UsageError('--sender: empty (write "<>" for the null sender)');
    sender = s === '<>' || s === 'mailer-daemon' ? '<>' : s;
  }
  let recipientDomain: string | undefined;
  if (flags.recipientDomain !== undefined) {
    recipientDomain = flags.recipientDomain.trim().toLowerCase().replace(/^@/, '').replace(/\.$/, '');
    if (recipientDomain === '' || /[\s@]/.test(recipientDomain)) throw new UsageError(`--recipient-domain: "${flags.recipientDomain}" is not a domain`);
  }
  let client: Target | undefined;
  if (flags.client !== undefined) {
    const t = parseTarget(flags.client);
    if ('error' in t) throw new UsageError(`--client: ${t.error}`);
    client = t;
  }
  let olderThanMs: number | undefined;
  if (flags.olderThan !== undefined) {
    const d = parseDuration(flags.olderThan.trim());
    if (d === null || typeof d === 'object') throw new UsageError(`--older-than: ${d === null ? `"${flags.olderThan}" is not a duration` : d.error}`);
    olderThanMs = d;
  }
  let reason: RegExp | undefined;
  if (flags.reason !== undefined) {
    try {
      reason = new RegExp(flags.reason, 'i');
    } catch (e) {
      throw new UsageError(`--reason: invalid regular expression: ${(e as Error).message}`);
    }
  }
  return { backscatter: flags.backscatter === true, sender, recipientDomain, client, olderThanMs, reason };
}

function senderMatches(want: string, m: AnalysedMessage): boolean {
  if (want === '<>') return m.nullSender;
  const s = m.sender.toLowerCase();
  return want.startsWith('@') ? s.endsWith(want) : s === want;
}

export function matches(sel: Selector, m: AnalysedMessage, now: number): boolean {
  if (sel.backscatter && m.backscatter.length === 0) return false;
  if (sel.sender !== undefined && !senderMatches(sel.sender, m)) return false;
  if (sel.recipientDomain !== undefined && !m.recipients.some((r) => r.domain === sel.recipientDomain)) return false;
  if (sel.client !== undefined) {
    const c = m.client === null ? null : parseTarget(m.client);
    if (c === null || 'error' in c || c.family !== sel.client.family || !contains(sel.client, c)) return false;
  }
  if (sel.olderThanMs !== undefined && now - m.arrival <= sel.olderThanMs) return false;
  if (sel.reason !== undefined) {
    const re = sel.reason;
    if (!m.recipients.some((r) => r.reason !== undefined && re.test(r.reason))) return false;
  }
  return true;
}

export function select(sel: Selector, messages: readonly AnalysedMessage[], now: number): AnalysedMessage[] {
  return messages.filter((m) => matches(sel, m, now));
}
