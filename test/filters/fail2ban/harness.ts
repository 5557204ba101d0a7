// fail2ban's sample-log conformance suite, run as fail2ban's own harness
// (fail2ban/tests/samplestestcase.py) runs it, but through `pban test-filter --json`.
// Shared by the conformance test and the script that writes the table of differences.
//
// The harness's rules, as read from samplestestcase.py:
// - `# failJSON: {…}` annotates the next line; `# filterOptions: {…}` or `[{…}, …]` starts a
//   block whose lines go to one filter instance per option set (`test.*` keys are harness
//   options, not filter options); `# fileOptions:` are merged into every set; `# addFILE: "x"`
//   appends another sample file, read with the same instances.
// - A line goes only to the instances of its block, and not to an instance whose
//   `constraint` is false, nor anywhere in a block whose `test.condition` is false: multi-line
//   state must only see the lines fail2ban's instance sees.
// - With logtype=journal the time is the harness's clock and no date is searched.
// - The clock is 2005-08-14 10:00:00 UTC, the zone CET/CEST (Europe/Zurich's rules);
//   an annotation's `time` is local time in that zone.
// - A case passes when the instance reports nothing and `match` is false, or reports exactly
//   one failure whose fields equal the annotation's (host, user, …) and whose time equals
//   `time` when given.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPban } from '../../helpers/run-cli.js';

export const CACHE = process.env.PBAN_FAIL2BAN_CACHE ?? path.join(os.tmpdir(), 'pban-fail2ban-samples');
export const ROOT = path.join(CACHE, 'root');
export const FILTER_D = path.join(ROOT, 'etc/fail2ban/filter.d');
export const PKG = path.join(ROOT, 'usr/lib/python3/dist-packages/fail2ban');
export const LOGS = path.join(PKG, 'tests/files/logs');
export const TEST_FILTER_D = path.join(PKG, 'tests/config/filter.d');
export const NOW = '2005-08-14T10:00:00Z';
export const ZONE = 'Europe/Zurich';

export interface Case {
  readonly filter: string;
  /** Instance name: the filter and its options, as the harness names it. */
  readonly instance: string;
  readonly file: string;
  readonly lineNo: number;
  readonly text: string;
  readonly expect: Record<string, unknown>;
}

export interface Outcome extends Case {
  readonly ok: boolean;
  readonly why: string;
}

interface Instance {
  readonly name: string;
  readonly opts: Record<string, unknown>;
  readonly lines: string[];
  readonly cases: { streamLine: number; c: Case }[];
}

/** The filters fail2ban's harness tests: stock ones but *common.conf, plus the zzz-* test filters. */
export function listFilters(): { name: string; file: string }[] {
  const stock = readdirSync(FILTER_D)
    .filter((f) => f.endsWith('.conf') && !f.endsWith('common.conf'))
    .map((f) => ({ name: f.slice(0, -5), file: path.join(FILTER_D, f) }));
  return [...stock, ...zzzFilters()];
}

let zzzDir: string | undefined;
/**
 * The zzz-* filters include `../../../../../../../config/filter.d/common.conf`, a path into
 * fail2ban's source tree. They are copied into a scratch tree where that path leads to the
 * Debian package's common.conf, so they are read unchanged.
 */
function zzzFilters(): { name: string; file: string }[] {
  const names = readdirSync(TEST_FILTER_D).filter((f) => f.startsWith('zzz-') && f.endsWith('.conf'));
  if (zzzDir === undefined) {
    const base = mkdtempSync(path.join(os.tmpdir(), 'pban-zzz-'));
    zzzDir = path.join(base, 'a/b/c/d/e/f/filter.d');
    mkdirSync(zzzDir, { recursive: true });
    mkdirSync(path.join(base, 'config/filter.d'), { recursive: true });
    copyFileSync(path.join(FILTER_D, 'common.conf'), path.join(base, 'config/filter.d/common.conf'));
    for (const n of names) copyFileSync(path.join(TEST_FILTER_D, n), path.join(zzzDir, n));
  }
  return names.map((n) => ({ name: n.slice(0, -5), file: path.join(zzzDir as string, n) }));
}

