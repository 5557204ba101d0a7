// Builds a CompiledFilter from the text of a filter file. Pure: the caller reads the file.
import { parse as parseToml, TomlError } from 'smol-toml';
import { ConfigError } from '../errors.js';
import type { Failure } from '../events.js';
import { parseAddress } from './address.js';
import { dateHeaderEnd, parseDate, type DateFormat, type Zone } from './dates.js';
import { compileLinear, LinearError, type LinearRegex } from './linear.js';
import { ADDR_GROUP, NAME_GROUP, expandTags, firstChars, literalHints, TagError } from './tags.js';

/**
 * Lines longer than this are never matched: no real mail log line comes close, and it caps the
 * time of the linear-time fallback (linear.ts), which grows with the line.
 */
export const MAX_LINE_LENGTH = 16_384;

export interface FilterRegexInfo {
  readonly id: string;
  readonly kind: string;
  /** The regex as written in the filter file. */
  readonly source: string;
}

export type MatchResult =
  | { readonly type: 'failure'; readonly failure: Failure; readonly regex: number; readonly dateFormat: DateFormat }
  | { readonly type: 'ignored'; readonly regex: number }
  | { readonly type: 'undated'; readonly regex: number }
  | { readonly type: 'missed' };

export interface CompiledFilter {
  readonly name: string;
  readonly description: string;
  readonly mode: string;
  readonly modes: readonly string[];
  readonly file: string;
  /** The failregexes of the selected mode; MatchResult.regex indexes this list. */
  readonly regexes: readonly FilterRegexInfo[];
  /** Zone used for dates written without one. */
  readonly timezone: string;
  /**
   * Whether failures of this kind count towards network bans (the filter's [kinds] table).
   * A kind the table does not list counts for its address only: kinds that legitimate mail
   * servers also produce must never add up to a network ban.
   */
  countsForNetwork(kind: string): boolean;
  /** Pure: no I/O, no clock. `now` (ms since the epoch) only decides the year of BSD syslog dates. */
  match(line: string, now: number): MatchResult;
}

const MISSED: MatchResult = Object.freeze({ type: 'missed' });

const NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;
const TOP_KEYS = new Set(['name', 'description', 'prefix', 'default_mode', 'modes', 'kinds', 'failregex', 'ignoreregex']);
/** What a kind counts towards (see CompiledFilter.countsForNetwork). */
const KIND_CLASSES = new Set(['network', 'address']);
const REGEX_KEYS = new Set(['id', 'kind', 'regex']);

interface RawRegex {
  id: string;
  kind: string;
  regex: string;
}

/**
 * A copy of a captured string that does not keep the line (or the read buffer the line was
 * sliced from) alive: failures outlive the lines they came from.
 */
function detach(s: string): string {
  // V8 copies substrings shorter than 13 characters; longer ones would be slices.
  return s.length < 13 ? ` ${s}`.slice(1) : Buffer.from(s, 'utf8').toString('utf8');
}

// Most failregexes capture nothing but the address: their failures share one empty record.
const NO_FIELDS: Readonly<Record<string, string>> = Object.freeze({});

function capturedFields(groups: Record<string, string | undefined>, names: readonly string[]): Readonly<Record<string, string>> {
  if (names.length === 0) return NO_FIELDS;
  const out: Record<string, string> = {};
  for (const f of names) {
    const v = groups[f];
    if (v !== undefined) out[f] = detach(v);
  }
  return out;
}

/** `<HOST>`'s name, when Postfix verified one (it writes `unknown` otherwise). */
function clientOf(name: string | undefined): { client?: string } {
  return name === undefined || name === '' || name === 'unknown' ? {} : { client: detach(name) };
}

