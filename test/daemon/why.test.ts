// `pban why`, `pban unban` of an address a network ban still blocks, and ban lines kept across
// a restart: the real daemon (dry-run action) driven through the real CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saslLine, cli, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import type { BannedEntry, WhyReply } from '../../src/control/types.js';

let root: string;
const running: DaemonProcess[] = [];

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-why-test-'));
});
after(async () => {
  for (const d of running) await stopDaemon(d);
  rmSync(root, { recursive: true, force: true });
});

// Two jails on one log: "postfix" bans the /24 after 6 failures from 2 addresses; "pairs" bans
// an address after 2 failures and no networks.
const CONFIG = `[pban]
database = "pban.sqlite"
socket = "pban.sock"
loglevel = "debug"
[defaults]
findtime = "10m"
maxretry = 3
bantime = "1h"
action = ["dry-run"]
[jails.postfix]
filter = "postfix"
logpath = ["mail.log"]
[jails.postfix.subnet]
enabled = true
maxretry = 6
min_addresses = 2
[jails.pairs]
filter = "postfix"
logpath = ["mail.log"]
maxretry = 2
`;

function setup(name: string): { config: string; socket: string; log: string } {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'pban.toml');
  writeFileSync(config, CONFIG);
  const log = path.join(dir, 'mail.log');
  writeFileSync(log, '');
  return { config, socket: path.join(dir, 'pban.sock'), log };
}

async function start(s: { config: string; socket: string }): Promise<DaemonProcess> {
  const d = await startDaemon(s.config, s.socket);
  running.push(d);
  return d;
}

const why = (socket: string, target: string): WhyReply => cliJson<WhyReply>(socket, ['why', target]);

