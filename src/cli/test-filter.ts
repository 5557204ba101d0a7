// `pban test-filter FILTER LOG`: runs a filter over a log offline and says which lines it
// would count and which address it would blame: pban's fail2ban-regex. The filter engine is
// imported when the command runs, so other commands do not pay for it at start.
import { Command } from 'commander';
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { systemClock } from '../clock.js';
import { groupDigits } from './format/number.js';
import { ProgressLine, expectedBytes, progressWanted } from './format/progress.js';
import { StdoutBytes } from './stdout-bytes.js';

export { groupDigits };
import { isFutureDated } from '../engine/wall-clock.js';
import type { F2bFailure, Fail2banFilter } from '../filters/index.js';

export interface TestFilterOptions {
  printMatched?: boolean;
  printMissed?: boolean;
  json?: boolean;
  timezone?: string;
  now?: string;
  fail2banDir?: string;
  checkAllRegex?: boolean;
}

export function testFilterCommand(): Command {
  return new Command('test-filter')
    .description('run a filter over a log file, stdin (-) or one literal line, and report what it matches')
    .argument('<filter>', 'shipped filter name, path to a .toml filter (optionally NAME[mode=MODE]), or a fail2ban filter: path to a .conf or fail2ban:NAME, optionally [option=value, …]')
    .argument('<log>', 'log file, - for stdin, or a literal log line')
    .option('--print-matched', 'print every matched line')
    .option('--print-missed', 'print every line the filter did not match')
    .option('--json', 'one JSON object per matched line on stdout; the summary as JSON on stderr')
    .option('--timezone <tz>', "IANA time zone of dates written without one (default: the system's)")
    .option('--now <iso>', 'the clock, for the year of dates written without one (default: now)')
    .option('--fail2ban-dir <dir>', 'filter.d directory for fail2ban:NAME (default: $PBAN_FAIL2BAN_FILTER_DIR or /etc/fail2ban/filter.d)')
    .option('--check-all-regex', "fail2ban filters: try every failregex on each line, as fail2ban's sample tests do")
    .action(async (filter: string, log: string, opts: TestFilterOptions) => {
      await runTestFilter(filter, log, opts);
    });
}

interface Counters {
  lines: number;
  matched: number;
  ignored: number;
  undated: number;
  /** Matched lines dated more than the tolerance after now: the daemon counts them at the wall clock. */
  futureDated: number;
  perRegex: number[];
  perKind: Map<string, number>;
  dateFormats: Map<string, number>;
}

/** Where the lines come from: a file descriptor to read, or one literal line. */
function openLog(log: string): { fd: number; close: boolean; name: string } | { literal: string } {
  if (log === '-') return { fd: 0, close: false, name: '<stdin>' };
  if (existsSync(log)) {
    if (statSync(log).isDirectory()) throw new UsageError(`${log}: is a directory, expected a log file`);
    return { fd: openSync(log, 'r'), close: true, name: log };
  }
  // Not a file: a literal line if it looks like one (log lines have spaces, paths rarely do).
  if (log.includes(' ')) return { literal: log };
  throw new UsageError(`${log}: no such file (LOG is a file, - for stdin, or a literal log line)`);
}