/** The few Python expressions the samples use as `constraint` / `test.condition`. */
function evalCondition(expr: string, name: string, opts: Record<string, unknown>): boolean {
  let m = /^name\s*==\s*'([^']*)'$/.exec(expr.trim());
  if (m) return name === m[1];
  m = /^opts\.get\('([^']+)'\)\s*(==|!=)\s*'([^']*)'$/.exec(expr.trim());
  if (m) return (opts[m[1] as string] === m[3]) === (m[2] === '==');
  throw new Error(`unsupported condition in a sample file: ${expr}`);
}

function pyName(opts: Record<string, unknown>): string {
  const keys = Object.keys(opts);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `'${k}': '${String(opts[k])}'`).join(', ')}}`;
}

/** Walks a filter's sample files the way the harness does and groups the cases by instance. */
export function collectCases(name: string): Instance[] | null {
  if (!existsSync(path.join(LOGS, name))) return null;
  const instances = new Map<string, Instance>();
  const files = [name];
  let commonOpts: Record<string, unknown> = {};
  let current: Instance[] | null = null;
  const instanceFor = (opts: Record<string, unknown>, explicitName?: string): Instance => {
    const fltOpts = Object.fromEntries(Object.entries(opts).filter(([k]) => !k.startsWith('test.')));
    const key = name + (explicitName ?? pyName(fltOpts));
    let inst = instances.get(key);
    if (!inst) {
      inst = { name: key, opts, lines: [], cases: [] };
      instances.set(key, inst);
    }
    return inst;
  };
  for (let fi = 0; fi < files.length; fi++) {
    const file = files[fi] as string;
    const lines = readFileSync(path.join(LOGS, file), 'utf8').split('\n').map((l) => l.replace(/\r$/, ''));
    if (lines[lines.length - 1] === '') lines.pop();
    let ignoreBlock = false;
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i] as string;
      let lineNo = i + 1;
      let faildata: Record<string, unknown> = {};
      const j = /^#+ ?(failJSON|(?:file|filter)Options|addFILE):(.+)$/.exec(line);
      if (j) {
        const data = JSON.parse(j[2] as string) as unknown;
        if (j[1] === 'fileOptions') {
          commonOpts = data as Record<string, unknown>;
          continue;
        }
        if (j[1] === 'filterOptions') {
          current = [];
          ignoreBlock = false;
          for (const fd of Array.isArray(data) ? data : [data]) {
            const opts = { ...commonOpts, ...(fd as Record<string, unknown>) };
            if (opts['test.condition']) ignoreBlock = !evalCondition(String(opts['test.condition']), name, opts);
            if (!ignoreBlock) current.push(instanceFor(opts, opts['test.filter-name'] as string | undefined));
          }
          continue;
        }
        if (j[1] === 'addFILE') {
          files.push(data as string);
          continue;
        }
        faildata = data as Record<string, unknown>;
        i++;
        line = lines[i] ?? '';
        lineNo = i + 1;
      } else if (ignoreBlock || line.startsWith('#') || line.trim() === '') continue;
      if (ignoreBlock) continue;
      if (!current) current = [instanceFor({})];
      line = line.replace(/\r$/, '');
      for (const inst of current) {
        if (faildata.constraint && !evalCondition(String(faildata.constraint), name, inst.opts)) continue;
        const prefix = inst.opts.logtype === 'journal' && inst.opts['test.prefix-line'] ? String(inst.opts['test.prefix-line']) : '';
        inst.lines.push(prefix + line);
        inst.cases.push({ streamLine: inst.lines.length, c: { filter: name, instance: inst.name, file, lineNo, text: line, expect: faildata } });
      }
    }
  }
  return [...instances.values()];
}

/** Local wall time in the harness's zone (Europe/Zurich rules) → ms since the epoch. */
function zurichToUtc(text: string): number {
  const m = /^(\d{4})-(\d\d?)-(\d\d?)T(\d\d?):(\d\d?):(\d\d?)(?:\.(\d+))?$/.exec(text);
  if (!m) return NaN;
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0);
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const offsetAt = (utc: number) => {
    const p: Record<string, number> = {};
    for (const part of fmt.formatToParts(new Date(utc))) if (part.type !== 'literal') p[part.type] = Number(part.value);
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(utc / 1000) * 1000;
  };
  const o1 = offsetAt(wall);
  return wall - offsetAt(wall - o1);
}

/** IPv4/IPv6 text → a canonical form for comparison (as fail2ban compares IPAddr objects). */
function canonicalHost(s: string): string {
  if (/^[0-9a-fA-F:]+$/.test(s) && s.includes(':')) {
    const [head, tail] = s.toLowerCase().split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
    return [...h, ...fill, ...t].map((x) => x.replace(/^0+(?=.)/, '')).join(':');
  }
  return s;
}

function sameValue(key: string, got: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(got) && JSON.stringify([...got].map(String).sort()) === JSON.stringify([...want].map(String).sort());
  if (got === undefined || got === null) return want === null;
  if (key === 'host' || key === 'ip4' || key === 'ip6') return canonicalHost(String(got)) === canonicalHost(String(want));
  return String(got) === String(want);
}

function filterSpec(file: string, opts: Record<string, unknown>): string {
  const entries = Object.entries(opts).filter(([k]) => !k.startsWith('test.'));
  if (entries.length === 0) return file;
  return `${file}[${entries.map(([k, v]) => `${k}="${String(v).replace(/["\\]/g, '\\$&')}"`).join(', ')}]`;
}

/** Runs one filter's cases through `pban test-filter --json`; one process per instance. */
export function runFilter(name: string, file: string, scratch: string, checkAllRegex = true): Outcome[] | null {
  const instances = collectCases(name);
  if (instances === null) return null;
  const out: Outcome[] = [];
  for (const inst of instances) {
    const log = path.join(scratch, `${inst.name.replace(/[^\w.-]+/g, '_')}.log`);
    writeFileSync(log, inst.lines.map((l) => `${l}\n`).join(''));
    // fail2ban's harness tries every failregex; its server (and pban's daemon) stop at the first.
    const all = checkAllRegex ? ['--check-all-regex'] : [];
    const r = runPban(['test-filter', filterSpec(file, inst.opts), log, '--json', ...all, '--now', NOW, '--timezone', ZONE]);
    if (r.status !== 0) {
      const why = `test-filter failed: ${r.stderr.trim().split('\n')[0] ?? ''}`;
      for (const { c } of inst.cases) out.push({ ...c, ok: false, why });
      continue;
    }
    const byLine = new Map<number, Record<string, unknown>[]>();
    for (const l of r.stdout.split('\n')) {
      if (!l) continue;
      const o = JSON.parse(l) as Record<string, unknown>;
      const n = o.line as number;
      byLine.set(n, [...(byLine.get(n) ?? []), o]);
    }
    for (const { streamLine, c } of inst.cases) out.push({ ...c, ...judge(c, byLine.get(streamLine) ?? []) });
  }
  return out;
}

function judge(c: Case, found: Record<string, unknown>[]): { ok: boolean; why: string } {
  const e = c.expect;
  if (found.length === 0) return e.match ? { ok: false, why: 'not matched' } : { ok: true, why: '' };
  if (!e.match) return { ok: false, why: `matched (${String(found[0]?.ip)}) where fail2ban does not` };
  if (found.length > 1) return { ok: false, why: `${found.length} failregexes matched` };
  const f = found[0] as Record<string, unknown>;
  for (const [k, want] of Object.entries(e)) {
    if (k === 'time' || k === 'match' || k === 'desc' || k === 'constraint') continue;
    const got = k === 'host' ? (f.host ?? f.ip) : f[k];
    if (!sameValue(k, got, want)) return { ok: false, why: `${k}: got ${JSON.stringify(got)}, fail2ban: ${JSON.stringify(want)}` };
  }
  if (typeof e.time === 'string') {
    const want = zurichToUtc(e.time);
    const got = typeof f.time === 'string' ? Date.parse(f.time) : NaN;
    if (got !== want) return { ok: false, why: `time: got ${String(f.time)}, fail2ban: ${Number.isFinite(want) ? new Date(want).toISOString() : String(e.time)}` };
  }
  return { ok: true, why: '' };
}
