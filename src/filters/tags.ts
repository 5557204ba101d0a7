// Turns a filter regex as written in a filter file into a JavaScript regex source:
// expands the tags, and rejects patterns that would let attacker text choose the address
// or that invite catastrophic backtracking.

/** Name of the capture group that holds the address; reserved. */
export const ADDR_GROUP = 'pban_addr';
/** Name of the capture group that holds `<HOST>`'s client name (before `[addr]`); reserved. */
export const NAME_GROUP = 'pban_name';

// The IPv6 branch has no length bound: counted repeats above 16 cannot run on the linear-time
// engine (linear.ts), and parseAddress refuses anything longer than an address can be.
const ADDR = String.raw`(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]+)`;
/**
 * Postfix's `name[addr]`, optionally `:port`, and postscreen's `[addr]:port`. A host name
 * verified by Postfix never holds a bracket or a space, so the first `[` after the name is
 * the client address and nothing earlier in the line can stand in for it.
 */
const HOST = String.raw`(?<${NAME_GROUP}>[^\s\[\]]*)\[(?<${ADDR_GROUP}>${ADDR})\](?::\d{1,5})?`;

export const MAX_REGEX_LENGTH = 4000;

export interface ExpandedRegex {
  /** JavaScript regex source, without flags. */
  readonly source: string;
  /** Named captures other than the address, in order of appearance. */
  readonly fields: readonly string[];
  readonly hasAddress: boolean;
}

export class TagError extends Error {}

/**
 * Expands `<HOST>`, `<ADDR>` and `<F-NAME>…</F-NAME>`. `role` decides what is allowed:
 * a failregex needs exactly one address tag, other regexes may not have one.
 */
export function expandTags(text: string, role: 'failregex' | 'ignoreregex' | 'prefix'): ExpandedRegex {
  if (text.length === 0) throw new TagError('empty regex');
  if (text.length > MAX_REGEX_LENGTH) throw new TagError(`regex longer than ${MAX_REGEX_LENGTH} characters`);
  // Every regex is anchored where it is applied; a leading ^ is accepted and redundant.
  let src = text.startsWith('^') ? text.slice(1) : text;
  const hostTags = (src.match(/<(?:HOST|ADDR)>/g) ?? []).length;
  if (role === 'failregex' && hostTags !== 1) throw new TagError(hostTags === 0 ? 'failregex has no <HOST> or <ADDR>' : 'failregex has more than one <HOST>/<ADDR>');
  if (role !== 'failregex' && hostTags !== 0) throw new TagError(`<HOST>/<ADDR> is only allowed in a failregex`);
  for (const g of [ADDR_GROUP, NAME_GROUP]) if (src.includes(`(?<${g}>`)) throw new TagError(`the group name ${g} is reserved`);
  if (role === 'failregex') {
    const before = src.slice(0, src.search(/<(?:HOST|ADDR)>/));
    const greedy = findCatchAll(before);
    if (greedy) throw new TagError(`catch-all "${greedy}" before <HOST> would let text written by the client choose the address`);
  }
  const nested = findNestedQuantifier(src);
  if (nested) throw new TagError(`nested quantifier "${nested}" risks catastrophic backtracking`);

  const fields: string[] = [];
  const open: string[] = [];
  src = src.replace(/<HOST>|<ADDR>|<(\/?)F-([A-Za-z][A-Za-z0-9_]*)>/g, (tag, close: string | undefined, name: string | undefined) => {
    if (tag === '<HOST>') return HOST;
    if (tag === '<ADDR>') return `(?<${ADDR_GROUP}>${ADDR})`;
    const field = (name ?? '').toLowerCase();
    if (close) {
      if (open.pop() !== field) throw new TagError(`</F-${name}> does not close the innermost <F-…> tag`);
      return ')';
    }
    if (fields.includes(field)) throw new TagError(`<F-${name}> appears twice`);
    fields.push(field);
    open.push(field);
    return `(?<${field}>`;
  });
  if (open.length > 0) throw new TagError(`<F-${open[open.length - 1]?.toUpperCase()}> is never closed`);
  for (const m of src.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)) {
    const name = m[1] ?? '';
    if (name !== ADDR_GROUP && name !== NAME_GROUP && !fields.includes(name)) fields.push(name);
  }
  return { source: src, fields, hasAddress: hostTags === 1 };
}

/**
 * Indices of the characters of a regex source that are structure: outside escapes and outside
 * character classes. A class's opening `[` is yielded, its contents are not. Every scanner
 * below walks a source this way.
 */
