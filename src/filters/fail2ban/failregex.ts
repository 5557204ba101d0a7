// A fail2ban regex (failregex, ignoreregex, prefregex) as a JavaScript RegExp: fail2ban's
// tags (`<HOST>`, `<ADDR>`, `<IP4>`, `<IP6>`, `<DNS>`, `<CIDR>`, `<SUBNET>`, `<F-ID/>`,
// `<F-NAME>…</F-NAME>`) expanded to the groups fail2ban's matcher reads (ip4, ip6, dns,
// fid, cidr, user, …), then the Python syntax translated.
import { firstChars, literalHints } from '../tags.js';
import { PyRegexError, topLevelAlternation, translatePython, withoutGroupNames } from './pyregex.js';

// Each tag matches what fail2ban's matches (the same text, the same group names), written
// out here on our own: an IPv4 dotted quad (IPv4-mapped IPv6 prefix allowed and not
// captured), an IPv6 of colon-separated hex groups, a host name ending in a word character.
const IP4 = String.raw`(?:::f{4,6}:)?(?P<ip4>\d{1,3}(?:\.\d{1,3}){3})`;
const IP6 = String.raw`(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):))`;
const DNS = String.raw`(?P<dns>[\w\-.^_]*\w)`;
const ADDR = String.raw`\[?(?:${IP4}|${IP6})\]?`;
const CIDR = String.raw`(?P<cidr>\d+)`;
const SUBNET = String.raw`\[?(?:${IP4}|${IP6})(?:/${CIDR})?\]?`;

const SIMPLE_TAGS: Record<string, string> = {
  IP4,
  'F-IP4/': IP4,
  IP6,
  'F-IP6/': IP6,
  ADDR,
  'F-ADDR/': ADDR,
  CIDR,
  'F-CIDR/': CIDR,
  SUBNET,
  'F-SUBNET/': SUBNET,
  DNS,
  'F-DNS/': DNS,
  'F-ID/': String.raw`(?P<fid>\S+)`,
  'F-PORT/': String.raw`(?P<fport>\w+)`,
};

const GROUP_FOR_TAG: Record<string, string> = { id: 'fid', port: 'fport' };

export class Fail2banRegexError extends Error {}

/** Expands fail2ban's tags; `useDns` "no" makes <HOST> an address only. */
export function expandHostTags(regex: string, useDns: string | undefined): string {
  const open = new Set<string>();
  let skip = 0;
  return regex.replace(/<\/?[\w-]+\/?>/g, (tag) => {
    const name = tag.slice(1, -1);
    if (name === 'HOST') return useDns === 'no' ? ADDR : `(?:${ADDR}|${DNS})`;
    // Lines between the two parts of a multi-line match; they stay in the buffer.
    if (name === 'SKIPLINES') return String.raw`\n(?P<skiplines${skip++}>(?:(?:.*\n)*?))`;
    const simple = SIMPLE_TAGS[name];
    if (simple !== undefined) return simple;
    const m = /^(\/?)F-([A-Z0-9_-]+)$/.exec(name);
    if (!m) return tag;
    const tn = m[2] as string;
    if (m[1]) return open.has(tn) ? ')' : tag;
    open.add(tn);
    const lower = tn.toLowerCase();
    const group = GROUP_FOR_TAG[lower] ?? lower;
    if (!/^[a-z_][a-z0-9_]*$/.test(group)) throw new Fail2banRegexError(`<F-${tn}> is not a valid capture name`);
    return `(?P<${group}>`;
  });
}

export interface CompiledF2bRegex {
  readonly source: string;
  readonly re: RegExp;
  readonly groups: ReadonlyMap<string, string>;
  readonly names: ReadonlySet<string>;
  /** Groups named alt_X (alternative spelling of X), by X. */
  readonly alt: readonly (readonly [string, string])[];
  /**
   * Where in a match each named group is, then its Python name, …: the group's number (`re`
   * has no names, see withoutGroupNames), or its JS name when `re` kept them.
   */
  readonly named: readonly (string | number)[];
  /** Text a match must start the buffer with ('' when unknown): lines without it skip the regex. */
  readonly lead: string;
  /** Text a match must contain ('' when unknown). */
  readonly inner: string;
  /**
   * For a pattern anchored at the buffer start: 1 at the (ASCII) codes a match can start
   * with, so a line is dismissed by its first character; null when that is not known.
   */
  readonly first: Uint8Array | null;
}

