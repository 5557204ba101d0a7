// Translates a Python `re` pattern (as fail2ban writes them) into a JavaScript RegExp.
// Parsed into a small tree first, so Python-only syntax can be rewritten rather than
// pattern-matched: named groups, `(?P=name)`, inline and scoped flags, `\Z`, `{,n}`,
// Python's `$`, and conditionals `(?(name)yes|no)`, which JavaScript lacks and which are
// expanded into alternatives of the whole pattern (one per combination of the tested groups).
// Anything else Python has and JavaScript does not is refused with the construct named.
import { structural } from '../tags.js';

export class PyRegexError extends Error {
  constructor(
    readonly construct: string,
    readonly at: number,
  ) {
    super(construct);
  }
}

type Node =
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'group'; kind: 'cap' | 'nc' | 'la' | 'nla' | 'lb' | 'nlb'; index: number; name: string | undefined; body: Node }
  | { t: 'quant'; body: Node; min: number; max: number; lazy: boolean }
  | { t: 'raw'; js: string }
  | { t: 'backref'; index: number }
  | { t: 'cond'; index: number; yes: Node; no: Node };

export interface TranslatedRegex {
  readonly source: string;
  readonly flags: string;
  /** Python group names (or numbers as text) by JavaScript group name. */
  readonly groups: ReadonlyMap<string, string>;
  /** Python names of the named groups, in order. */
  readonly names: readonly string[];
}

export interface TranslateOptions {
  /** fail2ban compiles multi-line filters with re.MULTILINE. */
  readonly multiline?: boolean;
}

const LETTER = /[A-Za-z]/;

class Parser {
  i = 0;
  groupCount = 0;
  readonly names = new Map<string, number>();
  readonly condGroups = new Set<number>();
  readonly pendingRefs: { name: string; at: number; node: { index: number } }[] = [];
  flags = { i: false, s: false, m: false, x: false };

  constructor(readonly src: string) {}

  fail(construct: string, at = this.i): never {
    throw new PyRegexError(construct, at);
  }

  parse(): Node {
    // Global flags: `(?aiLmsux)` at the very start (Python 3.11 refuses them elsewhere).
    for (;;) {
      const m = /^\(\?([aiLmsux]+)\)/.exec(this.src.slice(this.i));
      if (!m) break;
      this.setGlobalFlags(m[1] ?? '', this.i);
      this.i += m[0].length;
    }
    const node = this.alternation(false);
    if (this.i < this.src.length) this.fail(`unbalanced ")"`);
    for (const r of this.pendingRefs) {
      const idx = this.names.get(r.name);
      if (idx === undefined) this.fail(`unknown group name "${r.name}"`, r.at);
      r.node.index = idx;
    }
    return node;
  }

  setGlobalFlags(f: string, at: number): void {
    for (const c of f) {
      if (c === 'i') this.flags.i = true;
      else if (c === 's') this.flags.s = true;
      else if (c === 'm') this.flags.m = true;
      else if (c === 'x') this.flags.x = true;
      else if (c === 'L') this.fail('locale flag (?L)', at);
      // a (ASCII) and u (Unicode) change \w and friends only for non-ASCII text.
    }
  }

  alternation(ci: boolean): Node {
    const alts: Node[] = [this.sequence(ci)];
    while (this.src[this.i] === '|') {
      this.i++;
      alts.push(this.sequence(ci));
    }
    return alts.length === 1 ? (alts[0] as Node) : { t: 'alt', alts };
  }