export function* structural(src: string, from = 0): Generator<number> {
  let inClass = false;
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    yield i;
  }
}

/** An unescaped `.*`, `.+`, `[\s\S]` or `[^]` outside a character class, or null. */
function findCatchAll(src: string): string | null {
  for (const i of structural(src)) {
    const c = src[i];
    if (c === '[') {
      if (src.startsWith('[\\s\\S]', i) || src.startsWith('[\\S\\s]', i) || src.startsWith('[^]', i)) return src.slice(i, i + 6).replace(/\].*/, ']');
      continue;
    }
    if (c === '.' && (src[i + 1] === '*' || src[i + 1] === '+' || src[i + 1] === '{')) return src.slice(i, i + 2);
  }
  return null;
}

/**
 * A repeated group whose body itself begins with a repeated atom, e.g. `(a+)+` or
 * `(\w+\s?)*`: the classic shapes of catastrophic backtracking. A heuristic, kept simple
 * on purpose; lines are also capped in length before any regex sees them.
 */
function findNestedQuantifier(src: string): string | null {
  const starts: number[] = [];
  for (const i of structural(src)) {
    const c = src[i];
    if (c === '(') starts.push(i);
    else if (c === ')') {
      const start = starts.pop();
      if (start === undefined) return null;
      const q = /^(?:[+*]|\{\d*,\})/.exec(src.slice(i + 1, i + 12));
      if (!q) continue;
      let body = src.slice(start + 1, i);
      if (body.startsWith('?:')) body = body.slice(2);
      else if (body.startsWith('?<') && !body.startsWith('?<=') && !body.startsWith('?<!')) body = body.slice(body.indexOf('>') + 1);
      if (alternatives(body).some((alt) => REPEATED_ATOM_FIRST.test(alt))) return src.slice(start, i + 1 + q[0].length);
    }
  }
  return null;
}

const REPEATED_ATOM_FIRST = /^(?:\\.|\[(?:\\.|[^\]\\])*\]|[^()|\\[])(?:[+*]|\{\d*,\})/;

// ---- first characters -----------------------------------------------------------------
// The set of characters a match can start with, so a line can be dismissed by looking at
// one character. null means "cannot tell": every line is a candidate for that regex.

const META = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);

function isOptionalQuantifier(src: string, i: number): boolean {
  const c = src[i];
  return c === '?' || c === '*' || (c === '{' && /^\{0[,}]/.test(src.slice(i, i + 3)));
}