/** The table of first characters of an anchored, case-sensitive pattern (see `first`). */
function firstCharTable(source: string): Uint8Array | null {
  if (!source.startsWith('^') || topLevelAlternation(source)) return null;
  const set = firstChars(source);
  if (set === null) return null;
  const table = new Uint8Array(128);
  for (const c of set) {
    if (c >= 128) return null;
    table[c] = 1;
  }
  return table;
}

export function compileF2bRegex(regex: string, opts: { useDns?: string | undefined; multiline: boolean }): CompiledF2bRegex {
  if (regex.trim() === '') throw new Fail2banRegexError('empty regex');
  let src = expandHostTags(regex, opts.useDns);
  // fail2ban turns a group opening with inline flags, `((?i)…)`, into a scoped `(?i:…)`.
  src = src.replace(/(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)/g, '$1:');
  let t;
  try {
    t = translatePython(src, { multiline: opts.multiline });
  } catch (err) {
    if (err instanceof PyRegexError) throw new Fail2banRegexError(err.message);
    throw err;
  }
  const names = new Set(t.names);
  const alt: [string, string][] = [];
  for (const n of names) {
    const m = /^alt_(.*?)(?:_\d+)?$/.exec(n);
    if (m && n.length > 4) alt.push([n, GROUP_FOR_TAG[m[1] as string] ?? (m[1] as string)]);
  }
  alt.sort();
  // Literal text every match needs, found in the translated pattern, so most lines are
  // dismissed by startsWith/indexOf. Only trusted without case folding, and the lead only
  // when the pattern is anchored at the buffer start.
  let lead = '';
  let inner = '';
  let first: Uint8Array | null = null;
  // (\k<…>, \uXXXX, \xXX would read as literal text to the hint finder: no hints then.)
  if (!t.flags.includes('i') && !/\\[kuxc]/.test(t.source)) {
    const h = literalHints(t.source);
    const anchored = !opts.multiline && t.source.startsWith('^');
    lead = anchored ? h.lead : '';
    inner = h.inner || (anchored ? '' : h.lead);
    if (anchored && !t.flags.includes('m')) first = firstCharTable(t.source);
  }
  const plain = withoutGroupNames(t.source, t.flags);
  const named: (string | number)[] = [];
  for (const [js, py] of t.groups) if (!/^\d+$/.test(py)) named.push(plain?.index.get(js) ?? js, py);
  return { source: regex, re: new RegExp(plain?.source ?? t.source, t.flags), groups: t.groups, names, alt, lead, inner, first, named };
}

/**
 * The named groups of a match, as fail2ban's getGroups (alt_X filling an empty X). The group
 * named `skip`, if given, is not put in the object but in `skipped.value` (so the object
 * never needs a delete, which would make it a slow dictionary).
 */
export function groupsOf(r: CompiledF2bRegex, m: RegExpExecArray, skip?: string, skipped?: { value: string | undefined }): Record<string, string | undefined> {
  // Only the named groups, and only those that took part (a Python None is left out).
  const g: Record<string, string | undefined> = {};
  let sv: string | undefined;
  const mg = m.groups;
  const named = r.named;
  for (let i = 0; i < named.length; i += 2) {
    const at = named[i] as string | number;
    const v = typeof at === 'number' ? m[at] : mg?.[at];
    if (v === undefined) continue;
    const py = named[i + 1] as string;
    if (py === skip) sv = v;
    else g[py] = v;
  }
  for (const [k, n] of r.alt) {
    const v = g[k];
    if (n === skip) {
      if (v && !sv) sv = v;
    } else if (v && !g[n]) g[n] = v;
  }
  if (skipped) skipped.value = sv;
  return g;
}