export async function runTestFilter(spec: string, log: string, opts: TestFilterOptions): Promise<void> {
  const started = performance.now();
  const { loadFilter, isFail2banFilter } = await import('../filters/index.js');
  const { readLineChunks } = await import('../sources/read-lines.js');
  let now = systemClock.now();
  if (opts.now !== undefined) {
    now = Date.parse(opts.now);
    if (!Number.isFinite(now)) throw new UsageError(`--now: not an ISO date and time: ${opts.now}`);
  }
  const filter = loadFilter(spec, { timezone: opts.timezone, now, fail2banFilterDir: opts.fail2banDir, checkAllRegex: opts.checkAllRegex === true });
  const source = openLog(log);
  if (isFail2banFilter(filter)) {
    await runFail2banFilter(filter, source, now, opts, started);
    return;
  }
  const c: Counters = { lines: 0, matched: 0, ignored: 0, undated: 0, futureDated: 0, perRegex: filter.regexes.map(() => 0), perKind: new Map(), dateFormats: new Map() };
  const out = new StdoutBytes();
  const json = opts.json === true;
  const printMatched = opts.printMatched === true && !json;
  const printMissed = opts.printMissed === true && !json;
  const stats = { bytes: 0, tooLong: 0 };

  const chunks: Iterable<string> = 'literal' in source ? [`${source.literal}\n`] : readLineChunks(source.fd, {}, stats);
  const progress = 'fd' in source && progressWanted({
    stderrIsTTY: process.stderr.isTTY === true,
    json,
    stdoutLive: (printMatched || printMissed) && process.stdout.isTTY === true,
    term: process.env['TERM'],
  })
    ? new ProgressLine(process.stderr, expectedBytes(source.fd))
    : undefined;
  try {
    for (const chunk of chunks) {
      let p = 0;
      for (let e = chunk.indexOf('\n'); e !== -1; p = e + 1, e = chunk.indexOf('\n', p)) {
        c.lines++;
        let end = e;
        if (end > p && chunk.charCodeAt(end - 1) === 13) end--;
        const line = chunk.slice(p, end);
        const r = filter.match(line, now);
        switch (r.type) {
          case 'missed':
            if (printMissed) out.write(`missed  ${c.lines}: ${line}\n`);
            break;
          case 'ignored':
            c.ignored++;
            if (printMissed) out.write(`ignored ${c.lines}: ${line}\n`);
            break;
          case 'undated':
            c.undated++;
            if (printMissed) out.write(`undated ${c.lines}: ${line}\n`);
            break;
          case 'failure': {
            c.matched++;
            c.perRegex[r.regex] = (c.perRegex[r.regex] ?? 0) + 1;
            const f = r.failure;
            if (isFutureDated(f.time, now)) c.futureDated++;
            c.perKind.set(f.kind, (c.perKind.get(f.kind) ?? 0) + 1);
            c.dateFormats.set(r.dateFormat, (c.dateFormats.get(r.dateFormat) ?? 0) + 1);
            if (json) {
              const obj: Record<string, unknown> = { line: c.lines, ip: f.ip, time: new Date(f.time).toISOString(), kind: f.kind, filter: f.filter };
              for (const [k, v] of Object.entries(f.fields)) if (!(k in obj)) obj[k] = v;
              out.write(`${JSON.stringify(obj)}\n`);
            } else if (printMatched) out.write(`matched ${c.lines}: ${f.ip} ${new Date(f.time).toISOString()} ${f.kind}: ${line}\n`);
            break;
          }
        }
      }
      progress?.update(c.lines, stats.bytes);
    }
  } finally {
    progress?.done();
    if ('fd' in source && source.close) closeSync(source.fd);
  }
  out.flush();

  const elapsedMs = performance.now() - started;
  const summary = {
    filter: filter.name,
    mode: filter.mode,
    file: filter.file,
    log: 'literal' in source ? '<line>' : source.name,
    timezone: filter.timezone,
    lines: c.lines,
    matched: c.matched,
    missed: c.lines - c.matched - c.ignored - c.undated,
    ignored: c.ignored,
    undated: c.undated,
    futureDated: c.futureDated,
    tooLong: stats.tooLong,
    regexes: filter.regexes.map((r, i) => ({ id: r.id, kind: r.kind, hits: c.perRegex[i] ?? 0 })),
    kinds: Object.fromEntries([...c.perKind].sort((a, b) => b[1] - a[1])),
    dateFormats: Object.fromEntries(c.dateFormats),
    elapsedMs: Math.round(elapsedMs * 10) / 10,
    processMs: Math.round(performance.now() * 10) / 10,
    linesPerSecond: elapsedMs > 0 ? Math.round((c.lines / elapsedMs) * 1000) : 0,
    maxRssKB: process.resourceUsage().maxRSS,
  };
  if (json) process.stderr.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(formatSummary(summary));
}

type Summary = {
  filter: string;
  mode: string;
  file: string;
  log: string;
  timezone: string;
  lines: number;
  matched: number;
  missed: number;
  ignored: number;
  undated: number;
  futureDated: number;
  tooLong: number;
  regexes: { id: string; kind: string; hits: number }[];
  kinds: Record<string, number>;
  dateFormats: Record<string, number>;
  elapsedMs: number;
  linesPerSecond: number;
  maxRssKB: number;
};

