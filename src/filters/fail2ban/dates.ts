// fail2ban's date detection: strptime-style `datepattern`s (`%b %d %H:%M:%S`, fail2ban's
// `%Ex…` variants, `{^LN-BEG}`, `{DATE}`, `{UNB}`, `{NONE}`, EPOCH, LEPOCH, TAI64N) and its
// list of default templates, with the same choice of template: anchored forms first, a
// match at the line start over one further in, the template that matched last tried first.
// The matched text is cut out of the line before the failregexes see it, as in fail2ban.
import type { Zone } from '../dates.js';
import { utcMs } from '../dates.js';
import { translatePython, withoutGroupNames } from './pyregex.js';

export class DatePatternError extends Error {}

// strptime directives as regex fragments (Python syntax), following Python's C-locale
// table with fail2ban's overrides and its `Ex` (exact width) additions.
function directives(nowYear: number): Record<string, string> {
  const tz = '[A-Z](?:[A-Z]{2,4})?';
  // %ExY: a four-digit year near now (and near 2001, as fail2ban also accepts), so a random
  // number is not taken for a year.
  const cents = new Set<string>();
  // (fail2ban builds it from the real clock and the replayed one alike: both count here.)
  const top = Math.max(nowYear, new Date().getUTCFullYear()) + 3;
  for (let y = Math.min(2000, nowYear - 1); y <= top; y++) cents.add(String(y).slice(0, 3));
  const exY = `(?P<Y>(?:${[...cents].sort().join('|')})\\d)`;
  return {
    '%': '%',
    a: '(?P<a>mon|tue|wed|thu|fri|sat|sun)',
    A: '(?P<A>wednesday|thursday|saturday|tuesday|monday|friday|sunday)',
    b: '(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)',
    B: '(?P<B>september|february|november|december|january|october|august|march|april|june|july|may)',
    c: '%a\\s+%b\\s+%d\\s+%H:%M:%S\\s+%Y',
    x: '%m/%d/%y',
    X: '%H:%M:%S',
    d: '(?P<d>[1-2]\\d|[0 ]?[1-9]|3[0-1])',
    f: '(?P<f>[0-9]{1,6})',
    H: '(?P<H>[0-1]?\\d|2[0-3])',
    I: '(?P<I>1[0-2]|0[1-9]|[1-9])',
    j: '(?P<j>36[0-6]|3[0-5]\\d|[1-2]\\d\\d|0[1-9]\\d|00[1-9]|[1-9]\\d|0[1-9]|[1-9])',
    k: ' ?(?P<H>[0-2]?\\d)',
    l: ' ?(?P<I>1?\\d)',
    m: '(?P<m>0?[1-9]|1[0-2])',
    M: '(?P<M>[0-5]?\\d)',
    p: '(?P<p>am|pm)',
    S: '(?P<S>[0-5]?\\d|6[0-1])',
    U: '(?P<U>5[0-3]|[0-4]\\d|\\d)',
    W: '(?P<W>5[0-3]|[0-4]\\d|\\d)',
    w: '(?P<w>[0-6])',
    u: '(?P<u>[1-7])',
    y: '(?P<y>\\d\\d)',
    Y: '(?P<Y>\\d{4})',
    z: '(?P<z>Z|UTC|GMT|[+-][01]\\d(?::?\\d{2})?)',
    Z: '(?P<Z>Z|[A-Z]{3,5})',
    ExZ: `(?P<Z>${tz})`,
    Exz: `(?P<z>(?:${tz})?[+-][01]\\d(?::?\\d{2})?|${tz})`,
    Exd: '(?P<d>[1-2]\\d|0[1-9]|3[0-1])',
    Exm: '(?P<m>0[1-9]|1[0-2])',
    ExH: '(?P<H>[0-1]\\d|2[0-3])',
    Exk: ' ?(?P<H>[0-1]?\\d|2[0-3])',
    Exl: ' ?(?P<I>1[0-2]|\\d)',
    ExM: '(?P<M>[0-5]\\d)',
    ExS: '(?P<S>[0-5]\\d|6[0-1])',
    ExY: exY,
    Exy: '(?P<y>\\d{2})',
  };
}

const LINE_BEGIN = 8;

interface Template {
  readonly name: string;
  readonly flags: number;
  /** How the value is read from the match. */
  readonly kind: 'pattern' | 'epoch' | 'lepoch' | 'tai64n' | 'none';
  /** Python group holding the date text (the part cut out of the line). */
  readonly textGroup: string;
  /** Python group holding the epoch number. */
  readonly valueGroup: string;
  /** The Python regex, bounds added (what `c` is translated from). */
  readonly regex: string;
  /**
   * Its JavaScript form, built on first use (templateRegex): of fail2ban's 34 default
   * templates a log needs one or two, and translating them all cost a start 30 to 50 ms.
   */
  c: TemplateRegex | null;
}

