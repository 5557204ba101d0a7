// Drives the real pban binary against a control server with in-memory handlers, over a real
// socket in a temp dir. The lead adds the same checks against the real daemon later.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { BannedEntry, DaemonStatus, JailStatus } from '../../src/control/types.js';
import { ConfigError } from '../../src/errors.js';
import { JAILS, makeBan, startTestDaemon, type TestDaemon } from '../control/test-daemon.js';
import { runPbanAsync } from './run-pban-async.js';
import { requireRoot } from '../helpers/system.js';

let d: TestDaemon;
const pban = (...args: string[]) => runPbanAsync([...args, '--socket', d.socketPath]);
const targets = (): string[] => [...d.handlers.banned()].map((b) => `${b.target.addr}/${b.target.prefix}`);

before(async () => {
  requireRoot('the CLI talks only to a root-owned control socket');
  d = await startTestDaemon();
  const now = d.clock.now();
  d.handlers.addBan(makeBan('192.0.2.1', 'postfix', 'address', now - 7 * 60_000, now + 53 * 60_000 + 10_000, 5, 1));
  d.handlers.addBan(makeBan('198.51.100.0/24', 'postfix', 'network', now - 3_600_000, null, 42, 3));
  d.handlers.recordFailures('postfix', 2, 11);
});
after(async () => {
  await d.close();
});

test('pban status: jails, counts, action health, no colour in a pipe', async () => {
  const r = await pban('status');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^pban 0\.1\.0-test, pid \d+, up /);
  assert.match(r.stdout, /^JAIL +FILTER +FAILING +FAILED +BANNED IPS +BANNED NETS +TOTAL BANNED +SOURCES$/m);
  assert.match(r.stdout, /^postfix +postfix +2 +11 +1 +1 +2 +\/var\/log\/mail\.log$/m);
  assert.match(r.stdout, /^postfix-sasl +nftables +FAILING +nft: exit 1: Error: Could not process rule$/m);
  assert.doesNotMatch(r.stdout, /\x1b\[/);
});

test('pban status --json is the documented DaemonStatus', async () => {
  const r = await pban('status', '--json');
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as DaemonStatus;
  assert.deepEqual(s.jails.map((j) => [j.name, j.currentlyBanned, j.totalFailed]), [
    ['postfix', { addresses: 1, networks: 1 }, 11],
    ['postfix-sasl', { addresses: 0, networks: 0 }, 0],
  ]);
  assert.equal(typeof s.uptimeMs, 'number');
});