  sequence(ci: boolean): Node {
    const items: Node[] = [];
    const s = this.src;
    while (this.i < s.length) {
      const c = s[this.i] as string;
      if (c === '|' || c === ')') break;
      if (this.flags.x) {
        if (/\s/.test(c)) {
          this.i++;
          continue;
        }
        if (c === '#') {
          while (this.i < s.length && s[this.i] !== '\n') this.i++;
          continue;
        }
      }
      const start = this.i;
      let atom = this.atom(ci);
      if (atom === null) continue;
      // quantifiers
      for (;;) {
        const q = this.quantifier();
        if (q === null) break;
        if (atom.t === 'raw' && (atom.js === '^' || atom.js.startsWith('(?=\\n?$)') || atom.js === '$' || atom.js.startsWith('(?<!') || atom.js.startsWith('(?!'))) {
          // Python accepts a quantified anchor only in odd cases; refuse it plainly.
          this.fail(`quantifier after an anchor "${s.slice(start, this.i)}"`, start);
        }
        if (atom.t === 'quant' && q.plain) this.fail(`multiple repeat "${s.slice(start, this.i)}"`, start);
        atom = { t: 'quant', body: atom, min: q.min, max: q.max, lazy: q.lazy };
      }
      items.push(atom);
    }
    return items.length === 1 ? (items[0] as Node) : { t: 'seq', items };
  }