function formatSummary(s: Summary): string {
  const n = groupDigits;
  const idWidth = Math.max(2, ...s.regexes.map((r) => r.id.length));
  const lines = [
    `Filter:   ${s.filter} [mode=${s.mode}]  ${s.file}`,
    `Log:      ${s.log}`,
    `Timezone: ${s.timezone}`,
    '',
    `Lines: ${n(s.lines)}  matched: ${n(s.matched)}  missed: ${n(s.missed)}  ignored: ${n(s.ignored)}  undated: ${n(s.undated)}${s.tooLong ? `  too long: ${n(s.tooLong)}` : ''}`,
    ...(s.futureDated
      ? [`Future-dated: ${n(s.futureDated)} matched ${s.futureDated === 1 ? 'line is' : 'lines are'} dated more than a minute after now; the daemon counts them at the wall clock (check the sender's clock and --timezone)`]
      : []),
    '',
    'Hits per regex:',
    ...s.regexes.map((r, i) => `  ${String(i + 1).padStart(2)}) ${r.id.padEnd(idWidth)}  ${r.kind.padEnd(16)} ${n(r.hits).padStart(10)}`),
    '',
    'Hits per kind:',
    ...(Object.keys(s.kinds).length ? Object.entries(s.kinds).map(([k, v]) => `  ${k.padEnd(idWidth + 4)} ${n(v).padStart(27)}`) : ['  (none)']),
    '',
    'Date formats (of matched lines):',
    ...(Object.keys(s.dateFormats).length ? Object.entries(s.dateFormats).map(([k, v]) => `  ${k.padEnd(idWidth + 4)} ${n(v).padStart(27)}`) : ['  (none)']),
    '',
    `Processed in ${(s.elapsedMs / 1000).toFixed(3)} s: ${n(s.linesPerSecond)} lines/s, peak RSS ${n(Math.round(s.maxRssKB / 1024))} MB`,
    '',
  ];
  return lines.join('\n');
}


/**
 * A fail2ban filter, reported as fail2ban reports it: the host as captured (a name from
 * <DNS> too, never resolved), the time, on the line fail2ban would report it. Empty lines
 * and lines starting with "#" are skipped, as fail2ban-regex does.
 */