interface TemplateRegex {
  readonly re: RegExp;
  /** The same with match indices (`d`), run only when the date text's start is not evident. */
  readonly reIndices: RegExp;
  /** The part before the date text is zero-width or only non-word characters (fail2ban's own bounds). */
  readonly plainPrefix: boolean;
  readonly groups: ReadonlyMap<string, string>;
  /**
   * Where in a match (group number; JS name when `re` kept names, see withoutGroupNames),
   * field code (FIELD_NAMES), … of the groups a date is read from. `reIndices` keeps the names.
   */
  readonly fields: readonly (string | number)[];
}

export interface DateMatch {
  /** Where the date text starts and ends in the line. */
  readonly start: number;
  readonly end: number;
  /** Seconds since the epoch (fractional), or null when the text is not a valid date. */
  readonly time: number | null;
  /** The template matched text that is empty (`{NONE}`). */
  readonly empty: boolean;
}

const DEFAULT_PATTERNS = [
  '%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\\s*%z)?',
  '(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?',
  '(?:%a )?%b %d %ExY %k:%M:%S(?:\\.%f)?',
  '%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S',
  '%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\\.%f)?(?: %z)?',
  '%m/%d/%ExY:%H:%M:%S',
  '%m-%d-%ExY %k:%M:%S(?:\\.%f)?',
  'EPOCH',
  '{^LN-BEG}%H:%M:%S',
  '^<%m/%d/%Exy@%H:%M:%S>',
  '%Exy%Exm%Exd  ?%H:%M:%S',
  '%b %d, %ExY %I:%M:%S %p',
  '^%b-%d-%Exy %k:%M:%S',
  '%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\\s*%z)?',
  '(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?',
  '(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?',
  'TAI64N',
];

const EPOCH_RE = '\\d{10,11}\\b(?:\\.\\d{3,6})?';
const LEPOCH_RE = '\\d{10,11}(?:\\d{3}(?:\\.\\d{1,6}|\\d{3})?)?';

// Time zone abbreviations fail2ban knows, with their offset in hours (fixed, no DST).
const TZ_TABLE = `-12 Y|-11 X NUT SST|-10 W CKT HAST HST TAHT TKT|-9 V AKST GAMT GIT HADT HNY|-8 U AKDT CIST HAY HNP PST PT|-7 T HAP HNR MST PDT|-6 S CST EAST GALT HAR HNC MDT|-5 R CDT COT EASST ECT EST ET HAC HNE PET|-4 Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT|-3 P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT|-2 O BRST FNT PMDT UYST WGST|-1 N AZOT CVT EGT|0 Z EGST GMT UTC WET WT|1 A CET DFT WAT WEDT WEST|2 B CAT CEDT CEST EET SAST WAST|3 C EAT EEDT EEST IDT MSK|4 D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT|5 E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT|6 F ALMT BIOT BTT IOT KGT NOVT OMST YEKST|7 G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB|8 H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST|9 I AWDT IRKST JST KST PWT TLT WDT WIT YAKT|10 K AEST ChST PGT VLAT YAKST YAPT|11 L AEDT LHDT MAGT NCT PONT SBT VLAST VUT|12 M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT|13 FJST NZDT|11.5 NFT|10.5 ACDT LHST|9.5 ACST|6.5 CCT MMT|5.75 NPT|5.5 SLT|4.5 AFT IRDT|3.5 IRST|-2.5 HAT NDT|-3.5 HNT NST NT|-4.5 HLV VET|-9.5 MART MIT`;
const TZ_OFFSETS = new Map<string, number>([['', 0]]);
for (const row of TZ_TABLE.split('|')) {
  const [off, ...names] = row.split(' ');
  for (const n of names) TZ_OFFSETS.set(n, Math.trunc(Number(off) * 60));
}

