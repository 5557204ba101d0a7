// The admin's verdicts in the kernel: real nft inside a network namespace this test creates.
// A removed jail's manual and permanent bans stay in its nftables table through a reload and a
// restart (its automatic one leaves the set), and a recidive ban blocks every port.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../helpers/netns.js';
import { cli, saslLine, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';

const NS = `pbanvd-${process.pid}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-verdict-nft-'));
let daemon: DaemonProcess | undefined;

after(async () => {
  if (daemon) await stopDaemon(daemon);
  run(['ip', 'netns', 'del', NS]); // already gone is fine
  rmSync(dir, { recursive: true, force: true });
});

const nft = (...args: string[]): string => execFileSync('ip', ['netns', 'exec', NS, 'nft', ...args], { encoding: 'utf8' });
const table = (jail: string): string => {
  try {
    return nft('list', 'table', 'inet', `pban-${jail}`);
  } catch {
    return '';
  }
};

test('nftables: a removed jail keeps its manual and permanent bans in the kernel; recidive blocks every port', async () => {
  execFileSync('ip', ['netns', 'add', NS]); // fails loudly if namespaces are not available
  const config = path.join(dir, 'pban.toml');
  const socket = path.join(dir, 'pban.sock');
  const log = path.join(dir, 'mail.log');
  writeFileSync(log, '');
  writeFileSync(
    config,
    `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[defaults]
maxretry = 3
bantime = "1h"
action = ["nftables"]
ports = ["25", "587"]
[jails.postfix]
filter = "postfix[mode=auth]"
logpath = ["mail.log"]
[jails.recidive]
source = "bans"
maxretry = 1
bantime = "1w"
[jails.other]
filter = "postfix[mode=auth]"
logpath = ["mail.log"]
`,
  );
  const wrap = ['ip', 'netns', 'exec', NS];
  daemon = await startDaemon(config, socket, [], wrap);
  assert.equal(cli(socket, ['ban', 'other', '192.0.2.9']).status, 0);
  assert.equal(cli(socket, ['ban', 'other', '203.0.113.0/24', '--time', 'permanent']).status, 0);
  appendFileSync(log, [1, 2, 3].map(() => saslLine('198.51.100.21')).join('\n') + '\n');
  await waitFor('the automatic ban in the kernel', () => table('other').includes('198.51.100.21'), 20_000);

  // Recidive (maxretry 1: the first ban counts): its table blocks every port.
  const rec = await waitFor('the recidive ban in the kernel', () => table('recidive').includes('198.51.100.21') && table('recidive'), 20_000);
  assert.doesNotMatch(rec, /dport/, 'no port match: every port');
  assert.match(table('postfix'), /dport \{ 25, 587 \}/, 'the mail jails block their ports only');

  // Removing "other": its manual and permanent bans stay in its table, the automatic one goes.
  writeFileSync(config, readFileSync(config, 'utf8').replace(/\[jails\.other\][\s\S]*$/, ''));
  const r = cli(socket, ['reload']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /kept in force: 192\.0\.2\.9\/32/);
  await waitFor('the automatic ban out of the kernel', () => !table('other').includes('198.51.100.21'), 20_000);
  const kept = table('other');
  assert.match(kept, /192\.0\.2\.9/);
  assert.match(kept, /203\.0\.113\.0\/24/);
  assert.match(kept, /dport \{ 25, 587 \}/, 'the same firewall the jail had');

  // A start with the config that no longer has the jail: the same, from the store.
  assert.equal(await stopDaemon(daemon), 0);
  assert.equal(table('other'), '', 'stop removes the table');
  daemon = await startDaemon(config, socket, [], wrap);
  const again = await waitFor('the kept bans back in the kernel', () => {
    const t = table('other');
    return t.includes('192.0.2.9') && t.includes('203.0.113.0/24') && t;
  }, 20_000);
  assert.match(again, /dport \{ 25, 587 \}/);

  // Lifted only when told: the table goes with its last ban.
  const lift = cli(socket, ['reload', '--lift-removed']);
  assert.equal(lift.status, 0, lift.stderr);
  await waitFor('the table gone', () => table('other') === '', 20_000);
  assert.equal(await stopDaemon(daemon), 0);
  daemon = undefined;
  assert.doesNotMatch(nft('list', 'ruleset'), /pban-/, 'stop removes every table');
});