  quantifier(): { min: number; max: number; lazy: boolean; plain: boolean } | null {
    const s = this.src;
    const c = s[this.i];
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(s.slice(this.i));
      if (!m || (m[1] === '' && m[2] === undefined)) return null; // a literal "{"
      min = m[1] === '' ? 0 : Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) this.fail(`min repeat greater than max repeat "${m[0]}"`);
      this.i += m[0].length - 1;
    } else return null;
    this.i++;
    let lazy = false;
    if (s[this.i] === '?') {
      lazy = true;
      this.i++;
    } else if (s[this.i] === '+') this.fail('possessive quantifier');
    return { min, max, lazy, plain: true };
  }

  /** One atom, or null for something that emits nothing (a comment, a flag group). */
  atom(ci: boolean): Node | null {
    const s = this.src;
    const c = s[this.i] as string;
    const at = this.i;
    if (c === '(') return this.group(ci);
    if (c === '[') return { t: 'raw', js: this.charClass(ci) };
    if (c === '\\') return this.escape(ci, false) as Node;
    this.i++;
    if (c === '.') return { t: 'raw', js: this.flags.s ? '[\\s\\S]' : '.' };
    if (c === '^') return { t: 'raw', js: '^' };
    if (c === '$') return { t: 'raw', js: this.flags.m ? '$' : '(?=\\n?$)' };
    if (c === '*' || c === '+' || c === '?') this.fail(`nothing to repeat at "${c}"`, at);
    if (c === '{') {
      // Only reached when the brace is not a valid quantifier: a literal.
      return { t: 'raw', js: '\\{' };
    }
    return { t: 'raw', js: literal(c, ci) };
  }

  group(ci: boolean): Node | null {
    const s = this.src;
    const at = this.i;
    this.i++; // (
    if (s[this.i] !== '?') return this.capture(undefined, ci);
    const rest = s.slice(this.i + 1);
    if (rest.startsWith('P<') || (rest.startsWith('<') && !rest.startsWith('<=') && !rest.startsWith('<!'))) {
      const m = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (!m) this.fail('bad group name', at);
      this.i += 1 + m[0].length;
      return this.capture(m[1], ci);
    }
    if (rest.startsWith('P=')) {
      const m = /^P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
      if (!m) this.fail('bad group reference', at);
      this.i += 1 + m[0].length;
      const node = { t: 'backref' as const, index: -1 };
      this.pendingRefs.push({ name: m[1] as string, at, node });
      return node;
    }
    if (rest.startsWith('#')) {
      const end = s.indexOf(')', this.i);
      if (end < 0) this.fail('unterminated comment', at);
      this.i = end + 1;
      return null;
    }
    const look: Record<string, 'nc' | 'la' | 'nla' | 'lb' | 'nlb'> = { ':': 'nc', '=': 'la', '!': 'nla', '<=': 'lb', '<!': 'nlb' };
    for (const [k, kind] of Object.entries(look).sort((a, b) => b[0].length - a[0].length)) {
      if (rest.startsWith(k)) {
        this.i += 1 + k.length;
        const body = this.alternation(ci);
        this.close(at);
        return { t: 'group', kind, index: -1, name: undefined, body };
      }
    }
    if (rest.startsWith('(')) {
      // (?(name)yes|no) or (?(1)yes|no)
      const m = /^\(([A-Za-z_][A-Za-z0-9_]*|\d+)\)/.exec(rest);
      if (!m) this.fail('bad conditional group reference', at);
      this.i += 1 + m[0].length;
      const ref = m[1] as string;
      const yes = this.sequence(ci);
      let no: Node = { t: 'seq', items: [] };
      if (s[this.i] === '|') {
        this.i++;
        no = this.sequence(ci);
        if (s[this.i] === '|') this.fail('conditional with more than two branches', at);
      }
      this.close(at);
      const node = { t: 'cond' as const, index: -1, yes, no };
      if (/^\d+$/.test(ref)) {
        node.index = Number(ref);
        this.condGroups.add(node.index);
      } else {
        const idx = this.names.get(ref);
        if (idx === undefined) this.fail(`conditional on unknown group "${ref}"`, at);
        node.index = idx;
        this.condGroups.add(idx);
      }
      return node;
    }
    const fm = /^([aiLmsux]*)(?:-([imsx]+))?([:)])/.exec(rest);
    if (fm) {
      const on = fm[1] ?? '';
      const off = fm[2] ?? '';
      this.i += 1 + fm[0].length;
      if (fm[3] === ')') {
        if (off) this.fail(`flag removal (?-${off}) outside a group`, at);
        // A global flag after the start: Python 3.11 refuses it; fail2ban's files never rely on it.
        this.fail(`global flags "(?${on})" not at the start of the expression`, at);
      }
      if (on.includes('L')) this.fail('locale flag (?L)', at);
      if (/[msx]/.test(on + off)) this.fail(`scoped flag "(?${on}${off ? `-${off}` : ''}:" (only "i" is supported in a group)`, at);
      const innerCi = off.includes('i') ? false : on.includes('i') ? true : ci;
      if (off.includes('i') && this.flags.i) this.fail('scoped "(?-i:" inside a case-insensitive pattern', at);
      const body = this.alternation(innerCi);
      this.close(at);
      return { t: 'group', kind: 'nc', index: -1, name: undefined, body };
    }
    if (rest.startsWith('>')) this.fail('atomic group "(?>"', at);
    if (rest.startsWith('P>')) this.fail('group call "(?P>"', at);
    return this.fail(`unknown group construct "${s.slice(at, at + 4)}"`, at);
  }

  capture(name: string | undefined, ci: boolean): Node {
    const at = this.i;
    const index = ++this.groupCount;
    if (name !== undefined) {
      if (this.names.has(name)) this.fail(`group name "${name}" used twice`, at);
      this.names.set(name, index);
    }
    const body = this.alternation(ci);
    this.close(at);
    return { t: 'group', kind: 'cap', index, name, body };
  }

  close(at: number): void {
    if (this.src[this.i] !== ')') this.fail('missing ")"', at);
    this.i++;
  }

  /** An escape outside (inClass false) or inside a class; returns JS text or a node. */
  escape(ci: boolean, inClass: boolean): Node | string {
    const s = this.src;
    const at = this.i;
    const e = s[this.i + 1];
    if (e === undefined) this.fail('trailing backslash', at);
    this.i += 2;
    const raw = (js: string): Node | string => (inClass ? js : { t: 'raw', js });
    switch (e) {
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W':
        return raw(`\\${e}`);
      case 'b':
        return inClass ? '\\x08' : { t: 'raw', js: '\\b' };
      case 'B':
        if (inClass) this.fail('"\\B" in a character class', at);
        return { t: 'raw', js: '\\B' };
      case 'A':
        if (inClass) this.fail('"\\A" in a character class', at);
        return { t: 'raw', js: '(?<![\\s\\S])' };
      case 'Z':
        if (inClass) this.fail('"\\Z" in a character class', at);
        return { t: 'raw', js: '(?![\\s\\S])' };
      case 'n':
      case 'r':
      case 't':
      case 'f':
      case 'v':
        return raw(`\\${e}`);
      case 'a':
        return raw('\\x07');
      case 'x': {
        const m = /^[0-9a-fA-F]{2}/.exec(s.slice(this.i));
        if (!m) this.fail('bad escape "\\x"', at);
        this.i += 2;
        return raw(this.codeUnit(parseInt(m[0], 16), ci));
      }
      case 'u':
      case 'U': {
        const n = e === 'u' ? 4 : 8;
        const m = new RegExp(`^[0-9a-fA-F]{${n}}`).exec(s.slice(this.i));
        if (!m) this.fail(`bad escape "\\${e}"`, at);
        this.i += n;
        const cp = parseInt(m[0], 16);
        if (cp > 0xffff) this.fail(`code point beyond U+FFFF "\\${e}${m[0]}"`, at);
        return raw(this.codeUnit(cp, ci));
      }
      case 'N':
        return this.fail('named character escape "\\N{…}"', at);
      default:
        break;
    }
    if (e >= '0' && e <= '9') {
      // Octal escape (\0, \012) or a numbered back reference (\1 … \99).
      const oct = /^[0-7]{1,2}/.exec(s.slice(this.i));
      if (e === '0' || (inClass && /[0-7]/.test(e))) {
        let digits = e;
        if (oct) {
          digits += oct[0];
          this.i += oct[0].length;
        }
        return raw(this.codeUnit(parseInt(digits, 8), ci));
      }
      if (inClass) this.fail(`back reference "\\${e}" in a character class`, at);
      const m = /^\d?/.exec(s.slice(this.i)) as RegExpExecArray;
      let num = Number(e + m[0]);
      if (num > this.groupCount) num = Number(e);
      else this.i += m[0].length;
      if (num > this.groupCount) this.fail(`back reference "\\${num}" to a group not yet defined`, at);
      return { t: 'backref', index: num };
    }
    if (LETTER.test(e)) this.fail(`unknown escape "\\${e}"`, at);
    // Any other escaped character stands for itself.
    return raw(inClass ? classLiteral(e) : literal(e, ci));
  }

  codeUnit(cp: number, ci: boolean): string {
    const ch = String.fromCharCode(cp);
    return ci ? literal(ch, ci) : `\\u${cp.toString(16).padStart(4, '0')}`;
  }

  charClass(ci: boolean): string {
    const s = this.src;
    const at = this.i;
    this.i++;
    let out = '[';
    if (s[this.i] === '^') {
      out += '^';
      this.i++;
    }
    let first = true;
    const letters: string[] = [];
    while (this.i < s.length) {
      const c = s[this.i] as string;
      if (c === ']' && !first) break;
      first = false;
      if (c === '\\') {
        const r = this.escape(ci, true) as string;
        out += r;
        continue;
      }
      // Ranges are copied as written; with a scoped (?i:…) the other case is added below.
      if (ci && LETTER.test(c)) {
        if (s[this.i + 1] === '-' && s[this.i + 2] !== undefined && s[this.i + 2] !== ']' && LETTER.test(s[this.i + 2] as string)) {
          letters.push(`${c}-${s[this.i + 2]}`);
        } else letters.push(c);
      }
      out += classLiteral(c);
      this.i++;
    }
    if (s[this.i] !== ']') this.fail('unterminated character class', at);
    this.i++;
    if (ci && !this.flags.i) {
      for (const l of letters) {
        const other = l.length === 1 ? swapCase(l) : `${swapCase(l[0] as string)}-${swapCase(l[2] as string)}`;
        if (other !== l) out += other;
      }
    }
    return `${out}]`;
  }
}

