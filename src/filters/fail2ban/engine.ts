// Runs a fail2ban filter over lines with fail2ban's semantics: the date found and cut out
// of the line, the multi-line buffer (maxlines), prefregex and its <F-CONTENT>, failregexes
// searched (not anchored unless they say so), ignoreregexes, and the multi-line failure ids
// (<F-MLFID>, <F-NOFAIL>, <F-MLFFORGET>, <F-MLFGAINED>) merged across lines. Stateful by
// design, as fail2ban's filter is: one engine per stream of lines.
import type { Zone } from '../dates.js';
import type { DateDetector } from './dates.js';
import { compileF2bRegex, groupsOf, type CompiledF2bRegex } from './failregex.js';

/** One failure as fail2ban reports it. */
export interface F2bFailure {
  /** Index of the failregex that matched. */
  readonly regex: number;
  /** The failure id as fail2ban reports it: the captured address or host text, or <F-ID>. */
  readonly host: string;
  /** Seconds since the epoch (fractional), or null when the line had no usable date. */
  readonly time: number | null;
  /** The captured groups (user, ip4, dns, …), none null. */
  readonly fields: Readonly<Record<string, string>>;
  /** Users seen on a multi-line failure id. */
  readonly users: readonly string[] | undefined;
  /** Lines counted for this failure (fail2ban's "attempts"). */
  readonly attempts: number;
}

export interface EngineOptions {
  readonly prefregex: string | undefined;
  readonly failregex: readonly string[];
  readonly ignoreregex: readonly string[];
  readonly maxlines: number;
  readonly usedns: string | undefined;
  readonly detector: DateDetector;
  readonly zone: Zone;
  /** Journal lines: the time is the entry's (here: now), no date is searched in the text. */
  readonly journal: boolean;
  /** Try every failregex on a line, as fail2ban's sample harness does. */
  readonly checkAllRegex: boolean;
}

type Tuple = readonly [string, string, string];
// `matches` and `nofail-matches` are counts: only their number is ever reported (attempts).
type Fail = Record<string, unknown> & { matches?: number; users?: Set<string> };

class SearchResult {
  constructor(
    readonly m: RegExpExecArray,
    readonly matched: Tuple[],
    readonly unmatched: Tuple[],
  ) {}
}


function tupleBuf(lines: readonly Tuple[]): string {
  let s = '';
  for (const l of lines) s += `${l[0]}${l[2]}\n`;
  return s;
}

function search(r: CompiledF2bRegex, buf: string, org: readonly Tuple[]): SearchResult | null {
  // (Indexing past the table, or with NaN for an empty buffer, gives undefined: no match.)
  if (r.first !== null && r.first[buf.charCodeAt(0)] !== 1) return null;
  if (r.lead !== '' && !buf.startsWith(r.lead)) return null;
  if (r.inner !== '' && !buf.includes(r.inner)) return null;
  const m = r.re.exec(buf);
  if (m === null) return null;
  if (org.length <= 1) return new SearchResult(m, org as Tuple[], []);
  const s = m.input;
  const startLine = s.lastIndexOf('\n', m.index) + 1;
  let endLine = s.indexOf('\n', m.index + m[0].length - 1);
  endLine = endLine < 0 ? s.length : endLine + 1;
  let c1 = 0;
  for (let i = s.indexOf('\n'); i !== -1 && i < startLine; i = s.indexOf('\n', i + 1)) c1++;
  let c2 = 0;
  for (let i = s.indexOf('\n'); i !== -1 && i < endLine; i = s.indexOf('\n', i + 1)) c2++;
  const matched = org.slice(c1, c2);
  const unmatched = org.slice(0, c1);
  // Lines a <SKIPLINES> passed over are not part of the failure: back to the buffer.
  if (r.names.has('skiplines0')) {
    const g = groupsOf(r, m);
    let skipped = '';
    for (let k = 0; `skiplines${k}` in g; k++) skipped += g[`skiplines${k}`] ?? '';
    let n = 0;
    for (const sl of skipped.split('\n').filter((x, i, a) => i < a.length - 1 || x !== '')) {
      for (let j = n; j < matched.length; j++) {
        const t = matched[j] as Tuple;
        if (t[0] + t[2] === sl) {
          unmatched.push(t);
          matched.splice(j, 1);
          n = j;
          break;
        }
      }
    }
  }
  unmatched.push(...org.slice(c2));
  return new SearchResult(m, matched, unmatched);
}

