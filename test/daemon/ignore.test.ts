// The real daemon (dry-run action) with clients that must never be counted: allow_names (a
// verified Postfix client name), ignoreself (the machine's own addresses, here a namespace's
// documentation addresses) and ignorecommand (an external program asked per address). Each
// time a burst from the allowed or ignored client bans nothing, and a burst from another
// address in the same run still bans.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { saslLine, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import { must, run } from '../helpers/netns.js';
import type { BannedEntry } from '../../src/control/types.js';

let root: string;
const running: DaemonProcess[] = [];
const namespaces: string[] = [];

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-ignore-test-'));
});
after(async () => {
  for (const d of running) await stopDaemon(d);
  for (const ns of namespaces) run(['ip', 'netns', 'del', ns]);
  rmSync(root, { recursive: true, force: true });
});

interface Setup {
  config: string;
  socket: string;
  log: string;
  dir: string;
}

function setup(name: string, jail: string): Setup {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const s = { dir, config: path.join(dir, 'pban.toml'), socket: path.join(dir, 'pban.sock'), log: path.join(dir, 'mail.log') };
  writeFileSync(s.log, '');
  writeFileSync(s.config, `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[defaults]
findtime = "10m"
maxretry = 3
bantime = "1h"
action = ["dry-run"]
[jails.postfix]
filter = "postfix"
logpath = ["mail.log"]
${jail}
`);
  return s;
}

async function start(s: Setup, wrapper: string[] = []): Promise<DaemonProcess> {
  const d = await startDaemon(s.config, s.socket, [], wrapper);
  running.push(d);
  return d;
}

const banned = (s: Setup): string[] => cliJson<BannedEntry[]>(s.socket, ['banned']).map((b) => b.target).sort();
/** A SASL failure of a client Postfix logged with a verified name. */
const namedLine = (name: string, ip: string): string => saslLine(ip).replace(`unknown[${ip}]`, `${name}[${ip}]`);
const burst = (s: Setup, lines: string[]): void => appendFileSync(s.log, lines.join('\n') + '\n');
const times = (n: number, line: () => string): string[] => Array.from({ length: n }, line);

/** Waits for `ban`, then gives the daemon a moment more: a ban that should not come would come by then. */
async function bannedExactly(s: Setup, expected: string[], ban: string): Promise<void> {
  await waitFor(`${ban} banned`, () => banned(s).includes(ban), 20_000);
  await sleep(500);
  assert.deepEqual(banned(s), expected.sort());
}

test('allow_names: a burst from a verified big-sender name bans nothing; a hostile name and an unnamed address are banned', async () => {
  const s = setup('allow', 'allow_names = ["*.outbound.protection.outlook.com"]');
  const d = await start(s);
  burst(s, times(6, () => namedLine('mail-db8eur05on2001.outbound.protection.outlook.com', '192.0.2.30')));
  // a name that only ends like one of the allowed: its own domain's DNS vouches for it
  burst(s, times(3, () => namedLine('outbound.protection.outlook.com.example.net', '198.51.100.9')));
  burst(s, times(3, () => saslLine('198.51.100.8')));
  await bannedExactly(s, ['198.51.100.8/32', '198.51.100.9/32'], '198.51.100.8/32');
  assert.equal(await stopDaemon(d), 0);
});

test("ignoreself: the machine's own addresses are never counted, another address is banned; with ignoreself = false they are", async () => {
  // The daemon runs in a namespace of ours whose only addresses (besides lo) are documentation ones.
  const ns = `pban-self-${process.pid}`;
  run(['ip', 'netns', 'del', ns]);
  must(['ip', 'netns', 'add', ns]);
  namespaces.push(ns);
  // a veth pair (dummy links need a kernel module some machines lack); its peer stays down
  must(['ip', '-n', ns, 'link', 'add', 'self0', 'type', 'veth', 'peer', 'name', 'self1']);
  must(['ip', '-n', ns, 'addr', 'add', '192.0.2.77/24', 'dev', 'self0']);
  must(['ip', '-n', ns, 'addr', 'add', '2001:db8:77::1/64', 'dev', 'self0', 'nodad']);
  // both ends up: Node lists only the addresses of interfaces that are up and running
  must(['ip', '-n', ns, 'link', 'set', 'self0', 'up']);
  must(['ip', '-n', ns, 'link', 'set', 'self1', 'up']);
  const wrapper = ['ip', 'netns', 'exec', ns];

  const s = setup('self', '');
  const d = await start(s, wrapper);
  burst(s, times(5, () => saslLine('192.0.2.77')));
  burst(s, times(5, () => saslLine('2001:db8:77::1')));
  burst(s, times(3, () => saslLine('192.0.2.78')));
  await bannedExactly(s, ['192.0.2.78/32'], '192.0.2.78/32');
  assert.equal(await stopDaemon(d), 0);

  const off = setup('self-off', 'ignoreself = false');
  const d2 = await start(off, wrapper);
  burst(off, times(3, () => saslLine('192.0.2.77')));
  await bannedExactly(off, ['192.0.2.77/32'], '192.0.2.77/32');
  assert.equal(await stopDaemon(d2), 0);
});