function swapCase(c: string): string {
  const u = c.toUpperCase();
  return u === c ? c.toLowerCase() : u;
}

const JS_SPECIAL = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}', '/']);

/** A character as a JS pattern atom; under a scoped (?i:…) a letter becomes [xX]. */
function literal(c: string, ci: boolean): string {
  if (ci && LETTER.test(c)) return `[${c.toLowerCase()}${c.toUpperCase()}]`;
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  return JS_SPECIAL.has(c) ? `\\${c}` : c;
}

function classLiteral(c: string): string {
  if (c === ']' || c === '\\' || c === '[' || c === '^') return `\\${c}`;
  if (c === '-') return '-';
  if (c === '\n') return '\\n';
  return c;
}

// ---- emission ----------------------------------------------------------------------------

function containsGroup(node: Node, index: number): boolean {
  switch (node.t) {
    case 'seq':
      return node.items.some((n) => containsGroup(n, index));
    case 'alt':
      return node.alts.some((n) => containsGroup(n, index));
    case 'group':
      return node.index === index || containsGroup(node.body, index);
    case 'quant':
      return containsGroup(node.body, index);
    case 'cond':
      return containsGroup(node.yes, index) || containsGroup(node.no, index);
    default:
      return false;
  }
}

const FAIL = '(?!)';