/** Index just past the group that opens at i. */
function skipGroup(src: string, i: number): number {
  let depth = 0;
  for (const j of structural(src, i)) {
    const c = src[j];
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return src.length;
}

/** Splits the top-level alternatives of a group body. */
function alternatives(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let last = 0;
  for (const i of structural(body)) {
    const c = body[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(body.slice(last, i));
      last = i + 1;
    }
  }
  out.push(body.slice(last));
  return out;
}

function classChars(src: string, i: number): { chars: Set<number> | null; end: number } {
  // i is at '['
  let j = i + 1;
  if (src[j] === '^') return { chars: null, end: skipClass(src, i) };
  const chars = new Set<number>();
  let ok = true;
  while (j < src.length && src[j] !== ']') {
    let c: number;
    if (src[j] === '\\') {
      const e = src[j + 1] ?? '';
      if (e === 'd') {
        for (let k = 48; k <= 57; k++) chars.add(k);
        j += 2;
        continue;
      }
      if (/[A-Za-z0-9]/.test(e)) ok = false;
      c = e.charCodeAt(0);
      j += 2;
    } else {
      c = src.charCodeAt(j);
      j++;
    }
    if (src[j] === '-' && src[j + 1] !== ']' && j + 1 < src.length) {
      const hi = src[j + 1] === '\\' ? src.charCodeAt(j + 2) : src.charCodeAt(j + 1);
      j += src[j + 1] === '\\' ? 3 : 2;
      if (hi - c > 256) ok = false;
      for (let k = c; k <= hi && ok; k++) chars.add(k);
    } else chars.add(c);
  }
  return { chars: ok ? chars : null, end: j + 1 };
}

function skipClass(src: string, i: number): number {
  for (let j = i + 1; j < src.length; j++) {
    if (src[j] === '\\') j++;
    else if (src[j] === ']' && j > i + 1) return j + 1;
  }
  return src.length;
}

export function firstChars(src: string): Set<number> | null {
  // `a|b` at the top level: a match starts with a character of any alternative.
  const alts = alternatives(src);
  if (alts.length > 1) return unionOf(alts.map(firstChars));
  let i = 0;
  while (src[i] === '^') i++;
  if (i >= src.length) return null;
  const c = src[i] ?? '';
  let chars: Set<number> | null;
  let end: number;
  if (c === '\\') {
    const e = src[i + 1] ?? '';
    if (/[A-Za-z0-9]/.test(e)) return null;
    chars = new Set([e.charCodeAt(0)]);
    end = i + 2;
  } else if (c === '[') {
    ({ chars, end } = classChars(src, i));
  } else if (c === '(') {
    end = skipGroup(src, i);
    let body = src.slice(i + 1, end - 1);
    if (body.startsWith('?:')) body = body.slice(2);
    else if (body.startsWith('?<') && !body.startsWith('?<=') && !body.startsWith('?<!')) body = body.slice(body.indexOf('>') + 1);
    else if (body.startsWith('?')) return null;
    chars = new Set<number>();
    for (const alt of alternatives(body)) {
      const s = firstChars(alt);
      if (s === null) return null;
      for (const x of s) chars.add(x);
    }
  } else if (META.has(c)) {
    return null;
  } else {
    chars = new Set([c.charCodeAt(0)]);
    end = i + 1;
  }
  if (chars === null || chars.size === 0) return null;
  if (!isOptionalQuantifier(src, end)) return chars;
  // An optional first atom, as in `(?:milter-)?reject`: the match starts with it or with
  // whatever follows it (null when nothing must follow: the match may be empty).
  return unionOf([chars, firstChars(src.slice(afterQuantifier(src, end)))]);
}

function unionOf(sets: (Set<number> | null)[]): Set<number> | null {
  const out = new Set<number>();
  for (const s of sets) {
    if (s === null) return null;
    for (const x of s) out.add(x);
  }
  return out;
}

/** Index just past the quantifier (and its lazy `?`) that starts at i. */
function afterQuantifier(src: string, i: number): number {
  let j = src[i] === '{' ? src.indexOf('}', i) + 1 : i + 1;
  if (j === 0) return src.length;
  if (src[j] === '?') j++;
  return j;
}

// ---- literal hints ---------------------------------------------------------------------
// Text every match must contain, found in the regex itself, so most lines are dismissed
// with startsWith/indexOf instead of entering the regex engine at all.

export interface LiteralHints {
  /** Text a match must start with ('' if none is certain). */
  readonly lead: string;
  /** The longest other text a match must contain somewhere ('' if none). */
  readonly inner: string;
}

/** Conservative: any construct it does not fully understand just ends the current run. */
export function literalHints(src: string): LiteralHints {
  const runs: { text: string; start: number }[] = [];
  let run = '';
  let runStart = 0;
  const end = () => {
    if (run) runs.push({ text: run, start: runStart });
    run = '';
  };
  let i = 0;
  while (src[i] === '^') i++;
  const first = i;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '|') return { lead: '', inner: '' };
    if (c === '?' || c === '*' || c === '+' || c === '{') {
      // The quantified atom is optional or repeated: drop it from the run.
      if (run) run = run.slice(0, -1);
      end();
      const braces = c === '{' ? /^\{\d*,?\d*\}/.exec(src.slice(i, i + 24)) : null;
      i += braces ? braces[0].length : 1;
      continue;
    }
    if (c === '(') {
      end();
      i = skipGroup(src, i);
      continue;
    }
    if (c === '[') {
      end();
      i = skipClass(src, i);
      continue;
    }
    if (c === '\\') {
      const e = src[i + 1] ?? '';
      if (/[A-Za-z0-9]/.test(e)) {
        end();
        i += 2;
        continue;
      }
      if (!run) runStart = i;
      run += e;
      i += 2;
      continue;
    }
    if (c === '.' || c === '$' || c === '^' || c === ')' || c === ']' || c === '}') {
      end();
      i++;
      continue;
    }
    if (!run) runStart = i;
    run += c;
    i++;
  }
  end();
  // A quantifier right after a run can only be seen once the run has ended, so trust a
  // run only if the character after it is not a quantifier (handled above by slicing).
  const lead = runs[0] && runs[0].start === first ? runs[0].text : '';
  let inner = '';
  for (const r of runs) if (r.text !== lead && r.text.length > inner.length) inner = r.text;
  return { lead, inner };
}
