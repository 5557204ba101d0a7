// pban replay --explain through the CLI: each ban is followed by the lines that led to it, in
// text and in JSON; a hostile line cannot drive the terminal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPban } from '../helpers/run-cli.js';

let dir: string;
let config: string;
let log: string;

const sasl = (ts: string, ip: string, user = 'alice'): string =>
  `${ts} mail postfix/submission/smtpd[811]: warning: unknown[${ip}]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=${user}`;

const lines = [
  sasl('2026-03-01T10:00:00Z', '198.51.100.7'),
  sasl('2026-03-01T10:00:30Z', '203.0.113.9'),
  sasl('2026-03-01T10:01:00Z', '198.51.100.7', 'bob\u001b[2J'),
  sasl('2026-03-01T10:02:00Z', '198.51.100.7'),
  // Already banned: not among the lines of any ban.
  sasl('2026-03-01T10:03:00Z', '198.51.100.7'),
];

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pban-explain-test-'));
  config = path.join(dir, 'pban.toml');
  writeFileSync(
    config,
    `[pban]
timezone = "UTC"
[defaults]
findtime = "10m"
maxretry = 3
bantime = "1h"
action = ["dry-run"]
[jails.postfix]
filter = "postfix"
logpath = ["/var/log/mail.log"]
`,
  );
  log = path.join(dir, 'mail.log');
  writeFileSync(log, lines.join('\n') + '\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('replay --explain prints the lines behind each ban, control characters escaped', () => {
  const r = runPban(['replay', '-c', config, '--explain', log]);
  assert.equal(r.status, 0, r.stderr);
  const explained = r.stdout.slice(r.stdout.indexOf('\nban '));
  const shown = explained.trim().split('\n');
  assert.equal(shown[0], 'ban 198.51.100.7 in postfix at 2026-03-01 10:02:00Z: address, 3 failures, kinds sasl, ban #1');
  assert.equal(shown.length, 4);
  assert.ok(shown[1]!.endsWith(lines[0]!), shown[1]);
  assert.ok(shown[2]!.endsWith(lines[2]!.replace('\u001b', '\\x1b')), shown[2]);
  assert.ok(shown[3]!.endsWith(lines[3]!), shown[3]);
  assert.ok(!r.stdout.includes('\u001b'));
  // Without --explain, no lines.
  const plain = runPban(['replay', '-c', config, log]);
  assert.ok(!plain.stdout.includes('SASL LOGIN'));
});

test('replay --explain --json: each ban carries its kinds and lines', () => {
  const r = runPban(['replay', '-c', config, '--explain', '--json', log]);
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; kinds: string[]; lines: { time: string; kind: string; regex: string; regexIndex: number; line: string }[] });
  assert.equal(events.length, 1);
  assert.deepEqual(events[0]!.kinds, ['sasl']);
  assert.deepEqual(events[0]!.lines.map((l) => l.line), [lines[0], lines[2], lines[3]]);
  assert.deepEqual(events[0]!.lines.map((l) => l.time), ['2026-03-01T10:00:00.000Z', '2026-03-01T10:01:00.000Z', '2026-03-01T10:02:00.000Z']);
  assert.ok(events[0]!.lines.every((l) => l.kind === 'sasl' && l.regex !== '' && l.regexIndex >= 0));
  // Without --explain the JSON events are as before.
  const plain = runPban(['replay', '-c', config, '--json', log]);
  assert.equal(Object.keys(JSON.parse(plain.stdout.trim()) as object).join(','), 'event,jail,target,time,until,failures,ban_number');
});
