// Fault: a log line dated in the future (a clock step, a skewed syslog sender, a forged
// timestamp) against the real daemon (dry-run action). Protection must continue: active bans
// stay, a new burst from a new address is banned within 2 s, across a restart too, and
// `pban status` counts the future-dated line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import type { BannedEntry, DaemonStatus } from '../../src/control/types.js';

let root: string;
const running: DaemonProcess[] = [];
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-fault-time-'));
});
after(async () => {
  // A daemon stuck in a blocking call (the very fault under test) cannot run its SIGTERM handler.
  for (const d of running) {
    const kill = setTimeout(() => d.child.kill('SIGKILL'), 5000);
    await stopDaemon(d);
    clearTimeout(kill);
  }
  rmSync(root, { recursive: true, force: true });
});

const DAY = 86_400_000;
const line = (ip: string, ms = Date.now()): string =>
  `${new Date(ms).toISOString()} mail postfix/submission/smtpd[77]: warning: unknown[${ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=bob\n`;
const burst = (ip: string): string => line(ip) + line(ip) + line(ip);

function setup(name: string): { config: string; socket: string; log: string } {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'pban.toml');
  const log = path.join(dir, 'mail.log');
  writeFileSync(log, '');
  writeFileSync(
    config,
    `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ["mail.log"]
findtime = "10m"
maxretry = 3
bantime = "1h"
action = ["dry-run"]
`,
  );
  return { config, socket: path.join(dir, 'pban.sock'), log };
}

const bannedTargets = (socket: string): string[] => cliJson<BannedEntry[]>(socket, ['banned']).map((b) => b.target).sort();

async function bannedWithin2s(socket: string, target: string): Promise<number> {
  const t0 = Date.now();
  await waitFor(`${target} banned`, () => bannedTargets(socket).includes(target), 2000);
  return Date.now() - t0;
}

test('a line dated a year ahead neither lifts bans nor blinds the jail, across a restart', async () => {
  const s = setup('future');
  let d = await startDaemon(s.config, s.socket);
  running.push(d);
  appendFileSync(s.log, burst('198.51.100.7'));
  await bannedWithin2s(s.socket, '198.51.100.7/32');

  // The attack: one line from the future, from an address of its own.
  appendFileSync(s.log, line('203.0.113.66', Date.now() + 365 * DAY));
  await waitFor('the future-dated line counted', () => cliJson<DaemonStatus>(s.socket, ['status']).jails[0]!.futureDated === 1);
  assert.deepEqual(bannedTargets(s.socket), ['198.51.100.7/32'], 'the active ban stays');

  // Protection continues: a new burst from a new address is banned at once.
  appendFileSync(s.log, burst('198.51.100.8'));
  await bannedWithin2s(s.socket, '198.51.100.8/32');
  await waitFor('the future-dated line logged', () => /"msg":"time\.futureDated"/.test(d.output()));
  const st = cli(s.socket, ['status']);
  assert.match(st.stdout, /postfix: 1 failure was dated in the future/);

  // A flood of future-dated lines (one per address: they count, at the wall clock) is one log
  // record, not one per line.
  appendFileSync(s.log, Array.from({ length: 200 }, (_, i) => line(`203.0.113.${i}`, Date.now() + 30 * DAY)).join(''));
  await waitFor('the flood counted', () => cliJson<DaemonStatus>(s.socket, ['status']).jails[0]!.futureDated === 201);
  assert.equal(d.output().match(/"msg":"time\.futureDated"/g)!.length, 1);
  assert.deepEqual(bannedTargets(s.socket), ['198.51.100.7/32', '198.51.100.8/32']);

  // Across a restart: the stored clock is not in the future, the bans are re-applied, and a
  // burst is still banned.
  assert.equal(await stopDaemon(d), 0);
  d = await startDaemon(s.config, s.socket);
  running.push(d);
  assert.deepEqual(bannedTargets(s.socket), ['198.51.100.7/32', '198.51.100.8/32']);
  appendFileSync(s.log, burst('198.51.100.9'));
  await bannedWithin2s(s.socket, '198.51.100.9/32');
  assert.equal(await stopDaemon(d), 0);
});

// libfaketime (Debian package faketime, installed by scripts/setup-test-env.sh) shifts the
// daemon's wall clock by the offset written in a file, re-read on every clock read: the test
// steps the daemon's clock back while it runs, without touching the machine's clock.
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

test('the wall clock stepped back two hours: failures dated by the new clock still count', async () => {
  assert.ok(existsSync(LIBFAKETIME), `${LIBFAKETIME} is missing: run scripts/setup-test-env.sh (package faketime)`);
  const s = setup('stepback');
  const offsetFile = path.join(root, 'stepback', 'faketime.rc');
  writeFileSync(offsetFile, '+0\n');
  const wrapper = ['env', `LD_PRELOAD=${LIBFAKETIME}`, `FAKETIME_TIMESTAMP_FILE=${offsetFile}`, 'FAKETIME_NO_CACHE=1', 'FAKETIME_DONT_FAKE_MONOTONIC=1'];
  const d = await startDaemon(s.config, s.socket, [], wrapper);
  running.push(d);
  appendFileSync(s.log, burst('198.51.100.7'));
  await bannedWithin2s(s.socket, '198.51.100.7/32');

  // The clock is stepped back two hours; syslog dates the lines with the new clock.
  writeFileSync(offsetFile, '-2h\n');
  const back = (): number => Date.now() - 2 * 3_600_000;
  appendFileSync(s.log, line('198.51.100.20', back()) + line('198.51.100.20', back()) + line('198.51.100.20', back()));
  await bannedWithin2s(s.socket, '198.51.100.20/32');
  assert.ok(bannedTargets(s.socket).includes('198.51.100.7/32'), 'the earlier ban stays');
  await waitFor('the step logged', () => /"msg":"time\.clockSetBack"/.test(d.output()));

  // And once the clock is right again, failures dated now count too.
  writeFileSync(offsetFile, '+0\n');
  appendFileSync(s.log, burst('198.51.100.21'));
  await bannedWithin2s(s.socket, '198.51.100.21/32');
  assert.equal(await stopDaemon(d), 0);
});