test('pban status JAIL prints the fail2ban tree; --json the same data', async () => {
  const r = await pban('status', 'postfix');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Status for the jail: postfix\n\|- Filter\n/);
  assert.match(r.stdout, /\|  \|- Currently failed:\t2\n/);
  assert.match(r.stdout, /   `- Banned IP list:\t192\.0\.2\.1 198\.51\.100\.0\/24\n$/);
  const j = JSON.parse((await pban('status', 'postfix', '--json')).stdout) as JailStatus;
  assert.deepEqual(j.actions.banned, ['192.0.2.1/32', '198.51.100.0/24']);
});

test('an unknown jail is an error: exit 1, one line naming the jails', async () => {
  for (const args of [['status', 'nope'], ['banned', 'nope'], ['ban', 'nope', '192.0.2.9']]) {
    const r = await pban(...args);
    assert.equal(r.status, 1, args.join(' '));
    assert.equal(r.stderr, 'pban: unknown jail "nope" (jails: postfix, postfix-sasl)\n');
    assert.equal(r.stdout, '');
  }
});

test('pban banned: a table with relative expiry, "never" for permanent', async () => {
  const r = await pban('banned');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^TARGET +JAIL +KIND +FAILURES +BANNED AT +EXPIRES +BAN #$/);
  assert.match(lines[1]!, /^192\.0\.2\.1 +postfix +address +5 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +in 53m +1$/);
  assert.match(lines[2]!, /^198\.51\.100\.0\/24 +postfix +network +42 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +never +3$/);
  assert.equal(lines.length, 3);
});

test('pban banned --json lists BannedEntry objects', async () => {
  const r = await pban('banned', '--json');
  assert.equal(r.status, 0, r.stderr);
  const list = JSON.parse(r.stdout) as BannedEntry[];
  assert.deepEqual(list[1], {
    target: '198.51.100.0/24', jail: 'postfix', kind: 'network', failures: 42, bannedAt: d.clock.now() - 3_600_000, expiresAt: null, banNumber: 3,
  });
  const none = await pban('banned', 'postfix-sasl', '--json');
  assert.equal(none.stdout, '[]\n');
});

test('pban ban and unban change the daemon state', async () => {
  const r = await pban('ban', 'postfix-sasl', '2001:DB8::7', '--time', '2h');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^banned 2001:db8::7 in postfix-sasl until .* \(for 2h\), ban #1\n$/);
  const b = [...d.handlers.banned('postfix-sasl')][0];
  assert.equal(b?.until, d.clock.now() + 7_200_000);

  const p = await pban('ban', 'postfix-sasl', '203.0.113.0/24', '--time', 'permanent');
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /^banned 203\.0\.113\.0\/24 in postfix-sasl permanently, ban #1\n$/);

  const u = await pban('unban', '2001:db8::7', '192.0.2.200');
  assert.equal(u.status, 0, u.stderr);
  assert.equal(u.stdout, 'unbanned 1 ban\n  2001:db8::7 (postfix-sasl)\n');
  assert.equal(u.stderr, 'pban: not banned: 192.0.2.200\n');

  const all = await pban('unban', '--all', '--jail', 'postfix-sasl');
  assert.equal(all.status, 0, all.stderr);
  assert.deepEqual(targets(), ['192.0.2.1/32', '198.51.100.0/24']);
});

test('an invalid target or duration is a usage mistake: exit 2, daemon untouched', async () => {
  const before = targets();
  const cases: ReadonlyArray<readonly [string[], RegExp]> = [
    [['ban', 'postfix', '192.0.2.999'], /^pban: invalid target "192\.0\.2\.999": expected an IPv4 or IPv6 address/],
    [['ban', 'postfix', '0.0.0.0/0'], /^pban: invalid target "0\.0\.0\.0\/0": refusing a network larger than \/8/],
    [['ban', 'postfix', '192.0.2.9', '--time', '2x'], /^pban: --time: invalid duration "2x"/],
    [['unban', 'mail.example.org'], /^pban: invalid target "mail\.example\.org"/],
    [['unban'], /^pban: unban: give at least one target, or --all/],
    [['unban', '--all', '192.0.2.1'], /^pban: unban: give targets or --all, not both/],
    [['ban', 'postfix'], /^error: missing required argument 'target'/],
    [['status', '--frobnicate'], /^error: unknown option '--frobnicate'/],
  ];
  for (const [args, msg] of cases) {
    const r = await pban(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  assert.deepEqual(targets(), before);
});

test('pban reload: an invalid config is refused with file:line, a valid one applied', async () => {
  d.handlers.nextConfig = new ConfigError('config.unknownKey', '/etc/pban/pban.toml', 14, 'unknown key "maxretries" (did you mean "maxretry"?)');
  const bad = await pban('reload');
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, 'pban: /etc/pban/pban.toml:14: unknown key "maxretries" (did you mean "maxretry"?)\n');
  d.handlers.nextConfig = JAILS;
  const ok = await pban('reload');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, 'reloaded: 2 jails (postfix, postfix-sasl)\n');
  d.handlers.nextConfig = null;
});

test('pban version shows both ends; --json too', async () => {
  const r = await pban('version');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^pban 0\.1\.0\ndaemon 0\.1\.0-test \(protocol 1, node v\d+/);
  const j = JSON.parse((await pban('version', '--json')).stdout) as { cli: { version: string }; daemon: { pid: number } };
  assert.equal(j.cli.version, '0.1.0');
  assert.equal(j.daemon.pid, process.pid);
});

test('the socket path comes from -c FILE ([pban] socket)', async () => {
  const cfg = path.join(d.dir, 'pban.toml');
  fs.writeFileSync(cfg, `[pban]\nsocket = "${d.socketPath}"\n`);
  const r = await runPbanAsync(['status', '--json', '-c', cfg]);
  assert.equal(r.status, 0, r.stderr);
  const missing = await runPbanAsync(['status', '-c', path.join(d.dir, 'nope.toml')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^pban: .*nope\.toml: cannot read config: no such file$/m);
});

test('the daemon down: every command says so, exit 1', async () => {
  const sock = path.join(d.dir, 'down', 'pban.sock');
  for (const cmd of ['status', 'banned', 'reload', 'stop']) {
    const r = await runPbanAsync([cmd, '--socket', sock]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `pban: pban is not running (no socket at ${sock})\n`);
  }
  const v = await runPbanAsync(['version', '--socket', sock]);
  assert.equal(v.status, 1);
  assert.equal(v.stdout, 'pban 0.1.0\n');
});

test('a socket owned by someone else is refused', async () => {
  const other = await startTestDaemon();
  try {
    fs.chownSync(other.socketPath, 65534, 65534);
    const r = await runPbanAsync(['status', '--socket', other.socketPath]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `pban: refusing to talk to ${other.socketPath}: it is owned by uid 65534, not root, so it may not be pban's\n`);
  } finally {
    await other.close();
  }
});

test('--help of each command shows examples', async () => {
  for (const cmd of ['status', 'banned', 'ban', 'unban', 'reload', 'stop', 'version']) {
    const r = await runPbanAsync([cmd, '--help']);
    assert.equal(r.status, 0, cmd);
    assert.match(r.stdout, new RegExp(`Examples:\\n  \\$ pban ${cmd}`));
    assert.match(r.stdout, /--socket <path>/);
  }
});

test('pban stop: replied, then the daemon is told to stop', async () => {
  const r = await pban('stop');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'pban is stopping\n');
  for (let i = 0; i < 50 && d.handlers.stopCalls === 0; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(d.handlers.stopCalls, 1);
});