test('why names every ban that covers an address, networks and other jails included, with its lines; unban names the covering network; traces survive a restart', async () => {
  const s = setup('why');
  let d = await start(s);
  const t0 = Date.now() - 60_000;
  // 198.51.100.10 .. .13 fail in turn: the 6th failure bans 198.51.100.0/24 in postfix; pairs
  // bans each address at its 2nd failure (those lines are the ones pairs shows).
  const lines = [10, 11, 12, 13, 10, 11].map((h, i) => saslLine(`198.51.100.${h}`, t0 + i * 1000));
  appendFileSync(s.log, lines.join('\n') + '\n');
  // One failure of an address nobody bans: failing, not blocked.
  appendFileSync(s.log, saslLine('203.0.113.5', t0 + 10_000) + '\n');
  await waitFor('the network ban', () => cliJson<BannedEntry[]>(s.socket, ['banned', 'postfix']).some((b) => b.target === '198.51.100.0/24'));
  await waitFor('the failing address', () => why(s.socket, '203.0.113.5').failing.length === 2);

  // An address that never failed is blocked by the network ban, with the six lines behind it.
  const w15 = why(s.socket, '198.51.100.15');
  assert.equal(w15.target, '198.51.100.15/32');
  assert.equal(w15.blocked, true);
  assert.equal(w15.bans.length, 1);
  const net = w15.bans[0]!;
  assert.equal(net.target, '198.51.100.0/24');
  assert.equal(net.jail, 'postfix');
  assert.equal(net.kind, 'network');
  assert.equal(net.failures, 6);
  assert.equal(net.banNumber, 1);
  assert.deepEqual(net.kinds, ['sasl']);
  assert.deepEqual(net.lines.map((l) => l.line), lines);
  assert.ok(net.lines.every((l) => l.kind === 'sasl' && l.regex.length > 0 && l.regexIndex >= 0));
  assert.equal(w15.failing.length, 0);

  // An address banned in pairs and inside the network banned in postfix: both, widest first.
  const w10 = why(s.socket, '198.51.100.10');
  assert.deepEqual(w10.bans.map((b) => [b.jail, b.target]), [['postfix', '198.51.100.0/24'], ['pairs', '198.51.100.10/32']]);
  assert.deepEqual(w10.bans[1]!.lines.map((l) => l.line), [lines[0], lines[4]]);

  // Not blocked, but failing: the count in each jail's window and its line.
  const w5 = why(s.socket, '203.0.113.5');
  assert.equal(w5.blocked, false);
  assert.deepEqual(w5.failing.map((f) => [f.jail, f.failures, f.lines.length]).sort(), [['pairs', 1, 1], ['postfix', 1, 1]]);
  const text5 = cli(s.socket, ['why', '203.0.113.5']);
  assert.equal(text5.status, 0);
  assert.match(text5.stdout, /203\.0\.113\.5 is not blocked/);
  assert.match(text5.stdout, /is failing in jail postfix: 1 failure/);
  const nothing = cli(s.socket, ['why', '2001:db8::77']);
  assert.match(nothing.stdout, /2001:db8::77 is not blocked: no active ban covers it\.\n2001:db8::77 is not failing in any jail\./);

  const text15 = cli(s.socket, ['why', '198.51.100.15']);
  assert.equal(text15.status, 0);
  assert.match(text15.stdout, /198\.51\.100\.15 is blocked by 1 ban:\n  198\.51\.100\.0\/24 in jail postfix: network ban #1, 6 failures, kinds sasl/);
  assert.ok(text15.stdout.includes('unknown[198.51.100.13]: SASL LOGIN authentication failed'));

  // unban of an address only a network ban blocks: never "not banned"; names the network, the
  // jail and the command, and exits 4.
  const u15 = cli(s.socket, ['unban', '198.51.100.15']);
  assert.equal(u15.status, 4, u15.stderr);
  assert.doesNotMatch(u15.stderr, /not banned/);
  assert.match(u15.stderr, /198\.51\.100\.15 is still blocked by a network ban:/);
  assert.ok(u15.stderr.includes('198.51.100.0/24 in jail postfix (lift it with: pban unban 198.51.100.0/24 --jail postfix)'), u15.stderr);
  // An address whose own ban is lifted, while the network ban stays: lifted, and still named.
  const u10 = cli(s.socket, ['unban', '198.51.100.10']);
  assert.equal(u10.status, 4, u10.stderr);
  assert.match(u10.stdout, /unbanned 1 ban\n  198\.51\.100\.10 \(pairs\)/);
  assert.ok(u10.stderr.includes('pban unban 198.51.100.0/24 --jail postfix'));
  // A target nothing blocks keeps the old answer and exit code.
  const u99 = cli(s.socket, ['unban', '203.0.113.99']);
  assert.equal(u99.status, 0);
  assert.match(u99.stderr, /not banned: 203\.0\.113\.99/);

  // A restart: the lines come back from the store.
  assert.equal(await stopDaemon(d), 0);
  // Each match is a debug record, each ban an info record with its failures and kinds (read
  // once the daemon is gone: its log is written asynchronously).
  const out = d.output();
  assert.equal(out.split('\n').filter((l) => l.includes('"msg":"failure.matched"') && l.includes('"jail":"postfix"')).length, 7, out);
  assert.ok(out.split('\n').some((l) => l.includes('"msg":"ban.added"') && l.includes('"target":"198.51.100.0/24"') && l.includes('"failures":6') && l.includes('"kinds":["sasl"]')), out);
  d = await start(s);
  const again = why(s.socket, '198.51.100.15');
  assert.deepEqual(again.bans.map((b) => [b.target, b.lines.map((l) => l.line)]), [['198.51.100.0/24', lines]]);
  // A failing address's count comes back (its failures are stored); its lines were in memory
  // only, so the restarted daemon shows none (docs/cli.md).
  assert.deepEqual(why(s.socket, '203.0.113.5').failing.map((f) => [f.failures, f.lines.length]), [[1, 0], [1, 0]]);
  // One more failure of 203.0.113.5 bans it in pairs: its ban carries the line it has.
  appendFileSync(s.log, saslLine('203.0.113.5', t0 + 20_000) + '\n');
  const w5b = await waitFor('203.0.113.5 banned in pairs', () => {
    const w = why(s.socket, '203.0.113.5');
    return w.blocked && w;
  });
  assert.equal(w5b.bans[0]!.failures, 2);
  assert.deepEqual(w5b.bans[0]!.lines.map((l) => l.line), [saslLine('203.0.113.5', t0 + 20_000)]);
  assert.equal(await stopDaemon(d), 0);
});