class Emitter {
  readonly groups = new Map<string, string>();
  constructor(
    readonly variant: number,
    /** group index → must take part (true) / must not (false); undefined: free. */
    readonly assign: ReadonlyMap<number, boolean>,
    readonly names: ReadonlyMap<number, string>,
  ) {}

  jsName(index: number): string {
    return `g${index}_${this.variant}`;
  }

  emit(node: Node): string {
    switch (node.t) {
      case 'raw':
        return node.js;
      case 'seq':
        return node.items.map((n) => this.emitAtom(n)).join('');
      case 'alt': {
        let alts = node.alts;
        const forced = [...this.assign].filter(([i, on]) => on && node.alts.some((a) => containsGroup(a, i))).map(([i]) => i);
        for (const i of forced) alts = alts.filter((a) => containsGroup(a, i));
        if (alts.length === 0) return FAIL;
        return alts.map((a) => this.emit(a)).join('|');
      }
      case 'group': {
        if (node.kind === 'cap') {
          if (this.assign.get(node.index) === false) return FAIL;
          const js = this.jsName(node.index);
          this.groups.set(js, this.names.get(node.index) ?? String(node.index));
          return `(?<${js}>${this.emit(node.body)})`;
        }
        const open = { nc: '(?:', la: '(?=', nla: '(?!', lb: '(?<=', nlb: '(?<!' }[node.kind];
        return `${open}${this.emit(node.body)})`;
      }
      case 'quant': {
        let { min, max } = node;
        if (min === 0 && [...this.assign].some(([i, on]) => on && containsGroup(node.body, i))) {
          min = 1;
          if (max < 1) return FAIL;
        }
        const q = min === 0 && max === Infinity ? '*' : min === 1 && max === Infinity ? '+' : min === 0 && max === 1 ? '?' : max === Infinity ? `{${min},}` : min === max ? `{${min}}` : `{${min},${max}}`;
        return `${this.emitAtom(node.body)}${q}${node.lazy ? '?' : ''}`;
      }
      case 'backref':
        return `\\k<${this.jsName(node.index)}>`;
      case 'cond': {
        const on = this.assign.get(node.index);
        return `(?:${this.emit(on ? node.yes : node.no)})`;
      }
    }
  }

  /** Emits a node so that a following quantifier applies to all of it. */
  emitAtom(node: Node): string {
    if (node.t === 'seq' || node.t === 'alt' || node.t === 'cond') {
      const inner = this.emit(node);
      return node.t === 'cond' ? inner : `(?:${inner})`;
    }
    if (node.t === 'raw' && node.js.length > 1 && !/^(?:\\.|\[(?:\\.|[^\]\\])*\]|\\u[0-9a-f]{4}|\\x[0-9a-f]{2})$/.test(node.js) && !node.js.startsWith('(?')) return `(?:${node.js})`;
    return this.emit(node);
  }
}

