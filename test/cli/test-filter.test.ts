// `pban test-filter` as a user runs it: the built binary, its output and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPban } from '../helpers/run-cli.js';

const REAL_LOG = '/work/shared/reference/real-postfix.log';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pban-test-filter-'));

test('summary on a real Postfix log', () => {
  const r = runPban(['test-filter', 'postfix[mode=aggressive]', REAL_LOG, '--timezone', 'UTC']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Lines: 49 {2}matched: \d+ {2}missed: \d+ {2}ignored: 0 {2}undated: 0/);
  assert.match(r.stdout, /Hits per regex:/);
  assert.match(r.stdout, /Hits per kind:\n {2}\S+/);
  assert.match(r.stdout, /bsd-syslog/);
  assert.match(r.stdout, /lines\/s, peak RSS \d+ MB/);
});

test('--json: one object per matched line on stdout, the summary on stderr', () => {
  const r = runPban(['test-filter', 'postfix[mode=aggressive]', REAL_LOG, '--json', '--timezone', 'UTC']);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const summary = JSON.parse(r.stderr) as { lines: number; matched: number; missed: number; ignored: number; undated: number };
  assert.equal(rows.length, summary.matched);
  assert.equal(summary.lines, 49);
  assert.equal(summary.lines, summary.matched + summary.missed + summary.ignored + summary.undated);
  for (const row of rows) {
    assert.equal(typeof row.line, 'number');
    assert.match(String(row.ip), /^[0-9a-f.:]+$/);
    assert.match(String(row.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(row.filter, 'postfix');
  }
  const sasl = rows.find((x) => x.kind === 'sasl');
  assert.equal(sasl?.user, 'alice@pban.test');
  assert.equal(sasl?.line, 31);
  assert.equal(sasl?.ip, '198.51.100.11');
});

test('a literal line, and stdin with -', () => {
  const line = 'Nov 27 17:37:55 mail postfix/smtpd[8598]: too many errors after UNKNOWN from unknown[198.51.100.21]';
  const a = runPban(['test-filter', 'postfix', line, '--json', '--timezone', 'UTC']);
  assert.equal(a.status, 0, a.stderr);
  assert.equal((JSON.parse(a.stdout) as { ip: string }).ip, '198.51.100.21');
  const b = runPban(['test-filter', 'postfix', '-', '--json', '--timezone', 'UTC'], { input: `junk\n${line}\r\n` });
  assert.equal(b.status, 0, b.stderr);
  assert.equal((JSON.parse(b.stdout) as { line: number }).line, 2);
});

test('--print-matched and --print-missed list the lines', () => {
  const r = runPban(['test-filter', 'postfix', REAL_LOG, '--print-matched', '--print-missed']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^matched 4: 198\.51\.100\.11 /m);
  assert.match(r.stdout, /^missed {2}1: Nov 27 17:37:40 mail postfix\/postfix-script/m);
});

test('a 1 MB line and binary garbage are skipped, the rest still counted', () => {
  const file = path.join(tmp, 'hostile.log');
  const good = 'Nov 27 17:37:55 mail postfix/smtpd[8598]: lost connection after AUTH from unknown[198.51.100.21]\n';
  const garbage = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919 + 13) % 256).filter((b) => b !== 10));
  writeFileSync(file, Buffer.concat([Buffer.from(good), Buffer.from(`${good.trim()} ${'x'.repeat(1 << 20)}\n`), garbage, Buffer.from(`\n${good}`)]));
  const r = runPban(['test-filter', 'postfix[mode=aggressive]', file, '--json', '--timezone', 'UTC']);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stderr) as Record<string, number>;
  assert.equal(summary.lines, 4);
  assert.equal(summary.matched, 2);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { line: number }).line), [1, 4]);
});

test('a broken filter file: one line naming the file and the regex, exit 1', () => {
  const file = path.join(tmp, 'broken.toml');
  writeFileSync(file, `name = "broken"\n[[failregex]]\nid = "x"\nkind = "k"\nregex = '''reject: .*<HOST>'''\n`);
  const r = runPban(['test-filter', file, REAL_LOG]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^pban: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5: failregex "x": catch-all .*"reject: \\.\\*<HOST>"`));
});

test('wrong arguments exit 2', () => {
  assert.equal(runPban(['test-filter', 'postfix']).status, 2);
  const missing = runPban(['test-filter', 'postfix', '/no/such/file.log']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^pban: \/no\/such\/file\.log: no such file/);
  const tz = runPban(['test-filter', 'postfix', REAL_LOG, '--timezone', 'Mars/Base']);
  assert.equal(tz.status, 2);
  assert.match(tz.stderr, /unknown time zone "Mars\/Base"/);
  const mode = runPban(['test-filter', 'postfix[mode=nope]', REAL_LOG]);
  assert.equal(mode.status, 1);
  assert.match(mode.stderr, /^pban: .*postfix\.toml: unknown mode "nope"/);
});

test('counts in the summary are grouped as toLocaleString(en-US) groups them', async () => {
  const { groupDigits } = await import('../../src/cli/test-filter.js');
  for (const x of [0, 7, 999, 1000, 12345, 999999, 1000000, 145522, 2 ** 40, Number.MAX_SAFE_INTEGER, 1.5, -1234]) {
    assert.equal(groupDigits(x), x.toLocaleString('en-US'), String(x));
  }
});

test('test-filter reports matched lines dated in the future (the daemon counts them at the wall clock)', () => {
  const at = (ms: number): string =>
    `${new Date(ms).toISOString()} mail postfix/submission/smtpd[77]: warning: unknown[198.51.100.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=bob`;
  const input = [at(Date.now() - 60_000), at(Date.now() + 10_000), at(Date.now() + 2 * 86_400_000), at(Date.now() + 400 * 86_400_000)].join('\n') + '\n';
  const j = runPban(['test-filter', 'postfix[mode=aggressive]', '-', '--json'], { input });
  assert.equal(j.status, 0, j.stderr);
  const summary = JSON.parse(j.stderr.trim().split('\n').pop()!) as { matched: number; futureDated: number };
  assert.deepEqual([summary.matched, summary.futureDated], [4, 2]);
  const t = runPban(['test-filter', 'postfix[mode=aggressive]', '-'], { input });
  assert.match(t.stdout, /^Future-dated: 2 matched lines are dated more than a minute after now/m);
  const none = runPban(['test-filter', 'postfix[mode=aggressive]', '-'], { input: at(Date.now()) + '\n' });
  assert.doesNotMatch(none.stdout, /Future-dated/);
});
