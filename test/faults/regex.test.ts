// Fault: a hostile custom filter. One the bound cannot cover is refused, with one line naming the
// filter file, the regex and why, by `pban check`, `pban start`, `pban test-filter` and
// `pban reload`; one it can cover (nested quantifiers that pass the load-time checks) meets the
// 110-byte attack line, and the daemon keeps answering and banning.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { cli, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import { runPban } from '../helpers/run-cli.js';
import type { DaemonStatus } from '../../src/control/types.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'pban-fault-regex-'));
const running: DaemonProcess[] = [];
after(async () => {
  for (const d of running) await stopDaemon(d);
  rmSync(root, { recursive: true, force: true });
});

const filterFile = (regex: string): string => `name = "custom"
description = "a custom filter"

[[failregex]]
id = "custom"
kind = "custom"
regex = '''${regex}'''
`;

interface Setup {
  dir: string;
  config: string;
  socket: string;
  log: string;
  filter: string;
}

function setup(name: string, regex: string): Setup {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const s = { dir, config: path.join(dir, 'pban.toml'), socket: path.join(dir, 'pban.sock'), log: path.join(dir, 'mail.log'), filter: path.join(dir, 'custom.toml') };
  writeFileSync(s.log, '');
  writeFileSync(s.filter, filterFile(regex));
  writeFileSync(
    s.config,
    `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[defaults]
findtime = "10m"
maxretry = 3
bantime = "1h"
action = ["dry-run"]
[jails.custom]
filter = "${s.filter}"
logpath = ["mail.log"]
`,
  );
  return s;
}

// Refused at load: a backreference has no linear-time match, and (a+)+ is a classic shape.
const REFUSED: [string, RegExp][] = [
  ['<ADDR> (a|a)*\\1$', /uses a backreference/],
  ['<ADDR> (a+)+$', /nested quantifier "\(a\+\)\+"/],
];

test('a hostile custom filter is refused by check, start, test-filter and reload with one line naming the filter file, the regex and why', async () => {
  for (const [i, [regex, why]] of REFUSED.entries()) {
    const s = setup(`refused-${i}`, regex);
    const oneLine = (stderr: string): void => {
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.ok(lines[0]!.startsWith('pban: '), stderr);
      assert.ok(lines[0]!.includes(`${s.filter}:7: failregex "custom": `), stderr);
      assert.match(lines[0]!, why);
      assert.ok(lines[0]!.includes(JSON.stringify(regex)), stderr);
    };
    const check = runPban(['check', '-c', s.config]);
    assert.equal(check.status, 1, check.stderr);
    oneLine(check.stderr);
    assert.ok(check.stderr.startsWith(`pban: ${s.config}:`), check.stderr);
    const start = runPban(['start', '-c', s.config]);
    assert.equal(start.status, 1, start.stderr);
    oneLine(start.stderr);
    const tf = runPban(['test-filter', s.filter, '2026-01-01T00:00:00Z 198.51.100.1 aaa']);
    assert.equal(tf.status, 1, tf.stderr);
    oneLine(tf.stderr);
  }

  // reload: a running daemon with a sound filter refuses a config whose filter turned hostile.
  const s = setup('reload', '<ADDR> login failed$');
  const d = await startDaemon(s.config, s.socket);
  running.push(d);
  writeFileSync(s.filter, filterFile(REFUSED[0]![0]));
  const r = cli(s.socket, ['reload']);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^pban: .*custom\.toml:7: failregex "custom": regex uses a backreference/);
  assert.equal(cliJson<DaemonStatus>(s.socket, ['status']).jails.length, 1);
  await stopDaemon(d);
});

test('the 110-byte attack line on a nested-quantifier filter does not stall the daemon: status answers and the next burst is banned', async () => {
  // Each passes the load-time checks (the nested-quantifier heuristic does not see them) and,
  // run by plain backtracking, would need about 2^70 steps on the attack line below.
  for (const [i, hostile] of ['(?:(?:a)+)+$', '(?:a|a)*$', '(a|aa)+$'].entries()) {
    const s = setup(`attack-${i}`, `<ADDR> ${hostile}`);
    const d = await startDaemon(s.config, s.socket);
    running.push(d);
    const iso = new Date().toISOString();
    const attack = `${iso} 198.51.100.66 ${'a'.repeat(70)}!`;
    assert.equal(Buffer.byteLength(attack), 110);
    appendFileSync(s.log, attack + '\n');
    await waitFor('the attack line read', () => cliJson<DaemonStatus>(s.socket, ['status']).linesRead === 1, 20_000);
    // The same line read again (as after a crash) costs the same bounded time.
    appendFileSync(s.log, attack + '\n');
    const burst = [1, 2, 3].map(() => `${new Date().toISOString()} 198.51.100.67 ${'a'.repeat(70)}`);
    appendFileSync(s.log, burst.join('\n') + '\n');
    await waitFor('the burst banned', () => cliJson<{ target: string }[]>(s.socket, ['banned']).some((b) => b.target === '198.51.100.67/32'), 20_000);
    const st = cliJson<DaemonStatus>(s.socket, ['status']);
    assert.equal(st.linesRead, 5);
    assert.equal(cliJson<{ target: string }[]>(s.socket, ['banned']).length, 1);
    await stopDaemon(d);
  }
});