/**
 * The admin's program: records each call, then exits 0 for friends (203.0.113.0/24), 1 for
 * 198.51.100.0/24, 3 for 192.0.2.3, and hangs for 2001:db8:4::4.
 */
function judge(dir: string): { program: string; calls: () => string[] } {
  const program = path.join(dir, 'is-friend');
  const calls = path.join(dir, 'calls');
  // sh starts in a few ms even on a loaded machine (node takes a second there): the timeout
  // below is then about the hanging case only. pban itself runs it without a shell.
  writeFileSync(program, `#!/bin/sh
printf '%s %s\\n' "$1" "$2" >> '${calls}'
case "$1" in
  203.0.113.*) exit 0 ;;
  198.51.100.*) exit 1 ;;
  192.0.2.3) exit 3 ;;
  2001:db8:4::4) exec sleep 600 ;;
esac
exit 1
`);
  chmodSync(program, 0o755);
  return { program, calls: () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean) : []) };
}

test('ignorecommand: exit 0 ignores (never counted, not even for its network), 1 counts, anything else or a timeout counts with a warning; one run per address', async () => {
  const dir = path.join(root, 'cmd');
  mkdirSync(dir, { recursive: true });
  const j = judge(dir);
  const s = setup('cmd', `ignorecommand = [${JSON.stringify(j.program)}, "<ip>", "--jail=postfix"]
ignorecommand_timeout = "3s"
[jails.postfix.subnet]
enabled = true
maxretry = 4
min_addresses = 2`);
  const d = await start(s);
  // 203.0.113.5 is a friend: six failures, no ban. Had it counted, 203.0.113.9's two
  // failures would make four from two addresses: a network ban.
  burst(s, times(6, () => saslLine('203.0.113.5')));
  burst(s, times(2, () => saslLine('203.0.113.9')));
  burst(s, times(3, () => saslLine('198.51.100.7')));
  await bannedExactly(s, ['198.51.100.7/32'], '198.51.100.7/32');
  // a broken verdict (exit 3) and a hanging program: the address counts, a warning says why
  burst(s, times(3, () => saslLine('192.0.2.3')));
  burst(s, times(3, () => saslLine('2001:db8:4::4')));
  await waitFor('2001:db8:4::4 banned after the timeout', () => banned(s).includes('2001:db8:4::4/128'), 20_000);
  assert.deepEqual(banned(s), ['192.0.2.3/32', '198.51.100.7/32', '2001:db8:4::4/128']);
  // (the log arrives through a pipe, possibly after the reply to `pban banned`)
  await waitFor('both warnings', () => /ignorecommand for 192\.0\.2\.3 failed \(exit 3\)/.test(d.output()) && /ignorecommand for 2001:db8:4::4 failed \(exit none\)/.test(d.output()));
  // each address asked once (the verdict is cached), `<ip>` one argument of its own
  const calls = j.calls().map((c) => c.split(' '));
  assert.deepEqual(calls.map((c) => c[0]).sort(), ['192.0.2.3', '198.51.100.7', '2001:db8:4::4', '203.0.113.5', '203.0.113.9']);
  assert.ok(calls.every((c) => c.length === 2 && c[1] === '--jail=postfix'));
  assert.equal(await stopDaemon(d), 0);
});

test('ignorecommand: a stop while the program hangs ends at once; the unjudged lines are read again at the next start', async () => {
  const dir = path.join(root, 'cmd-stop');
  mkdirSync(dir, { recursive: true });
  const j = judge(dir);
  const s = setup('cmd-stop', `ignorecommand = [${JSON.stringify(j.program)}, "<ip>"]
ignorecommand_timeout = "60s"`);
  const d = await start(s);
  burst(s, times(3, () => saslLine('2001:db8:4::4')));
  await waitFor('the program asked', () => j.calls().length > 0);
  const t0 = Date.now();
  assert.equal(await stopDaemon(d), 0);
  assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms`);
  // Nothing of the batch was committed: started again, the daemon reads and judges the same
  // lines (its start waits for that, as for any backlog; 1 s now), and they count.
  writeFileSync(s.config, readFileSync(s.config, 'utf8').replace('ignorecommand_timeout = "60s"', 'ignorecommand_timeout = "1s"'));
  const d2 = await start(s);
  await waitFor('the re-read lines banned', () => banned(s).includes('2001:db8:4::4/128'), 20_000);
  assert.equal(j.calls().length, 2);
  assert.equal(await stopDaemon(d2), 0);
});