/** Minutes east of UTC for `CET`, `+0200`, `UTC+01:00`…; undefined when unknown. */
function zoneOffset(text: string): number | undefined {
  if (text === 'Z' || text === 'UTC' || text === 'GMT') return 0;
  const m = /^([A-Z](?:[A-Z]{2,4})?)?([+-][01]\d(?::?\d{2})?)?$/.exec(text);
  if (!m) return undefined;
  const base = TZ_OFFSETS.get(m[1] ?? '');
  if (base === undefined) return undefined;
  const o = m[2];
  if (!o) return base;
  const sign = o[0] === '-' ? -1 : 1;
  if (o.length <= 3) return base + Number(o) * 60;
  const mm = o[3] === ':' ? o.slice(4, 6) : o.slice(3, 5);
  return base + sign * (Number(o.slice(1, 3)) * 60 + Number(mm));
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** The month (1–12) of the three lowered letters of its abbreviation as one number, 0 for none. */
function monthOfCode(k: number): number {
  // (A switch over constants: no map lookup per line.)
  switch (k) {
    case 0x6a616e: return 1; // jan
    case 0x666562: return 2; // feb
    case 0x6d6172: return 3; // mar
    case 0x617072: return 4; // apr
    case 0x6d6179: return 5; // may
    case 0x6a756e: return 6; // jun
    case 0x6a756c: return 7; // jul
    case 0x617567: return 8; // aug
    case 0x736570: return 9; // sep
    case 0x6f6374: return 10; // oct
    case 0x6e6f76: return 11; // nov
    case 0x646563: return 12; // dec
    default: return 0;
  }
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * The month (1–12) of an abbreviation in any case, 0 when it is none. Three ASCII letters
 * are looked up by their codes (no lowered copy, no hash of a fresh string per line).
 */
function monthOfAbbr(v: string): number {
  if (v.length === 3) {
    const a = v.charCodeAt(0);
    const b = v.charCodeAt(1);
    const c = v.charCodeAt(2);
    if (isAsciiLetter(a) && isAsciiLetter(b) && isAsciiLetter(c)) return monthOfCode(((a | 32) << 16) | ((b | 32) << 8) | (c | 32));
  }
  return MONTHS.indexOf(v.toLowerCase()) + 1;
}
const FULL_MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** Wall-clock fields of a moment in a zone, and the same as epoch ms read as UTC (`wall`). */
interface WallFields {
  readonly y: number;
  readonly mo: number;
  readonly d: number;
  readonly h: number;
  readonly mi: number;
  readonly s: number;
  readonly wall: number;
}

/** Wall-clock fields of `ms` in `zone` (found by stepping: zones only give wall→UTC). */
let wallCache: { ms: number; zone: Zone; w: WallFields } | null = null;

function wallOf(ms: number, zone: Zone): WallFields {
  // The clock moves slowly next to the lines: one conversion per distinct second.
  const sec = Math.floor(ms / 1000) * 1000;
  if (wallCache !== null && wallCache.ms === sec && wallCache.zone === zone) return wallCache.w;
  const w = wallOfUncached(sec, zone);
  wallCache = { ms: sec, zone, w };
  return w;
}

function wallOfUncached(ms: number, zone: Zone): WallFields {
  let guess = ms;
  for (let k = 0; k < 3; k++) {
    const g = new Date(guess);
    const back = zone.toUtc(g.getUTCFullYear(), g.getUTCMonth(), g.getUTCDate(), g.getUTCHours(), g.getUTCMinutes(), g.getUTCSeconds(), 0);
    guess += ms - back;
  }
  const g = new Date(guess);
  const w = { y: g.getUTCFullYear(), mo: g.getUTCMonth() + 1, d: g.getUTCDate(), h: g.getUTCHours(), mi: g.getUTCMinutes(), s: g.getUTCSeconds() };
  return { ...w, wall: utcMs(w.y, w.mo - 1, w.d, w.h, w.mi, w.s, 0) };
}

// The Python group names a date template's value is read from, as indexes into one small
// array per line (FieldValues) instead of an object keyed by name: this runs on every line.
const FIELD_NAMES = ['y', 'Y', 'm', 'B', 'b', 'd', 'H', 'I', 'M', 'S', 'j', 'z', 'Z', 'p', '1', '2'] as const;
const F_y = 0, F_Y = 1, F_m = 2, F_B = 3, F_b = 4, F_d = 5, F_H = 6, F_I = 7, F_M = 8, F_S = 9, F_j = 10, F_z = 11, F_Z = 12, F_p = 13, F_TEXT = 14, F_VALUE = 15;
const FIELD_CODE = new Map<string, number>(FIELD_NAMES.map((n, i) => [n, i]));
if (FIELD_NAMES.length !== 16) throw new Error('fieldValues writes its array for 16 fields');
/** Group values by field code (FIELD_NAMES); undefined where the group did not take part. */
type FieldValues = (string | undefined)[];

/**
 * The values of a template's groups that its date is read from. Where several JS groups
 * carry one Python name (one per expanded conditional variant), the last one that took part
 * wins, as pythonGroups has it. (A fresh array per line: stores of new strings into a
 * long-lived array cost more, in write barriers, than the young array.)
 */
function fieldValues(m: RegExpExecArray, t: TemplateRegex): FieldValues {
  // (A literal: packed from the start, one copy of its boilerplate, no fill call.)
  const out: FieldValues = [undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined];
  const g = m.groups;
  const f = t.fields;
  for (let i = 0; i < f.length; i += 2) {
    const at = f[i] as string | number;
    const v = typeof at === 'number' ? m[at] : g?.[at];
    if (v !== undefined) out[f[i + 1] as number] = v;
  }
  return out;
}

/**
 * Number(v) for the short digit fields of a date (an optional leading space, as %d and %k
 * allow), by char codes; anything else goes to Number. (Number of a fresh string is a call
 * into the runtime, five per line.)
 */
function num(v: string): number {
  let n = 0;
  let i = 0;
  const len = v.length;
  while (i < len && v.charCodeAt(i) === 32) i++;
  if (i === len || len - i > 9) return Number(v);
  for (; i < len; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number(v);
    n = n * 10 + d;
  }
  return n;
}

function daysIn(year: number, month1: number): number {
  if (month1 !== 2) return month1 === 4 || month1 === 6 || month1 === 9 || month1 === 11 ? 30 : 31;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** fail2ban's strptime over the named groups; seconds since the epoch or null. */
function timeFromFields(g: FieldValues, zone: Zone, nowMs: number): number | null {
  let year: number | undefined;
  let month: number | undefined;
  let day: number | undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let tzoff: number | undefined;
  let julian: number | undefined;
  // In strptime's order: a later field of the same kind wins (Y over y, b over m, I over H).
  let v = g[F_y];
  if (v !== undefined) {
    year = num(v);
    if (year <= 2000) year += 2000;
  }
  if ((v = g[F_Y]) !== undefined) year = num(v);
  if ((v = g[F_m]) !== undefined) month = num(v);
  if ((v = g[F_B]) !== undefined) month = FULL_MONTHS.indexOf(v.toLowerCase()) + 1;
  if ((v = g[F_b]) !== undefined) month = monthOfAbbr(v);
  if ((v = g[F_d]) !== undefined) day = num(v);
  if ((v = g[F_H]) !== undefined) hour = num(v);
  if ((v = g[F_I]) !== undefined) {
    hour = num(v);
    const ampm = (g[F_p] ?? '').toLowerCase();
    if (ampm === '' || ampm === 'am') {
      if (hour === 12) hour = 0;
    } else if (ampm === 'pm' && hour !== 12) hour += 12;
  }
  if ((v = g[F_M]) !== undefined) minute = num(v);
  if ((v = g[F_S]) !== undefined) second = num(v);
  if ((v = g[F_j]) !== undefined) julian = num(v);
  // %z then %Z: the later wins.
  if ((v = g[F_z]) !== undefined) {
    tzoff = zoneOffset(v);
    if (tzoff === undefined) return null;
  }
  if ((v = g[F_Z]) !== undefined) {
    tzoff = zoneOffset(v);
    if (tzoff === undefined) return null;
  }
  // %a/%A/%w only matter without a month and day, which fail2ban's patterns never leave out.
  const now = wallOf(nowMs, zone);
  let assumeYear = false;
  if (year === undefined) {
    year = now.y;
    assumeYear = true;
  }
  if ((month === undefined || day === undefined) && julian !== undefined) {
    const d = new Date(Date.UTC(year, 0, julian));
    year = d.getUTCFullYear();
    month = d.getUTCMonth() + 1;
    day = d.getUTCDate();
  }
  let assumeToday = false;
  if (month === undefined && day === undefined) {
    month = now.mo;
    day = now.d;
    assumeToday = true;
  }
  if (month === undefined || day === undefined) return null;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 61) return null;
  if (second > 59) return null; // Python's datetime refuses leap seconds
  // Naive wall time as if UTC; shifted to UTC when the line gave a zone.
  let wall = utcMs(year, month - 1, day, hour, minute, second, 0);
  if (tzoff !== undefined) wall -= tzoff * 60_000;
  const nowWall = now.wall;
  let shifted = false;
  if (assumeToday && wall > nowWall) {
    wall -= 86_400_000;
    shifted = true;
  }
  if (assumeYear && wall > nowWall + 86_400_000) {
    // The same month and day a year earlier (Feb 29 of a non-leap year: no date).
    if (day > daysIn(year - 1, month)) return null;
    // Not moved by a day nor by a zone, wall holds the fields as read (all in range): the
    // time a year earlier is those fields in that year, without a Date taken apart twice.
    if (!shifted && tzoff === undefined && year - 1 >= 100 && year - 1 <= 9999) return zone.toUtc(year - 1, month - 1, day, hour, minute, second, 0) / 1000;
    shifted = true;
    const w = new Date(wall);
    wall = utcMs(year - 1, month - 1, day, w.getUTCHours(), w.getUTCMinutes(), w.getUTCSeconds(), 0);
  }
  if (tzoff !== undefined) return wall / 1000;
  // Unshifted, the fields are the wall time already (all in range): no Date to take apart.
  if (!shifted && year >= 100 && year <= 9999) return zone.toUtc(year, month - 1, day, hour, minute, second, 0) / 1000;
  const w = new Date(wall);
  return zone.toUtc(w.getUTCFullYear(), w.getUTCMonth(), w.getUTCDate(), w.getUTCHours(), w.getUTCMinutes(), w.getUTCSeconds(), 0) / 1000;
}

// ---- template construction ---------------------------------------------------------------

const RE_NO_WRD_BOUND_BEG = /^\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\((?:\?:)?\^)/;
const RE_NO_WRD_BOUND_END = /(?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$/;
const RE_GROUPED = /(?<!\(\?)(?<!\\)\((?!\?)/;
const RE_LINE_BOUND_BEG = /^(?:\(\?\w+\))?(?:\^|\((?:\?:)?\^(?!\|))/;
const RE_GLOBALFLAGS = /(?:^|(?!<\\))\(\?[a-z]+\)/;

function compileTemplate(name: string, regex: string, wordBegin: boolean | 'start', wordEnd: boolean, kind: Template['kind'], valueGroup = '1'): Template {
  regex = regex.trim();
  const gf = RE_GLOBALFLAGS.exec(regex);
  if (gf) regex = regex.replace(RE_GLOBALFLAGS, '');
  const boundBegin = wordBegin !== false && !RE_NO_WRD_BOUND_BEG.test(regex);
  const boundEnd = wordEnd && !RE_NO_WRD_BOUND_END.test(regex);
  if (!RE_GROUPED.test(regex)) {
    const m = /^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$/s.exec(regex);
    if (m) regex = `${m[1]}(${m[2]})${m[3]}`;
  }
  let flags = 0;
  if (boundBegin) {
    if (wordBegin === 'start') {
      flags |= LINE_BEGIN;
      regex = `^(?:\\W{0,2})?${regex}`;
      if (!name.startsWith('{^LN-BEG}')) name = `{^LN-BEG}${name}`;
    } else regex = `(?=^|\\b|\\W)${regex}`;
  }
  if (boundEnd) regex += '(?=\\b|\\W|$)';
  if (!(flags & LINE_BEGIN) && RE_LINE_BOUND_BEG.test(regex)) flags |= LINE_BEGIN;
  regex = regex.replace(/^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$/g, (m) => m.replace('**', ''));
  if (gf) regex = gf[0].replace(/^[^(]*/, '') + regex;
  return { name, regex, flags, kind, textGroup: '1', valueGroup, c: null };
}

/** A template's JavaScript regex, translated on first use (DatePatternError if it cannot be). */
function templateRegex(tp: Template): TemplateRegex {
  if (tp.c !== null) return tp.c;
  const { regex, name } = tp;
  let t;
  try {
    t = translatePython(regex);
  } catch (err) {
    throw new DatePatternError(`date pattern ${JSON.stringify(name)}: ${(err as Error).message}`);
  }
  // Before group 1 there is only fail2ban's bound ((?=^|\b|\W) or ^(?:\W{0,2})?) or nothing.
  const body = regex.replace(/^\(\?[a-z]+\)/, '');
  const plainPrefix = /^(?:\(\?=\^\|\\b\|\\W\)|\^\(\?:\\W\{0,2\}\)\?|\^)?\((?!\?)/.test(body);
  const plain = withoutGroupNames(t.source, t.flags);
  const fields: (string | number)[] = [];
  for (const [js, py] of t.groups) {
    const code = FIELD_CODE.get(py);
    if (code !== undefined) fields.push(plain?.index.get(js) ?? js, code);
  }
  tp.c = { re: new RegExp(plain?.source ?? t.source, t.flags), reIndices: new RegExp(t.source, `${t.flags}d`), plainPrefix, groups: t.groups, fields };
  return tp.c;
}

/** A template given by the filter: translated now, so that an error is one at load time. */
function translated(t: Template): Template {
  templateRegex(t);
  return t;
}

function patternTemplate(pattern: string, dirs: Record<string, string>, wordBegin: boolean | 'start' = true, wordEnd = true): Template {
  const orig = pattern;
  if (pattern.startsWith('{UNB}')) {
    pattern = pattern.slice(5);
    wordBegin = false;
    wordEnd = false;
  }
  if (wordBegin !== false && pattern.startsWith('{^LN-BEG}')) {
    pattern = pattern.slice(9);
    wordBegin = 'start';
  }
  const expand = (p: string, depth: number): string =>
    p.replace(/%(%|Ex[A-Za-z]|[A-Za-z])/g, (all, k: string) => {
      const v = dirs[k];
      if (v === undefined) throw new DatePatternError(`date pattern ${JSON.stringify(orig)}: unknown directive "${all}"`);
      return depth < 2 && /%[A-Za-z]/.test(v) && k.length === 1 && 'cxX'.includes(k) ? expand(v, depth + 1) : v;
    });
  let regex = expand(pattern, 0);
  if (/(?<!%)%[aAbBpc]/.test(pattern)) regex = `(?iu)${regex}`;
  return compileTemplate(orig, regex, wordBegin, wordEnd, 'pattern');
}

function epochTemplate(lineBeginOnly: boolean, long: boolean, pattern?: string): Template {
  const re = long ? LEPOCH_RE : EPOCH_RE;
  const kind = long ? 'lepoch' : 'epoch';
  if (pattern !== undefined) {
    const regex = `(${pattern.replace(/(?<!\\)\{L?EPOCH\}/gi, `(${re})`)})`;
    return compileTemplate(pattern, regex, true, true, kind, '2');
  }
  if (!lineBeginOnly) {
    const regex = `((?:^|(?P<square>(?<=^\\[))|(?P<selinux>(?<=\\baudit\\()))${re})(?:(?(selinux)(?=:\\d+\\)))|(?(square)(?=\\])))`;
    return compileTemplate(long ? 'LongEpoch' : 'Epoch', regex, false, true, kind);
  }
  const regex = `((?P<square>(?<=^\\[))?${re})(?(square)(?=\\]))`;
  return compileTemplate(long ? 'LongEpoch' : 'Epoch', regex, 'start', true, kind);
}

function taiTemplate(start: boolean): Template {
  return compileTemplate('TAI64N', '@[0-9a-f]{24}', start ? 'start' : false, true, 'tai64n');
}

/** A template for one line of `datepattern` (not the `{^LN-BEG}`/`{DEFAULT}`/`{DATE}` forms). */
function templateFor(pattern: string, dirs: Record<string, string>): Template {
  const key = pattern.includes('%') ? pattern : pattern.toUpperCase();
  if (key.includes('EPOCH')) {
    if (/(?<!\\)\{L?EPOCH\}/i.test(pattern)) return epochTemplate(false, key.includes('LEPOCH'), pattern);
    if (['EPOCH', '{^LN-BEG}EPOCH', '^EPOCH'].includes(key)) return epochTemplate(key !== 'EPOCH', false);
    if (['LEPOCH', '{^LN-BEG}LEPOCH', '^LEPOCH'].includes(key)) return epochTemplate(key !== 'LEPOCH', true);
  }
  if (['TAI64N', '{^LN-BEG}TAI64N', '^TAI64N'].includes(key)) return taiTemplate(key !== 'TAI64N');
  return patternTemplate(pattern, dirs);
}

function unbound(p: string): string {
  return p
    .replace(/^\{UNB\}/, '')
    .replace(/^\{\^LN-BEG\}/, '')
    .replace(/^\((?:\?:)?\^\|\\b\|\\W\)/, '')
    .replace(/\(\?=\\b\|\\W\|\$\)$/, '');
}

interface DefaultEntry {
  readonly pattern: string;
  readonly template: Template;
}

const defaultsCache = new Map<number, { all: Template[]; originals: DefaultEntry[] }>();

function defaults(dirs: Record<string, string>, nowYear: number): { all: Template[]; originals: DefaultEntry[] } {
  let d = defaultsCache.get(nowYear);
  if (d) return d;
  const anchored: Template[] = [];
  const originals: DefaultEntry[] = [];
  for (const p of DEFAULT_PATTERNS) {
    const t = templateFor(p, dirs);
    originals.push({ pattern: p, template: t });
    if (!t.name.startsWith('{^LN-BEG}') && !t.name.startsWith('^')) {
      const a = t.kind === 'pattern' ? templateFor(`{^LN-BEG}${p}`, dirs) : templateFor(`{^LN-BEG}${p}`, dirs);
      if (a.name !== t.name) anchored.push(a);
    }
  }
  d = { all: [...anchored, ...originals.map((o) => o.template)], originals };
  defaultsCache.set(nowYear, d);
  return d;
}

/** Builds the templates of a filter's `datepattern` (undefined: fail2ban's defaults). */
export function buildDetector(datepattern: string | undefined, nowMs: number): DateDetector {
  const nowYear = new Date(nowMs).getUTCFullYear();
  const dirs = directives(nowYear);
  const defs = defaults(dirs, nowYear);
  const list: Template[] = [];
  const names = new Set<string>();
  const add = (t: Template, ignoreDup: boolean) => {
    if (names.has(t.name)) {
      if (ignoreDup) return;
      throw new DatePatternError(`date pattern ${JSON.stringify(t.name)} is given twice`);
    }
    names.add(t.name);
    list.push(t);
  };
  if (datepattern === undefined) {
    for (const t of defs.all) add(t, false);
    return new DateDetector(list, false);
  }
  let none = false;
  const patterns = datepattern.split(/\n+/).map((s) => s.trim()).filter(Boolean);
  for (const p of patterns) {
    const key = p.includes('%') ? p : p.toUpperCase();
    if (key === '{^LN-BEG}' || key === '{DEFAULT}') {
      const ignoreDup = list.length > 0;
      for (const t of defs.all) if (key === '{DEFAULT}' || t.flags & LINE_BEGIN) add(t, ignoreDup);
    } else if (/(?<!\\)\{DATE\}/i.test(p)) {
      const ignoreDup = list.length > 0;
      for (const o of defs.originals) {
        const wrapped = (s: string) => p.replace(/(?<!\\)\{DATE\}/gi, () => unbound(s));
        if (o.template.kind !== 'pattern') {
          // EPOCH and TAI64N have no strptime pattern: wrapped, they only match their own name.
          add(translated(patternTemplate(wrapped(o.template.name), dirs)), ignoreDup);
        } else add(translated(patternTemplate(wrapped(o.pattern), dirs)), ignoreDup);
      }
    } else if (key === '{NONE}') {
      none = true;
      add(translated(compileTemplate('{NONE}', '^', false, false, 'none')), false);
    } else add(translated(templateFor(p, dirs)), false);
  }
  return new DateDetector(list, none);
}

export class DateDetector {
  private lastIdx = -1;
  private lastStart = 1;
  /**
   * The inputs and result of the last date read from fields: a line with the same template,
   * field texts, zone and second of the clock has the same time (syslog lines of a burst share
   * their second), without parsing it again.
   */
  private prevFields: FieldValues | null = null;
  private prevTemplate: Template | null = null;
  private prevZone: Zone | null = null;
  private prevNowSec = NaN;
  private prevTime: number | null = null;
  /** The object every match returns (no object per line): read it before the next call. */
  private readonly result: { start: number; end: number; time: number | null; empty: boolean } = { start: 0, end: 0, time: null, empty: false };
  constructor(
    readonly templates: readonly Template[],
    readonly none: boolean,
  ) {}

  private run(t: Template, line: string): RegExpExecArray | null {
    const c = templateRegex(t);
    c.re.lastIndex = 0;
    return c.re.exec(line);
  }

  /** timeFromFields, or the last line's time when its inputs are the same. */
  private timeOf(t: Template, g: FieldValues, zone: Zone, nowMs: number): number | null {
    const prev = this.prevFields;
    // (timeFromFields reads the clock only through wallOf, by the second; a template's
    // fields are the only ones set in g. The date text first: it differs when anything
    // does, most often in its last digit.)
    const nowSec = Math.floor(nowMs / 1000);
    const text = g[F_TEXT];
    const prevText = prev?.[F_TEXT];
    if (
      prev !== null &&
      t === this.prevTemplate &&
      zone === this.prevZone &&
      nowSec === this.prevNowSec &&
      text !== undefined &&
      prevText !== undefined &&
      text.length === prevText.length &&
      text.charCodeAt(text.length - 1) === prevText.charCodeAt(text.length - 1) &&
      text === prevText
    ) {
      const f = (t.c as TemplateRegex).fields;
      let same = true;
      for (let i = 1; i < f.length; i += 2) {
        const c = f[i] as number;
        if (g[c] !== prev[c]) {
          same = false;
          break;
        }
      }
      if (same) return this.prevTime;
    }
    this.prevFields = g;
    this.prevTemplate = t;
    this.prevZone = zone;
    this.prevNowSec = nowSec;
    this.prevTime = timeFromFields(g, zone, nowMs);
    return this.prevTime;
  }

  /**
   * Finds the date in a line as fail2ban's DateDetector.matchTime + getTime. The DateMatch
   * is the detector's own, overwritten by the next call.
   */
  match(line: string, zone: Zone, nowMs: number): DateMatch | null {
    // (The chosen template, its match and index as three locals: no object per line.)
    let t: Template | null = null;
    let m: RegExpExecArray | null = null;
    let idx = -1;
    let skip = -1;
    if (this.lastIdx >= 0) {
      const lt = this.templates[this.lastIdx] as Template;
      const r = this.run(lt, line);
      skip = this.lastIdx;
      if (r && (lt.flags & LINE_BEGIN || this.templates.length === 1 || r.index === this.lastStart)) {
        t = lt;
        m = r;
        idx = this.lastIdx;
      }
    }
    if (m === null) {
      let foundT: Template | null = null;
      let foundM: RegExpExecArray | null = null;
      let foundIdx = -1;
      if (skip >= 0) {
        const st = this.templates[skip] as Template;
        const r = this.run(st, line);
        if (r) {
          foundT = st;
          foundM = r;
          foundIdx = skip;
        }
      }
      for (let i = 0; i < this.templates.length; i++) {
        if (i === skip) continue;
        const ti = this.templates[i] as Template;
        const r = this.run(ti, line);
        if (r === null) continue;
        if (i + 1 >= this.templates.length || ti.flags & LINE_BEGIN || r.index <= 1) {
          t = ti;
          m = r;
          idx = i;
          break;
        }
        if (foundM === null || r.index < foundM.index) {
          foundT = ti;
          foundM = r;
          foundIdx = i;
        }
      }
      if (m === null) {
        t = foundT;
        m = foundM;
        idx = foundIdx;
      }
    }
    if (m === null || t === null) return null;
    this.lastIdx = idx;
    this.lastStart = m.index;
    // (run translated the template.)
    const c = t.c as TemplateRegex;
    const g = fieldValues(m, c);
    const text = g[F_TEXT] ?? '';
    // Where the date text sits: group 1 of the template.
    const textStart = groupStart(m, c, t.textGroup, text);
    const s = textStart >= 0 ? textStart : m.index;
    const r = this.result;
    r.start = s;
    if (text === '') {
      r.end = s;
      r.time = null;
      r.empty = true;
      return r;
    }
    let time: number | null;
    switch (t.kind) {
      case 'epoch':
      case 'lepoch': {
        const v = g[t.valueGroup === '2' ? F_VALUE : F_TEXT] ?? text;
        let n = Number(v);
        // Long epochs: milliseconds, or microseconds from 16 digits on.
        if (t.kind === 'lepoch' && v.length >= 13) n = v.length >= 16 && !v.includes('.') ? n / 1e6 : n / 1e3;
        time = Number.isFinite(n) ? n : null;
        break;
      }
      case 'tai64n':
        time = parseInt(text.slice(2, 17), 16);
        break;
      default:
        time = this.timeOf(t, g, zone, nowMs);
    }
    r.end = s + text.length;
    r.time = time;
    r.empty = false;
    return r;
  }
}

/** A character code \w matches (without the `u` flag: ASCII letters, digits, _). */
function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/** Start of the date text: uses the `d` flag indices when present. */
function groupStart(m0: RegExpExecArray, t: TemplateRegex, textGroup: string, text: string): number {
  // A date text starting with a word character cannot begin inside a bound made of non-word
  // characters: its first occurrence in the match is where it starts.
  if (t.plainPrefix && text !== '' && isWordCode(text.charCodeAt(0))) {
    const i = m0[0].indexOf(text);
    if (i >= 0) return m0.index + i;
  }
  t.reIndices.lastIndex = 0;
  const m = t.reIndices.exec(m0.input) ?? m0;
  const ind = (m as RegExpExecArray & { indices?: { groups?: Record<string, [number, number] | undefined> } }).indices;
  if (ind?.groups) {
    for (const [js, py] of t.groups) {
      if (py !== textGroup) continue;
      const r = ind.groups[js];
      if (r) return r[0];
    }
  }
  const i = m[0].indexOf(text);
  return i < 0 ? -1 : m.index + i;
}
