// Every filter regex runs on attacker-written log lines, so none may backtrack without bound.
//
// How the bound works. V8 ships a second regex engine that simulates the automaton breadth-first
// (time O(regex size × line length), no backtracking at all). With
// `--enable-experimental-regexp-engine-on-excessive-backtracks`, a regex that this engine can run
// is executed by the ordinary (fast) backtracking engine with a budget of
// `--regexp-backtracks-before-fallback` backtracks; when a match exceeds the budget V8 abandons it
// and re-runs that one match on the breadth-first engine, which returns the same result (same
// match, same captures: it implements the backtracking priority order). So one match costs at most
// the budget plus one linear-time run, whatever the regex and the line: ReDoS cannot happen.
//
// That guarantee covers exactly the regexes V8 accepts under the `l` (linear) flag. Compiling
// each regex once with `l` asks V8 that very question (it is the same predicate V8 uses to arm
// the fallback), so a regex the fallback could not cover is refused at load, with the reason.
// V8 refuses backreferences, lookarounds and counted repeats above 16 (nested counts multiply).
//
// Lookarounds are too useful in filters to refuse (`rip=<ADDR>(?![^\n]*\brip=)`), so they are
// taken out of the regex before V8 sees it: each lookaround becomes a check that pban runs itself,
// with its own linear-capable regex, at the position where the lookaround stood in the match the
// rest of the regex found. The difference from JavaScript's semantics: when a check fails, pban
// does not backtrack into the rest of the regex to find another match that passes it; the regex
// simply does not match the line. A lookaround inside a repeated group is refused (its position
// would not be known). The rest of the regex and every check are linear-capable regexes, covered
// by the same fallback, so a regex with lookarounds is bounded too.
//
// The cost of the bound. The breadth-first engine is slow per character (it carries every live
// thread of the automaton), so a fallback run costs roughly regex size × line length: measured
// on this machine, `(.*a){12}$` on the 110-byte line takes a few ms, on a 16 KiB line
// (MAX_LINE_LENGTH, the other half of the bound) about a second. Ordinary filter regexes never
// get there: V8 counts no backtracks for a greedy loop over a class (`[^\s\[\]]*\[`) and one
// per iteration of a loop that keeps choices (`(?:a|b)*`), so an ordinary match stays below
// 50,000 backtracks (V8's default; three per character of a 16 KiB line), and only a regex that
// is actually exploding pays for the fallback. Reaching 50,000 takes a few milliseconds.
import v8 from 'node:v8';

/** Backtracks a match may take before V8 re-runs it on the linear-time engine. */
export const BACKTRACKS_BEFORE_FALLBACK = 50_000;

// Set before any filter regex is compiled (this module is imported by the filter compiler). The
// `l` flag is only used to ask V8 whether a regex is linear-capable; matching uses `y`.
v8.setFlagsFromString('--enable-experimental-regexp-engine');
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
v8.setFlagsFromString(`--regexp-backtracks-before-fallback=${BACKTRACKS_BEFORE_FALLBACK}`);

export class LinearError extends Error {}

/** A check that replaced a lookaround: run at `at` in `line`, true when the lookaround holds. */
interface LookCheck {
  /** Index into the marks: the lookaround stood where that mark's group ends. */
  readonly mark: number;
  readonly negative: boolean;
  readonly behind: boolean;
  readonly body: RegExp;
}

export interface LinearRegex {
  /** The regex to run (sticky), with its lookarounds taken out. */
  readonly re: RegExp;
  /** The source given to `re`: the expanded source with lookarounds replaced by capture groups. */
  readonly source: string;
  /**
   * null when the regex had no lookaround. Otherwise, after `re.exec` matched at `start`, tells
   * whether every lookaround the match passed through holds.
   */
  readonly holds: ((m: RegExpExecArray, start: number, line: string) => boolean) | null;
}

/** Throws LinearError when V8's linear-time engine cannot run `source` (and so cannot bound it). */
function probe(source: string, what: string): void {
  try {
    // Only compiled, never run: V8 decides at construction.
    new RegExp(source, 'ly');
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    if (!/Cannot be executed in linear time/.test(err.message)) throw err;
    throw new LinearError(`${what} ${whyNotLinear(source)}`);
  }
}

