// The progress line of `pban replay` and `pban test-filter`: when it is shown (a pure decision),
// what it says, and the real commands under a pseudo-terminal (script(1)) and in a pipe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProgressLine, formatEta, progressWanted, renderProgress } from '../../src/cli/format/progress.js';
import { PBAN_BIN, runPban } from '../helpers/run-cli.js';

test('progress only for a person at a terminal: stderr a tty, no --json, no lines streaming to the same terminal, not a dumb one', () => {
  const base = { stderrIsTTY: true, json: false, stdoutLive: false, term: 'xterm-256color' };
  assert.equal(progressWanted(base), true);
  assert.equal(progressWanted({ ...base, term: undefined }), true);
  assert.equal(progressWanted({ ...base, stderrIsTTY: false }), false, 'a pipe or a file');
  assert.equal(progressWanted({ ...base, json: true }), false, '--json');
  assert.equal(progressWanted({ ...base, stdoutLive: true }), false, '--print-matched to the terminal');
  assert.equal(progressWanted({ ...base, term: 'dumb' }), false);
});

test('the line: percentage, bar, lines, lines/s and ETA; rates only once settled; never wider than the terminal', () => {
  assert.equal(
    renderProgress({ lines: 500_000, bytes: 50_000_000, totalBytes: 200_000_000, elapsedMs: 2000 }, 100),
    ' 25% [########......................]  500,000 lines  250,000 lines/s  ETA 0:06',
  );
  assert.equal(renderProgress({ lines: 983, bytes: 120_000, totalBytes: 200_000_000, elapsedMs: 3 }, 100), '  0% [..............................]  983 lines  - lines/s  ETA -:--');
  // Unknown size (stdin from a pipe): what was read, no bar and no estimate.
  assert.equal(renderProgress({ lines: 1_234_567, bytes: 150 * 1024 * 1024, totalBytes: null, elapsedMs: 4000 }, 100), '1,234,567 lines  308,642 lines/s  150.0 MiB read');
  // Narrow terminals: the bar shrinks, then goes; the line always fits.
  const narrow = renderProgress({ lines: 500_000, bytes: 50_000_000, totalBytes: 200_000_000, elapsedMs: 2000 }, 70);
  assert.equal(narrow, ' 25% [#####...............]  500,000 lines  250,000 lines/s  ETA 0:06');
  for (const cols of [10, 30, 50, 60, 70, 80, 200]) {
    assert.ok(renderProgress({ lines: 500_000, bytes: 50_000_000, totalBytes: 200_000_000, elapsedMs: 2000 }, cols).length < cols, `fits ${cols}`);
  }
  assert.equal(formatEta(59_400), '0:59');
  assert.equal(formatEta(3_725_000), '1:02:05');
});

test('ProgressLine redraws in place at most every interval and erases itself at the end', () => {
  const out: string[] = [];
  let t = 0;
  const p = new ProgressLine({ write: (s: string) => out.push(s), columns: 100 }, 1000, () => t, 100);
  p.update(10, 100); // first chunk: drawn at once
  t = 50;
  p.update(20, 200); // too soon
  t = 300;
  p.update(30, 300);
  p.done();
  assert.equal(out.length, 3);
  assert.match(out[0]!, /^\r 10% \[###\.+\] {2}10 lines {2}- lines\/s {2}ETA -:--\x1b\[K$/);
  assert.match(out[1]!, /^\r 30% .* 30 lines {2}100 lines\/s {2}ETA 0:01\x1b\[K$/);
  assert.equal(out[2], '\r\x1b[K');
  // Nothing drawn, nothing erased.
  const quiet: string[] = [];
  new ProgressLine({ write: (s: string) => quiet.push(s) }, null).done();
  assert.deepEqual(quiet, []);
});

// ---- the real commands ---------------------------------------------------------------------------

let dir: string;
let log: string;
let config: string;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pban-progress-test-'));
  log = path.join(dir, 'mail.log');
  const lines: string[] = [];
  for (let i = 0; i < 60_000; i++) {
    lines.push(i % 2 === 0
      ? `Nov 27 17:37:${String(i % 60).padStart(2, '0')} mail postfix/submission/smtpd[8629]: warning: unknown[198.51.100.${(i % 250) + 1}]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice@pban.test`
      : `Nov 27 17:37:${String(i % 60).padStart(2, '0')} mail postfix/smtpd[8629]: connect from unknown[203.0.113.${(i % 250) + 1}]`);
  }
  writeFileSync(log, lines.join('\n') + '\n');
  config = path.join(dir, 'pban.toml');
  writeFileSync(config, `[pban]\ndatabase = "pban.sqlite"\nsocket = "pban.sock"\ntimezone = "UTC"\n[defaults]\naction = ["dry-run"]\nmaxretry = 3\n[jails.postfix]\nfilter = "postfix[mode=aggressive]"\nlogpath = ["mail.log"]\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs pban under script(1): stdout and stderr are a pseudo-terminal; returns what it showed. */
function underTerminal(args: readonly string[]): string {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, PBAN_BIN, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, TERM: 'xterm', NO_COLOR: '1' } });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout;
}

const frames = (screen: string): string[] => screen.split('\r').filter((f) => f.includes('ETA'));

for (const [name, args] of [
  ['test-filter', (): string[] => ['test-filter', 'postfix[mode=aggressive]', log]],
  ['replay', (): string[] => ['replay', '-c', config, log]],
] as const) {
  test(`pban ${name} on a terminal draws the progress line, then erases it before its report`, () => {
    const screen = underTerminal(args());
    const shown = frames(screen);
    assert.ok(shown.length >= 1, screen.slice(0, 500));
    for (const f of shown) assert.match(f, /^ {0,2}\d{1,3}% \[[#.]+\] {2}[\d,]+ lines {2}(-|[\d,]+) lines\/s {2}ETA (-:--|\d+:\d\d)\x1b\[K$/);
    // The last frame is erased: the report starts on a clean line.
    assert.match(screen, /lines\/s {2}ETA [-:\d]+\x1b\[K\r\x1b\[K[^\r]/);
  });

  test(`pban ${name} in a pipe and with --json shows no progress`, () => {
    const piped = runPban(args());
    assert.equal(piped.status, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr + piped.stdout, /lines\/s {2}ETA|\x1b\[K/);
    const json = underTerminal([...args(), '--json']);
    assert.doesNotMatch(json, /\x1b\[K|ETA/);
  });
}

test('pban test-filter --print-matched on a terminal prints its lines without a progress line between them', () => {
  const screen = underTerminal(['test-filter', '--print-matched', 'postfix[mode=aggressive]', log]);
  assert.match(screen, /^matched 1: 198\.51\.100\.1 /m);
  assert.doesNotMatch(screen, /\x1b\[K|ETA/);
});