const FAILURE_ID = ['fid', 'ip4', 'ip6', 'dns'];

/** What a line without a failure gives. */
const NONE: readonly F2bFailure[] = Object.freeze([]);

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/**
 * `{ ...pre, ...fail }` written out: the same keys in the same order, the failregex's values
 * winning. (An object spread of these dynamically keyed objects was the costliest single line
 * of a line's matching in a profile of sshd.conf.)
 */
function mergeGroups(pre: Record<string, unknown>, fail: Fail): Fail {
  const o: Fail = {};
  for (const k in pre) o[k] = pre[k];
  for (const k in fail) o[k] = fail[k];
  return o;
}

export class Fail2banEngine {
  private readonly pref: CompiledF2bRegex | null;
  private readonly fails: CompiledF2bRegex[];
  private readonly ignores: CompiledF2bRegex[];
  private buffer: Tuple[] = [];
  private lastDate: number | null = null;
  private lastTimeText = '';
  /** <F-CONTENT> of the prefregex's last match. */
  private readonly prefContent: { value: string | undefined } = { value: undefined };
  private readonly mlfid = new Map<string, { fail: Map<string, unknown>; at: number }>();
  /** The data kept for the id of the last merge, when it is still kept (see mergeFailure). */
  private merged: Map<string, unknown> | null = null;

  constructor(
    readonly opts: EngineOptions,
    compileError: (which: string, index: number, regex: string, err: Error) => never,
  ) {
    const multiline = opts.maxlines > 1;
    const compile = (which: string, i: number, src: string) => {
      try {
        return compileF2bRegex(src, { useDns: opts.usedns, multiline });
      } catch (err) {
        return compileError(which, i, src, err as Error);
      }
    };
    this.pref = opts.prefregex === undefined ? null : compile('prefregex', 0, opts.prefregex);
    this.fails = opts.failregex.map((r, i) => compile('failregex', i, r));
    this.ignores = opts.ignoreregex.map((r, i) => compile('ignoreregex', i, r));
    const prefHasId = this.pref !== null && [...FAILURE_ID, 'mlfid'].some((g) => this.pref?.names.has(g));
    this.fails.forEach((r, i) => {
      if (!prefHasId && ![...FAILURE_ID, 'mlfid'].some((g) => r.names.has(g))) {
        compileError('failregex', i, r.source, new Error('no failure-id group (<HOST>, <ADDR>, <F-ID>, …)'));
      }
    });
  }