/** Translates; throws PyRegexError naming the construct JavaScript cannot express. */
export function translatePython(src: string, opts: TranslateOptions = {}): TranslatedRegex {
  const p = new Parser(src);
  if (opts.multiline) p.flags.m = true;
  const tree = p.parse();
  const names = new Map<number, string>([...p.names].map(([n, i]) => [i, n]));
  const conds = [...p.condGroups].sort((a, b) => a - b);
  if (conds.length > 4) throw new PyRegexError('more than four conditional groups', 0);
  for (const c of conds) if (c > p.groupCount) throw new PyRegexError(`conditional on group ${c}, which does not exist`, 0);
  const groups = new Map<string, string>();
  const variants: string[] = [];
  // Each combination of "tested group took part / did not" is one alternative of the whole
  // pattern; "took part" first, as Python's greedy optional groups try that first.
  const n = 1 << conds.length;
  for (let v = 0; v < n; v++) {
    const assign = new Map<number, boolean>();
    conds.forEach((g, k) => assign.set(g, (v & (1 << (conds.length - 1 - k))) === 0));
    const em = new Emitter(v, assign, names);
    variants.push(em.emit(tree));
    for (const [js, py] of em.groups) groups.set(js, py);
  }
  let flags = '';
  if (p.flags.i) flags += 'i';
  if (p.flags.m) flags += 'm';
  // Variants that all start with ^ share it outside the alternation, so the engine still
  // sees an anchored pattern and tries one position instead of every one.
  const anchored = !p.flags.m && variants.length > 1 && variants.every((v) => v.startsWith('^') && !topLevelAlternation(v));
  const source =
    variants.length === 1 ? (variants[0] as string)
    : anchored ? `^(?:${variants.map((v) => `(?:${v.slice(1)})`).join('|')})`
    : variants.map((v) => `(?:${v})`).join('|');
  try {
    new RegExp(source, flags);
  } catch (err) {
    throw new PyRegexError(`no JavaScript equivalent (${(err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')})`, 0);
  }
  return { source, flags, groups, names: [...p.names.keys()] };
}

/** Python group values by Python name (the number as text for unnamed groups) from a JS match. */
export function pythonGroups(m: RegExpExecArray, groups: ReadonlyMap<string, string>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const g = m.groups;
  if (!g) return out;
  for (const [js, py] of groups) {
    const v = g[js];
    if (v !== undefined || !(py in out)) out[py] = v;
  }
  return out;
}

/**
 * The same pattern with its named groups unnamed, and each name's group number; null when
 * the source refers to a group by name (`\k<…>`) or the count does not check out. V8 builds
 * a `groups` object for every match of a pattern with names; read by number, a match is
 * cheaper, and these patterns run on every line.
 */
export function withoutGroupNames(src: string, flags: string): { source: string; index: ReadonlyMap<string, number> } | null {
  if (src.includes('\\k<') || flags.includes('v')) return null;
  const index = new Map<string, number>();
  let out = '';
  let last = 0;
  let n = 0;
  for (const i of structural(src)) {
    if (src[i] !== '(') continue;
    if (src[i + 1] !== '?') {
      n++;
      continue;
    }
    if (src[i + 2] === '<' && src[i + 3] !== '=' && src[i + 3] !== '!') {
      n++;
      const close = src.indexOf('>', i + 3);
      if (close < 0) return null;
      index.set(src.slice(i + 3, close), n);
      out += src.slice(last, i + 1);
      last = close + 1;
    }
  }
  out += src.slice(last);
  // The groups counted must be the groups the engine sees (an empty alternative always matches).
  const m = new RegExp(`${out}|`, flags).exec('');
  if (m === null || m.length !== n + 1) return null;
  return { source: out, index };
}

/** True when a JS source has a `|` outside any group or class (so a leading ^ covers one branch only). */
export function topLevelAlternation(src: string): boolean {
  let depth = 0;
  for (const i of structural(src)) {
    const c = src[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}