/** The line of the first occurrence of `needle` in the file, for error messages. */
function lineOf(text: string, needle: string): number | undefined {
  const at = needle ? text.indexOf(needle) : -1;
  if (at < 0) return undefined;
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function shown(regex: string): string {
  return JSON.stringify(regex.length > 200 ? `${regex.slice(0, 200)}…` : regex);
}

export function compileFilter(text: string, file: string, requestedMode: string | undefined, zone: Zone): CompiledFilter {
  const fail = (detail: string, needle = ''): never => {
    throw new ConfigError('filter.invalid', file, lineOf(text, needle), detail);
  };
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) throw new ConfigError('filter.syntax', file, err.line, `TOML: ${err.message.split('\n')[0] ?? ''}`);
    throw err;
  }
  for (const key of Object.keys(doc)) if (!TOP_KEYS.has(key)) fail(`unknown key "${key}"`, key);
  const str = (key: string, required: boolean): string | undefined => {
    const v = doc[key];
    if (v === undefined) return required ? fail(`missing "${key}"`) : undefined;
    if (typeof v !== 'string') return fail(`"${key}" must be a string`, key);
    return v;
  };
  const name = str('name', true) ?? '';
  if (!NAME_RE.test(name)) fail(`name "${name}" must be lowercase letters, digits, "-" or "_"`, 'name');
  const description = str('description', false) ?? '';

  const rawList = doc.failregex;
  if (!Array.isArray(rawList) || rawList.length === 0) fail('"failregex" must be a non-empty array of tables ([[failregex]])', 'failregex');
  const all: RawRegex[] = [];
  for (const [i, r] of (rawList as unknown[]).entries()) {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) fail(`failregex #${i + 1} must be a table with id, kind and regex`, '[[failregex]]');
    const t = r as Record<string, unknown>;
    for (const key of Object.keys(t)) if (!REGEX_KEYS.has(key)) fail(`failregex #${i + 1}: unknown key "${key}"`, key);
    const { id, kind, regex } = t;
    if (typeof id !== 'string' || !NAME_RE.test(id)) fail(`failregex #${i + 1}: "id" must be lowercase letters, digits, "-" or "_"`, '[[failregex]]');
    if (typeof kind !== 'string' || !NAME_RE.test(kind)) fail(`failregex "${String(id)}": "kind" must be lowercase letters, digits, "-" or "_"`, `"${String(id)}"`);
    if (typeof regex !== 'string') fail(`failregex "${String(id)}": "regex" must be a string`, `"${String(id)}"`);
    if (all.some((x) => x.id === id)) fail(`failregex id "${String(id)}" is used twice`, `"${String(id)}"`);
    all.push({ id: id as string, kind: kind as string, regex: regex as string });
  }

  // [kinds]: kind = "network" | "address". Only kinds some failregex uses may be listed.
  const networkKinds = new Set<string>();
  if (doc.kinds !== undefined) {
    if (typeof doc.kinds !== 'object' || doc.kinds === null || Array.isArray(doc.kinds)) fail('"kinds" must be a table of kind = "network" or "address"', '[kinds]');
    for (const [k, v] of Object.entries(doc.kinds as Record<string, unknown>)) {
      if (!all.some((r) => r.kind === k)) fail(`[kinds]: "${k}" is not the kind of any failregex`, `${k} =`);
      if (typeof v !== 'string' || !KIND_CLASSES.has(v)) fail(`[kinds]: ${k} must be "network" or "address"`, `${k} =`);
      if (v === 'network') networkKinds.add(k);
    }
  }

  // Modes: named sets of failregex ids. Without a [modes] table the filter has one mode, "default".
  let modes: Record<string, string[]>;
  let defaultMode: string;
  if (doc.modes === undefined) {
    modes = { default: all.map((r) => r.id) };
    defaultMode = str('default_mode', false) ?? 'default';
  } else {
    if (typeof doc.modes !== 'object' || doc.modes === null || Array.isArray(doc.modes)) fail('"modes" must be a table of mode = [failregex ids]', '[modes]');
    modes = {};
    for (const [m, ids] of Object.entries(doc.modes as Record<string, unknown>)) {
      if (!NAME_RE.test(m)) fail(`mode name "${m}" must be lowercase letters, digits, "-" or "_"`, m);
      if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) fail(`mode "${m}" must be a list of failregex ids`, m);
      for (const id of ids as string[]) if (!all.some((r) => r.id === id)) fail(`mode "${m}" names unknown failregex "${id}"`, m);
      modes[m] = ids as string[];
    }
    defaultMode = str('default_mode', true) ?? '';
  }
  if (!(defaultMode in modes)) fail(`default_mode "${defaultMode}" is not a mode of this filter`, 'default_mode');
  const mode = requestedMode ?? defaultMode;
  const ids = modes[mode];
  if (!ids) throw new ConfigError('filter.unknownMode', file, undefined, `unknown mode "${mode}" (modes: ${Object.keys(modes).join(', ')})`);

  const compile = (src: string, role: 'failregex' | 'ignoreregex' | 'prefix', label: string) => {
    try {
      const ex = expandTags(src, role);
      // Refuses what cannot be matched in bounded time; see linear.ts for the bound.
      const lin: LinearRegex = compileLinear(ex.source);
      return { re: lin.re, holds: lin.holds, fields: ex.fields.filter((f) => f !== ADDR_GROUP), source: ex.source };
    } catch (err) {
      if (err instanceof TagError || err instanceof SyntaxError || err instanceof LinearError) {
        const why = err instanceof SyntaxError ? err.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, 'invalid regex: ') : err.message;
        return fail(`${label}: ${why}: ${shown(src)}`, src.split('\n')[0] ?? '');
      }
      throw err;
    }
  };

  const prefixSrc = str('prefix', false);
  const prefixC = prefixSrc === undefined ? null : compile(prefixSrc, 'prefix', 'prefix');
  const prefix = prefixC === null ? null : prefixC.re;
  const prefixHolds = prefixC === null ? null : prefixC.holds;

  const ignoreRaw = doc.ignoreregex ?? [];
  if (!Array.isArray(ignoreRaw) || ignoreRaw.some((x) => typeof x !== 'string')) fail('"ignoreregex" must be a list of strings', 'ignoreregex');
  const ignoreC = (ignoreRaw as string[]).map((src, i) => compile(src, 'ignoreregex', `ignoreregex #${i + 1}`));
  const ignores = ignoreC.map((c) => c.re);
  const ignoreHolds = ignoreC.map((c) => c.holds);

  // Compile every regex of the file, so a broken one is reported whatever mode is chosen.
  const compiled = new Map(all.map((r) => [r.id, compile(r.regex, 'failregex', `failregex "${r.id}"`)]));
  const active = ids.map((id) => all.find((r) => r.id === id) as RawRegex);
  const res = active.map((r) => (compiled.get(r.id) as { re: RegExp }).re);
  const holds = active.map((r) => (compiled.get(r.id) as { holds: LinearRegex['holds'] }).holds);
  const fields = active.map((r) => (compiled.get(r.id) as { fields: string[] }).fields);
  const kinds = active.map((r) => r.kind);
  const network = kinds.map((k) => networkKinds.has(k));
  const hints = active.map((r) => literalHints((compiled.get(r.id) as { source: string }).source));
  const leads = hints.map((h) => h.lead);
  const inners = hints.map((h) => h.inner);

  // First-character dispatch: most lines are dismissed after one charCodeAt.
  const always: number[] = [];
  const byChar: number[][] = Array.from({ length: 128 }, () => []);
  active.forEach((r, i) => {
    const set = firstChars((compiled.get(r.id) as { source: string }).source);
    if (set === null || [...set].some((c) => c >= 128)) always.push(i);
    else for (const c of set) byChar[c]?.push(i);
  });
  const dispatch: (readonly number[])[] = byChar.map((list) => [...list, ...always].sort((a, b) => a - b));

  const regexes: FilterRegexInfo[] = active.map((r) => ({ id: r.id, kind: r.kind, source: r.regex }));

  return {
    name,
    description,
    mode,
    modes: Object.keys(modes),
    file,
    regexes,
    timezone: zone.name,
    countsForNetwork: (kind: string) => networkKinds.has(kind),
    match(line: string, now: number): MatchResult {
      const len = line.length;
      if (len === 0 || len > MAX_LINE_LENGTH) return MISSED;
      let msg = dateHeaderEnd(line, 0, len);
      if (prefix !== null) {
        prefix.lastIndex = msg;
        if (prefixHolds === null) {
          if (!prefix.test(line)) return MISSED;
        } else {
          const pm = prefix.exec(line);
          if (pm === null || !prefixHolds(pm, msg, line)) return MISSED;
        }
        msg = prefix.lastIndex;
      }
      const c = line.charCodeAt(msg);
      const list = c < 128 ? dispatch[c] : always;
      if (list === undefined) return MISSED;
      for (let k = 0; k < list.length; k++) {
        const idx = list[k] as number;
        const lead = leads[idx] as string;
        if (lead !== '' && !line.startsWith(lead, msg)) continue;
        const inner = inners[idx] as string;
        if (inner !== '' && line.indexOf(inner, msg) === -1) continue;
        const re = res[idx] as RegExp;
        re.lastIndex = msg;
        const m = re.exec(line);
        if (m === null) continue;
        const h = holds[idx];
        if (h != null && !h(m, msg, line)) continue;
        for (let j = 0; j < ignores.length; j++) {
          const ig = ignores[j] as RegExp;
          ig.lastIndex = msg;
          const ih = ignoreHolds[j];
          let ignored: boolean;
          if (ih == null) ignored = ig.test(line);
          else {
            const im = ig.exec(line);
            ignored = im !== null && ih(im, msg, line);
          }
          if (ignored) return { type: 'ignored', regex: idx };
        }
        const groups = m.groups ?? {};
        const addr = parseAddress(groups[ADDR_GROUP] ?? '');
        // A malformed address in the right place (999.1.2.3, 0x7f.1) is no failure of anyone.
        if (addr === null) continue;
        const date = parseDate(line, 0, len, zone, now);
        if (date === null) return { type: 'undated', regex: idx };
        const out = capturedFields(groups, fields[idx] as string[]);
        return {
          type: 'failure',
          regex: idx,
          dateFormat: date.format,
          failure: { time: date.time, ip: addr.address, family: addr.family, filter: name, kind: kinds[idx] as string, network: network[idx] as boolean, ...clientOf(groups[NAME_GROUP]), fields: out },
        };
      }
      return MISSED;
    },
  };
}