async function runFail2banFilter(filter: Fail2banFilter, source: ReturnType<typeof openLog>, now: number, opts: TestFilterOptions, started: number): Promise<void> {
  const { readLineChunks } = await import('../sources/read-lines.js');
  const out = new StdoutBytes();
  const json = opts.json === true;
  const stats = { bytes: 0, tooLong: 0 };
  const c = { lines: 0, matched: 0, skipped: 0, failures: 0, undated: 0, perRegex: filter.regexes.map(() => 0) };
  const toJson = new F2bJsonLines(filter.name);
  const chunks: Iterable<string> = 'literal' in source ? [`${source.literal}\n`] : readLineChunks(source.fd, {}, stats);
  try {
    for (const chunk of chunks) {
      let p = 0;
      for (let e = chunk.indexOf('\n'); e !== -1; p = e + 1, e = chunk.indexOf('\n', p)) {
        c.lines++;
        let end = e;
        if (end > p && chunk.charCodeAt(end - 1) === 13) end--;
        const line = chunk.slice(p, end);
        // Most lines start with a character that is neither "#" nor white space (a printable
        // ASCII one): no trim for them.
        const c0 = line.charCodeAt(0);
        if (!(c0 > 32 && c0 < 127 && c0 !== 35) && (line.trim() === '' || line.startsWith('#'))) {
          c.skipped++;
          continue;
        }
        // The line with its newline, as read, when no "\r" was cut: the engine slices its buffer from it.
        const found = filter.processLine(line, now, end === e ? chunk.slice(p, e + 1) : undefined);
        if (found.length === 0) {
          if (opts.printMissed === true && !json) out.write(`missed  ${c.lines}: ${line}\n`);
          continue;
        }
        c.matched++;
        for (const f of found) {
          c.failures++;
          c.perRegex[f.regex] = (c.perRegex[f.regex] ?? 0) + 1;
          if (f.time === null) c.undated++;
          if (json) toJson.write(out, c.lines, f);
          else if (opts.printMatched === true) out.write(`matched ${c.lines}: ${f.host} ${isoTime(f.time) ?? '(no date)'} #${f.regex + 1}: ${line}\n`);
        }
      }
    }
  } finally {
    if ('fd' in source && source.close) closeSync(source.fd);
  }
  out.flush();
  const elapsedMs = performance.now() - started;
  const summary = {
    filter: filter.name,
    mode: filter.mode,
    file: filter.file,
    fail2ban: true,
    options: Object.fromEntries(filter.definition.options),
    log: 'literal' in source ? '<line>' : source.name,
    timezone: filter.timezone,
    lines: c.lines,
    matched: c.matched,
    missed: c.lines - c.matched - c.skipped,
    skipped: c.skipped,
    failures: c.failures,
    undated: c.undated,
    tooLong: stats.tooLong,
    regexes: filter.regexes.map((r, i) => ({ id: r.id, hits: c.perRegex[i] ?? 0 })),
    elapsedMs: Math.round(elapsedMs * 10) / 10,
    linesPerSecond: elapsedMs > 0 ? Math.round((c.lines / elapsedMs) * 1000) : 0,
    maxRssKB: process.resourceUsage().maxRSS,
  };
  if (json) {
    process.stderr.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const n = groupDigits;
  process.stdout.write(
    [
      `Filter:   ${summary.filter} (fail2ban) ${Object.entries(summary.options).map(([k, v]) => `${k}=${v}`).join(', ')}  ${summary.file}`,
      `Log:      ${summary.log}`,
      `Timezone: ${summary.timezone}`,
      '',
      `Lines: ${n(summary.lines)}  matched: ${n(summary.matched)}  missed: ${n(summary.missed)}  skipped (empty or #): ${n(summary.skipped)}  failures without a date: ${n(summary.undated)}`,
      '',
      'Hits per failregex:',
      ...summary.regexes.map((r, i) => `  ${String(i + 1).padStart(2)}) ${n(r.hits).padStart(10)}  ${filter.regexes[i]?.source.slice(0, 100) ?? ''}`),
      '',
      `Processed in ${(elapsedMs / 1000).toFixed(3)} s: ${n(summary.linesPerSecond)} lines/s, peak RSS ${n(Math.round(summary.maxRssKB / 1024))} MB`,
      '',
    ].join('\n'),
  );
}

let lastIsoMs = NaN;
let lastIso = '';

/** A failure's time as ISO text (null without a date); matches come in runs of one second. */
function isoTime(seconds: number | null): string | null {
  if (seconds === null) return null;
  const ms = Math.round(seconds * 1000);
  if (ms !== lastIsoMs) {
    lastIso = ms >= 0 && ms < MS_YEAR_10000 ? isoOf(ms) : new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

const MS_YEAR_10000 = 253_402_300_800_000;
let isoDay = NaN;
let isoDayText = '';

/** "00" to "99" and "000" to "999", by index: no number turned into text per failure. */
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

function pad2(n: number): string {
  return PAD2[n] as string;
}

/** Sets isoDay and isoDayText (`YYYY-MM-DDT`) to the day of `ms` (1970 to 9999). */
function setIsoDay(day: number): void {
  // Days since 1970-01-01 to a proleptic Gregorian date, in 400-year eras from March.
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  isoDay = day;
  isoDayText = `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}T`;
}

/**
 * Date#toISOString for 1970 to 9999, in arithmetic: the date part is kept per day (lines come
 * in order), the time of day is a few divisions. (Taking a Date apart is calls into the
 * runtime, once per failure written.)
 */
function isoOf(ms: number): string {
  splitTime(ms);
  return `${isoDayText}${pad2(tHour)}:${pad2(tMin)}:${pad2(tSec)}.${PAD3[tMilli] as string}Z`;
}

// The parts of the last time splitTime() took apart (module scratch: no object per failure).
let tHour = 0;
let tMin = 0;
let tSec = 0;
let tMilli = 0;

/** Sets isoDay/isoDayText to the day of `ms` (1970 to 9999) and tHour … tMilli to its time of day. */
function splitTime(ms: number): void {
  const day = Math.floor(ms / 86_400_000);
  if (day !== isoDay) setIsoDay(day);
  let rest = ms - day * 86_400_000;
  tMilli = rest % 1000;
  rest = (rest - tMilli) / 1000;
  tSec = rest % 60;
  rest = (rest - tSec) / 60;
  tMin = rest % 60;
  tHour = (rest - tMin) / 60;
}

/** The JSON of a failure's time (isoTime's text, quoted, or null), written as bytes. */
function writeJsonTime(out: StdoutBytes, seconds: number | null): void {
  if (seconds === null) {
    out.write('null');
    return;
  }
  const ms = Math.round(seconds * 1000);
  if (!(ms >= 0 && ms < MS_YEAR_10000)) {
    out.write(`"${new Date(ms).toISOString()}"`);
    return;
  }
  splitTime(ms);
  out.byte(0x22);
  out.write(isoDayText);
  out.digits(tHour, 2);
  out.byte(0x3a);
  out.digits(tMin, 2);
  out.byte(0x3a);
  out.digits(tSec, 2);
  out.byte(0x2e);
  out.digits(tMilli, 3);
  out.byte(0x5a);
  out.byte(0x22);
}

/** JSON.stringify of a number: integers as digits without building their text. */
function writeJsonNumber(out: StdoutBytes, n: number): void {
  if (Number.isInteger(n) && n >= 0 && n < 2_147_483_648) out.digits(n);
  else out.write(JSON.stringify(n));
}

// Text JSON.stringify writes as it is: no quote, backslash, control character or surrogate.
const JSON_PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** True when JSON.stringify(v) is v in quotes: no character of v needs an escape. */
function jsonPlain(v: string): boolean {
  // Short texts (addresses, user names) by a loop over their codes, longer ones by JSON_PLAIN.
  if (v.length > 64) return JSON_PLAIN.test(v);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/** JSON.stringify(v) of a string, written as bytes (the call only where v needs an escape). */
function writeJsonString(out: StdoutBytes, v: string): void {
  if (jsonPlain(v)) {
    out.byte(0x22);
    out.write(v);
    out.byte(0x22);
  } else out.write(JSON.stringify(v));
}

// Keys of the JSON line written before and after a failure's own fields.
const FIXED_KEYS = new Set(['line', 'ip', 'time', 'kind', 'filter', 'regex']);

/**
 * One JSON line per fail2ban failure: {line, ip, time, kind, filter, regex, …fields, users,
 * attempts}, written as bytes in pieces rather than through an object or a string per line
 * (this runs once per matched line of a log of millions). The same text JSON.stringify gives
 * that object.
 */
class F2bJsonLines {
  private readonly names: string;
  /** Per field name: its `,"name":` text, '' when a fixed key takes it, null for the object path. */
  private readonly keys = new Map<string, string | null>();
  constructor(private readonly name: string) {
    const n = JSON.stringify(name);
    this.names = `,"kind":${n},"filter":${n},"regex":`;
  }

  private prefix(k: string): string | null {
    let prefix = this.keys.get(k);
    if (prefix === undefined) {
      // A field named like a key written after the fields would move there in the object:
      // the object path keeps that order exact.
      prefix = k === 'users' || k === 'attempts' || /^\d/.test(k) ? null : FIXED_KEYS.has(k) ? '' : `,${JSON.stringify(k)}:`;
      this.keys.set(k, prefix);
    }
    return prefix;
  }

  write(out: StdoutBytes, lineNo: number, f: F2bFailure): void {
    // (Checked before any byte is written: a field for the object path takes the whole line.)
    for (const k in f.fields) {
      if (this.prefix(k) === null) {
        out.write(this.viaObject(lineNo, f));
        return;
      }
    }
    out.write('{"line":');
    writeJsonNumber(out, lineNo);
    out.write(',"ip":');
    writeJsonString(out, f.host);
    out.write(',"time":');
    writeJsonTime(out, f.time);
    out.write(this.names);
    writeJsonNumber(out, f.regex + 1);
    for (const k in f.fields) {
      const prefix = this.prefix(k) as string;
      if (prefix === '') continue;
      out.write(prefix);
      writeJsonString(out, f.fields[k] as string);
    }
    if (f.users !== undefined) {
      out.write(',"users":');
      out.write(JSON.stringify(f.users));
    }
    out.write(',"attempts":');
    writeJsonNumber(out, f.attempts);
    out.byte(0x7d);
    out.byte(0x0a);
  }

  private viaObject(lineNo: number, f: F2bFailure): string {
    const obj: Record<string, unknown> = { line: lineNo, ip: f.host, time: isoTime(f.time), kind: this.name, filter: this.name, regex: f.regex + 1 };
    for (const [k, v] of Object.entries(f.fields)) if (!(k in obj)) obj[k] = v;
    if (f.users !== undefined) obj.users = f.users;
    obj.attempts = f.attempts;
    return `${JSON.stringify(obj)}\n`;
  }
}
