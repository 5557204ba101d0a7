// The matcher dismisses most lines before any failregex runs (first-character dispatch,
// literal hints). This checks those shortcuts never change an answer: every shipped filter,
// in every mode, must agree line for line with a plain matcher that tries every regex.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { generateLog } from '../helpers/generate-log.js';
import { compileFilter, MAX_LINE_LENGTH, parseAddress, resolveZone, type MatchResult } from '../../src/filters/index.js';
import { dateHeaderEnd, parseDate } from '../../src/filters/dates.js';
import { ADDR_GROUP, expandTags } from '../../src/filters/tags.js';
import { FILTERS_DIR } from '../../src/paths.js';

const ZONE = resolveZone('UTC');

interface FilterDoc {
  prefix?: string;
  ignoreregex?: string[];
  failregex: { id: string; regex: string }[];
  modes?: Record<string, string[]>;
}

/** What match() answers, found the slow way: prefix, then each regex of the mode in order. */
function plainMatcher(doc: FilterDoc, mode: string | undefined): (line: string, now: number) => string {
  const re = (src: string, role: 'failregex' | 'ignoreregex' | 'prefix') => new RegExp(expandTags(src, role).source, 'y');
  const prefix = doc.prefix === undefined ? null : re(doc.prefix, 'prefix');
  const ignores = (doc.ignoreregex ?? []).map((s) => re(s, 'ignoreregex'));
  const ids = mode === undefined ? doc.failregex.map((r) => r.id) : (doc.modes?.[mode] ?? []);
  const regexes = ids.map((id) => re(doc.failregex.find((r) => r.id === id)?.regex ?? '', 'failregex'));
  return (line, now) => {
    if (line.length === 0 || line.length > MAX_LINE_LENGTH) return 'missed';
    let msg = dateHeaderEnd(line, 0, line.length);
    if (prefix !== null) {
      prefix.lastIndex = msg;
      if (!prefix.test(line)) return 'missed';
      msg = prefix.lastIndex;
    }
    for (let i = 0; i < regexes.length; i++) {
      const r = regexes[i] as RegExp;
      r.lastIndex = msg;
      const m = r.exec(line);
      if (m === null) continue;
      if (ignores.some((ig) => ((ig.lastIndex = msg), ig.test(line)))) return `ignored ${i}`;
      const addr = parseAddress(m.groups?.[ADDR_GROUP] ?? '');
      if (addr === null) continue;
      const date = parseDate(line, 0, line.length, ZONE, now);
      if (date === null) return `undated ${i}`;
      return `failure ${i} ${addr.address} ${date.time}`;
    }
    return 'missed';
  };
}

function describe(r: MatchResult): string {
  if (r.type === 'missed') return 'missed';
  if (r.type !== 'failure') return `${r.type} ${r.regex}`;
  return `failure ${r.regex} ${r.failure.ip} ${r.failure.time}`;
}

// Lines the generated log does not have: optional openings, near misses, hostile text.
const EXTRA = [
  'Jun  4 10:11:12 mail postfix/smtpd[1]: NOQUEUE: milter-reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <a@b>: Relay access denied; from=<x@y>',
  'Jun  4 10:11:12 mail postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.2]: 554 5.7.1 Relay access denied; from=<x@y>',
  'Jun  4 10:11:12 mail postfix/smtpd[1]: 1234ABCD: reject: DATA from unknown[192.0.2.3]: 550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce',
  'Jun  4 10:11:12 mail postfix/postscreen[1]: NON-SMTP COMMAND from [192.0.2.4]:1234 after CONNECT: GET / HTTP/1.1',
  'Jun  4 10:11:12 mail postfix/postscreen[1]: BARE NEWLINE from [192.0.2.5]:1234 after DATA',
  'Jun  4 10:11:12 mail postfix/postscreen[1]: COMMAND PIPELINING from [2001:db8::6]:1234 after EHLO: QUIT',
  'Jun  4 10:11:12 mail postfix/smtpd[1]: warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: Connection lost to authentication server',
  'Jun  4 10:11:12 mail postfix/smtpd[1]: warning: unknown[192.0.2.8]: SASL LOGIN authentication aborted',
  '<22>1 2026-03-01T10:00:00.5Z mail postfix/smtpd 123 - - warning: unknown[192.0.2.9]: SASL PLAIN authentication failed: x',
  'postfix/smtpd[1]: warning: unknown[192.0.2.10]: SASL PLAIN authentication failed: x',
  'Jun  4 10:11:12 mail postfix/smtpd[1]: reject: RCPT from unknown[999.0.2.11]: 554 5.7.1 Relay access denied',
  'Jun  4 10:11:12 mail postfix/smtpd[1]: connect from unknown[192.0.2.12]: reject: RCPT from x[192.0.2.13]: 554 5.7.1 Relay access denied',
];

test('dispatch and literal hints never change what a shipped filter answers', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-precheck-'));
  const log = path.join(dir, 'gen.log');
  await generateLog({ lines: 40_000, seed: 3, out: log });
  const lines = [...readFileSync(log, 'utf8').split('\n').filter((l) => l !== ''), ...EXTRA];
  // Each line also with its message cut short and with its first letter swapped, so
  // near misses reach the regexes too.
  const variants = lines.flatMap((l) => [l, l.slice(0, Math.floor(l.length * 0.8)), l.replace(/: ([a-zA-Z])/, (_, c: string) => `: ${c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()}`)]);
  const now = Date.now();
  let compared = 0;
  let failures = 0;
  for (const file of readdirSync(FILTERS_DIR).filter((f) => f.endsWith('.toml'))) {
    const text = readFileSync(path.join(FILTERS_DIR, file), 'utf8');
    const doc = parseToml(text) as unknown as FilterDoc;
    for (const mode of doc.modes ? Object.keys(doc.modes) : [undefined]) {
      const fast = compileFilter(text, file, mode, ZONE);
      const plain = plainMatcher(doc, mode);
      for (const line of variants) {
        const want = plain(line, now);
        assert.equal(describe(fast.match(line, now)), want, `${file} [mode=${mode ?? 'default'}]: ${line}`);
        compared++;
        if (want.startsWith('failure')) failures++;
      }
    }
  }
  assert.ok(failures > 10_000, `only ${failures} failures among ${compared} comparisons`);
});