/** A best guess at which construct made V8 refuse, for the message. */
function whyNotLinear(source: string): string {
  if (/\\[1-9]|\\k</.test(stripClasses(source))) return 'uses a backreference, which cannot be matched in bounded time';
  if (/\(\?<?[=!]/.test(stripClasses(source))) return 'nests a lookaround inside a lookaround, which pban cannot bound';
  return 'has a counted repeat above 16, which the linear-time engine cannot run ({n,m} may not exceed 16, {n,} counts n+1, nested counts multiply; use + or * instead)';
}

/** The source with escapes and character classes blanked, so scanning it sees only structure. */
function stripClasses(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    if (c === '\\') {
      out += inClass ? '  ' : src.slice(i, i + 2);
      i++;
      continue;
    }
    if (inClass) {
      out += c === ']' ? ']' : ' ';
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    out += c;
  }
  return out;
}

// ---- a small parser: just enough structure to find lookarounds and their positions ----------

interface Seq {
  readonly items: Item[];
}
type Item =
  | { readonly type: 'atom'; readonly text: string }
  | { readonly type: 'group'; readonly open: string; readonly alts: Seq[]; readonly quant: string }
  | { readonly type: 'look'; readonly negative: boolean; readonly behind: boolean; readonly body: string };

const QUANT = /^(?:[*+?]|\{\d+(?:,\d*)?\})\??/;

function parse(src: string): Seq[] {
  let i = 0;
  const alts = (): Seq[] => {
    const out: Seq[] = [{ items: [] }];
    while (i < src.length) {
      const c = src[i] as string;
      if (c === ')') return out;
      if (c === '|') {
        out.push({ items: [] });
        i++;
        continue;
      }
      const items = (out[out.length - 1] as Seq).items;
      if (c === '(') {
        const look = /^\(\?(<?)([=!])/.exec(src.slice(i, i + 4));
        const open = look ? look[0] : (/^\((?:\?:|\?<[A-Za-z_$][\w$]*>)?/.exec(src.slice(i)) as RegExpExecArray)[0];
        const bodyStart = i + open.length;
        i = bodyStart;
        const inner = alts();
        if (src[i] !== ')') throw new LinearError('unbalanced parenthesis');
        const bodyEnd = i;
        i++;
        const quant = QUANT.exec(src.slice(i))?.[0] ?? '';
        i += quant.length;
        if (look) {
          if (quant !== '') throw new LinearError(`a quantified lookaround "${src.slice(bodyStart - open.length, i)}" is not supported`);
          items.push({ type: 'look', behind: look[1] === '<', negative: look[2] === '!', body: src.slice(bodyStart, bodyEnd) });
        } else items.push({ type: 'group', open, alts: inner, quant });
        continue;
      }
      // An atom: an escape, a class, or one character, with its quantifier.
      let end = i + 1;
      if (c === '\\') end = i + 2;
      else if (c === '[') {
        end = i + 1;
        if (src[end] === '^') end++;
        if (src[end] === ']') end++;
        while (end < src.length && src[end] !== ']') end += src[end] === '\\' ? 2 : 1;
        end++;
      }
      const quant = QUANT.exec(src.slice(end))?.[0] ?? '';
      items.push({ type: 'atom', text: src.slice(i, end + quant.length) });
      i = end + quant.length;
    }
    return out;
  };
  const top = alts();
  if (i !== src.length) throw new LinearError('unbalanced parenthesis');
  return top;
}

function hasLook(item: Item): boolean {
  return item.type === 'look' || (item.type === 'group' && item.alts.some((s) => s.items.some(hasLook)));
}

function isOnce(quant: string): boolean {
  return quant === '' || quant === '?' || quant === '??' || /^\{[01](?:,[01]?)?\}\??$/.test(quant);
}

interface Rewritten {
  readonly source: string;
  /** Groups added in front of lookarounds, in the order their ends are computed. */
  readonly marks: { group: number; base: number }[];
  readonly checks: { mark: number; negative: boolean; behind: boolean; body: string }[];
}

/**
 * Replaces each lookaround with nothing and wraps what precedes it in its alternative in a new
 * capture group (a "mark"), so the lookaround's position is the end of that group. A group that
 * holds a lookaround gets a mark too: its start is where the lookarounds inside it count from.
 * Groups are numbered in the order their `(` appears, which the walk below reproduces.
 */
function rewrite(top: Seq[]): Rewritten {
  let groups = 0;
  const marks: Rewritten['marks'] = [];
  const checks: Rewritten['checks'] = [];
  const alts = (seqs: Seq[], base: number): string => seqs.map((s) => seq(s, base)).join('|');
  const seq = (s: Seq, base: number): string => {
    const at = s.items.map((it, k) => (hasLook(it) ? k : -1)).filter((k) => k >= 0);
    if (at.length === 0) return s.items.map(plain).join('');
    // ((( items before the 1st ) items before the 2nd ) …): all open at the start of the
    // alternative, so the outermost, numbered first, closes last.
    const ids: number[] = at.map(() => ++groups);
    let out = '('.repeat(at.length);
    let n = 0;
    for (let k = 0; k < s.items.length; k++) {
      const it = s.items[k] as Item;
      if (k !== at[n]) {
        out += plain(it);
        continue;
      }
      out += ')';
      const group = ids[at.length - 1 - n] as number;
      n++;
      marks.push({ group, base });
      const mark = marks.length - 1;
      if (it.type === 'look') checks.push({ mark, negative: it.negative, behind: it.behind, body: it.body });
      else if (it.type === 'group') {
        if (!isOnce(it.quant)) throw new LinearError(`a lookaround inside a repeated group "${it.open}…)${it.quant}" cannot be checked`);
        if (it.open === '(' || it.open.startsWith('(?<')) groups++;
        out += it.open + alts(it.alts, mark) + ')' + it.quant;
      }
    }
    return out;
  };
  const plain = (it: Item): string => {
    if (it.type !== 'group') return it.type === 'atom' ? it.text : '';
    if (it.open === '(' || it.open.startsWith('(?<')) groups++;
    return it.open + alts(it.alts, -1) + ')' + it.quant;
  };
  return { source: alts(top, -1), marks, checks };
}

/**
 * Compiles an expanded filter regex so that matching it is bounded (see the top of this file).
 * Throws LinearError with a one-line reason when it cannot be.
 */
export function compileLinear(source: string): LinearRegex {
  if (!/\(\?<?[=!]/.test(stripClasses(source))) {
    probe(source, 'regex');
    return { re: new RegExp(source, 'y'), source, holds: null };
  }
  const { source: skeleton, marks, checks: raw } = rewrite(parse(source));
  probe(skeleton, 'regex');
  const checks: LookCheck[] = raw.map((c) => {
    const shown = `(?${c.behind ? '<' : ''}${c.negative ? '!' : '='}${c.body})`;
    probe(c.body, `lookaround "${shown}"`);
    if (/\(\?<[A-Za-z_$]/.test(stripClasses(c.body))) throw new LinearError(`lookaround "${shown}" holds a named group, which is never captured`);
    // A lookbehind holds when its body matches some text that ends at the position.
    return { mark: c.mark, negative: c.negative, behind: c.behind, body: c.behind ? new RegExp(`(?:${c.body})$`) : new RegExp(c.body, 'y') };
  });
  const ends = new Array<number>(marks.length);
  const holds = (m: RegExpExecArray, start: number, line: string): boolean => {
    // Marks are listed parents first, so a mark's base is known before the mark.
    for (let k = 0; k < marks.length; k++) {
      const { group, base } = marks[k] as { group: number; base: number };
      const text = m[group];
      const from = base === -1 ? start : (ends[base] as number);
      // -1: the alternative holding this mark was not taken.
      ends[k] = text === undefined || from < 0 ? -1 : from + text.length;
    }
    for (const c of checks) {
      const at = ends[c.mark] as number;
      if (at < 0) continue;
      let found: boolean;
      if (c.behind) found = c.body.test(line.slice(0, at));
      else {
        c.body.lastIndex = at;
        found = c.body.test(line);
      }
      if (found === c.negative) return false;
    }
    return true;
  };
  return { re: new RegExp(skeleton, 'y'), source: skeleton, holds };
}