  /**
   * Processes one line; nowMs is the clock (year inference, journal time, date carry-over).
   * `lineNl`, when the caller has it, is the same line followed by "\n" as one string (a
   * slice of what it read): the buffer the regexes search first is then a slice of it, not
   * a concatenation copied anew for every line. The array returned is not to be changed.
   */
  processLine(line: string, nowMs: number, lineNl?: string): readonly F2bFailure[] {
    const now = nowMs / 1000;
    let tuple: Tuple;
    let date: number | null = null;
    if (this.opts.journal) {
      tuple = ['', '', line];
      date = now;
    } else {
      const dm = this.opts.detector.match(line, this.opts.zone, nowMs);
      if (dm) {
        tuple = [line.slice(0, dm.start), line.slice(dm.start, dm.end), line.slice(dm.end)];
        if (!dm.empty) {
          date = dm.time;
          if (date !== null) {
            this.lastTimeText = tuple[1];
            this.lastDate = date;
          }
        } else if (this.lastDate !== null && this.lastDate > now - 60) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
        } else date = now;
      } else tuple = ['', '', line];
      if (date === null) {
        // No usable date: the previous line's, if it is recent (fail2ban's carry-over).
        if (this.lastDate !== null && this.lastDate > now - 60) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
        }
      }
    }
    // The buffer of this line alone is tuple[0] + tuple[2] + "\n", and tuple[2] ends the line.
    const own = lineNl !== undefined && tuple[0] === '' ? lineNl.slice(line.length - tuple[2].length) : undefined;
    return this.findFailure(tuple, date, own);
  }

  private ignoreLine(buf: string, org: readonly Tuple[], fr: SearchResult | null): boolean {
    if (fr && this.opts.maxlines > 1) {
      org = fr.matched;
      buf = tupleBuf(org);
    }
    for (const ig of this.ignores) {
      if (search(ig, buf, org)) {
        if ((!this.opts.checkAllRegex || this.opts.maxlines > 1) && fr) this.buffer = fr.unmatched;
        return true;
      }
    }
    return false;
  }

  private findFailure(tuple: Tuple, date: number | null, own: string | undefined): readonly F2bFailure[] {
    // (Most lines report nothing: one shared empty array for them.)
    let out: F2bFailure[] | null = null;
    const checkAll = this.opts.checkAllRegex;
    const multi = this.opts.maxlines > 1;
    let org: Tuple[];
    if (multi) {
      this.buffer.push(tuple);
      this.buffer = this.buffer.slice(-this.opts.maxlines);
      org = this.buffer;
    } else {
      this.buffer = [tuple];
      org = this.buffer;
    }
    let buf: string | null = own !== undefined && org.length === 1 ? own : tupleBuf(org);
    if (this.ignores.length > 0 && this.ignores.length < this.fails.length - 2) {
      if (this.ignoreLine(buf, org, null)) return NONE;
    }
    let preGroups: Record<string, string | undefined> = {};
    if (this.pref) {
      const pr = search(this.pref, buf, org);
      if (!pr) return NONE;
      // <F-CONTENT> is left out of the groups as they are built (a delete would turn the
      // object into a slow dictionary for the merge below).
      preGroups = groupsOf(this.pref, pr.m, 'content', this.prefContent);
      const content = this.prefContent.value;
      if (content) {
        this.buffer = [['', '', content]];
        buf = null;
      }
    }
    for (let idx = 0; idx < this.fails.length; idx++) {
      const r = this.fails[idx] as CompiledF2bRegex;
      if (buf === null) buf = tupleBuf(this.buffer);
      const fr = search(r, buf, org);
      if (!fr) continue;
      let fail: Fail = groupsOf(r, fr.m) as Fail;
      if (this.ignores.length > 0 && this.ignoreLine(buf, org, fr)) {
        buf = null;
        if (!checkAll) break;
        continue;
      }
      if (!checkAll || multi) {
        this.buffer = fr.unmatched;
        buf = null;
      }
      if (hasKeys(preGroups)) fail = mergeGroups(preGroups, fail);
      const mlfid = fail.mlfid as string | undefined;
      const matchedLines = fr.matched.length;
      if (mlfid !== undefined && mlfid !== null) {
        fail = this.mergeFailure(mlfid, fail, matchedLines);
        if (fail.nofail && !checkAll) return out ?? NONE;
      } else {
        fail.matches = (fail.matches ?? 0) + matchedLines;
      }
      const fid = (fail.fid as string | undefined) ?? undefined;
      const ip = (fail.ip4 as string | undefined) ?? (fail.ip6 as string | undefined) ?? (fail.dns as string | undefined) ?? fid;
      if (ip === undefined) {
        // A multi-line id without an address yet: pending until a line gives one.
        fail.mlfpending = 1;
        if (mlfid !== undefined && mlfid !== null) this.merged?.set('mlfpending', 1);
        if (!checkAll) return out ?? NONE;
        continue;
      }
      if (fail.nofail) continue;
      const host = fid === undefined || fid === ip ? ip : fid;
      const found = this.report(idx, host, date, fail);
      if (out === null) out = [found];
      else out.push(found);
      if (!checkAll) break;
    }
    return out ?? NONE;
  }

  private report(idx: number, host: string, date: number | null, fail: Fail): F2bFailure {
    const fields: Record<string, string> = {};
    for (const k in fail) {
      const v = fail[k];
      if (typeof v === 'string') fields[k] = v;
    }
    const users = fail.users instanceof Set ? [...fail.users].sort() : undefined;
    return { regex: idx, host, time: date, fields, users, attempts: fail.matches ?? 0 };
  }

  private updateUsers(fail: Map<string, unknown>, user: unknown): Set<string> | undefined {
    let users = fail.get('users') as Set<string> | undefined;
    if (typeof user === 'string' && user !== '') {
      if (!users) fail.set('users', (users = new Set()));
      users.add(user);
      return users;
    }
    return users;
  }

  /**
   * fail2ban's merge of the failure data of one multi-line id (a connection). The data kept
   * per id is a Map, not an object: keys come and go on every merge, and deleting an
   * object's keys turns it into a slow dictionary. A Map keeps the same order (a key set
   * again after a delete goes last) and the failure returned is a plain object in that order.
   */
  private mergeFailure(mlfid: string, fail: Fail, matched: number): Fail {
    // fail2ban keeps at most 100 ids, each for 5 minutes (of the clock, not of the log).
    let entry = this.mlfid.get(mlfid);
    const wall = Date.now();
    if (entry !== undefined && wall - entry.at > 300_000) {
      this.mlfid.delete(mlfid);
      entry = undefined;
    }
    let users: Set<string> | undefined;
    let fl = 0;
    if (fail.mlfgained) {
      fl |= 8 | 1;
      if (!fail.nofail) fail.nofail = fail.mlfgained;
    } else if (fail.nofail) fl |= 1;
    if (fail.mlfforget) fl |= 2;
    let m: Map<string, unknown>;
    this.merged = null;
    if (entry) {
      m = entry.fail;
      users = this.updateUsers(m, fail.user);
      if (m.get('nofail')) fl |= 4;
      m.delete('nofail');
      if (m.get('mlfgained')) fl |= 4;
      m.delete('mlfgained');
      if (fl & 8) m.delete('mlfpending');
      if ((fl & 4) === 0 && !m.get('mlfpending')) m.delete('matches');
      for (const k in fail) {
        const v = fail[k];
        if (k !== 'mlfforget' && v !== undefined && v !== null) m.set(k, v);
      }
      if (fl & 2) this.mlfid.delete(mlfid);
      else this.merged = m;
    } else {
      m = new Map();
      for (const k in fail) if (k !== 'mlfforget') m.set(k, fail[k]);
      if (!(fl & 2)) {
        users = this.updateUsers(m, fail.user);
        if (this.mlfid.size >= 100) this.mlfid.delete(this.mlfid.keys().next().value as string);
        this.mlfid.set(mlfid, { fail: m, at: wall });
        this.merged = m;
      }
    }
    const pending = m.get('mlfpending');
    m.delete('mlfpending');
    if (pending || (users && users.size > 1)) {
      m.delete('nofail');
      m.delete('mlfgained');
      fl &= ~(8 | 1);
    }
    if ((fl & 1) === 0) {
      let n = (m.get('nofail-matches') as number | undefined) ?? 0;
      m.delete('nofail-matches');
      n += (m.get('matches') as number | undefined) ?? 0;
      if ((fl & 8) === 0) n += matched;
      m.set('matches', n);
    } else if ((fl & 3) === 1) {
      m.set('nofail-matches', ((m.get('nofail-matches') as number | undefined) ?? 0) + matched);
    }
    const out: Fail = {};
    m.forEach((v, k) => {
      out[k] = v;
    });
    return out;
  }
}
