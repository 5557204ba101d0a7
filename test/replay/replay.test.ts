// pban replay end to end through the CLI: a crafted log and config, exact events out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPban } from '../helpers/run-cli.js';

let dir: string;
let config: string;
let log: string;

const sasl = (ts: string, ip: string): string =>
  `${ts} mail postfix/submission/smtpd[811]: warning: unknown[${ip}]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice@example.org`;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pban-replay-test-'));
  config = path.join(dir, 'pban.toml');
  writeFileSync(
    config,
    `[pban]
database = "pban.sqlite"
socket = "pban.sock"
timezone = "UTC"
[defaults]
findtime = "10m"
maxretry = 3
bantime = "10m"
ignoreip = ["127.0.0.0/8", "192.0.2.99"]
action = ["dry-run"]
[defaults.subnet]
enabled = true
ipv4_prefix = 24
ipv6_prefix = 64
maxretry = 4
min_addresses = 3
bantime = "1h"
[defaults.bantime_increment]
enabled = true
factor = 2
maxtime = "1w"
[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ["/var/log/mail.log"]
`,
  );
  log = path.join(dir, 'mail.log');
  const lines = [
    // 198.51.100.7 fails 3 times in 2 minutes: banned at 10:02 for 10m.
    sasl('2026-03-01T10:00:00Z', '198.51.100.7'),
    `2026-03-01T10:00:30Z mail postfix/smtpd[1]: connect from unknown[198.51.100.7]`,
    sasl('2026-03-01T10:01:00Z', '198.51.100.7'),
    sasl('2026-03-01T10:02:00Z', '198.51.100.7'),
    // While banned, it counts for nothing.
    sasl('2026-03-01T10:03:00Z', '198.51.100.7'),
    // An ignored address never counts.
    sasl('2026-03-01T10:03:10Z', '192.0.2.99'),
    sasl('2026-03-01T10:03:20Z', '192.0.2.99'),
    sasl('2026-03-01T10:03:30Z', '192.0.2.99'),
    // Three addresses of 2001:db8:5::/64, four failures, none reaching maxretry: network ban.
    sasl('2026-03-01T10:04:00Z', '2001:db8:5::1'),
    sasl('2026-03-01T10:04:10Z', '2001:db8:5::2'),
    sasl('2026-03-01T10:04:20Z', '2001:db8:5::3'),
    sasl('2026-03-01T10:04:30Z', '2001:db8:5::1'),
    // The first ban expires at 10:12; a second offence gives ban number 2 for 20m.
    sasl('2026-03-01T10:20:00Z', '198.51.100.7'),
    sasl('2026-03-01T10:20:01Z', '198.51.100.7'),
    sasl('2026-03-01T10:20:02Z', '198.51.100.7'),
    // Last line: 11:00, past the 20m ban's end (10:40), before the network ban's (11:04:30).
    sasl('2026-03-01T11:00:00Z', '203.0.113.50'),
  ];
  writeFileSync(log, lines.join('\n') + '\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('replay --json prints one event per line, in time order, with CIDR targets', () => {
  const r = runPban(['replay', '-c', config, '--json', log]);
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(events, [
    { event: 'ban', jail: 'postfix', target: '198.51.100.7/32', time: '2026-03-01T10:02:00.000Z', until: '2026-03-01T10:12:00.000Z', failures: 3, ban_number: 1 },
    { event: 'ban', jail: 'postfix', target: '2001:db8:5::/64', time: '2026-03-01T10:04:30.000Z', until: '2026-03-01T11:04:30.000Z', failures: 4, ban_number: 1 },
    { event: 'unban', jail: 'postfix', target: '198.51.100.7/32', time: '2026-03-01T10:12:00.000Z', until: '2026-03-01T10:12:00.000Z', failures: 3, ban_number: 1 },
    { event: 'ban', jail: 'postfix', target: '198.51.100.7/32', time: '2026-03-01T10:20:02.000Z', until: '2026-03-01T10:40:02.000Z', failures: 3, ban_number: 2 },
    { event: 'unban', jail: 'postfix', target: '198.51.100.7/32', time: '2026-03-01T10:40:02.000Z', until: '2026-03-01T10:40:02.000Z', failures: 3, ban_number: 2 },
  ]);
});

test('replay prints a table and a per-jail summary by default', () => {
  const r = runPban(['replay', '-c', config, log]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^TIME \(UTC\)\s+EVENT\s+JAIL\s+TARGET/m);
  assert.match(r.stdout, /2001:db8:5::\/64\s+network\s+1h/);
  assert.match(r.stdout, /jail postfix \(postfix\[mode=aggressive\]\): 15 failures matched, 3 bans, 2 unbans/);
  assert.match(r.stdout, /16 lines read/);
});

test('replay --database keeps the store; without it nothing is left behind', () => {
  const db = path.join(dir, 'kept.sqlite');
  const r = runPban(['replay', '-c', config, '--database', db, '--json', log]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(db));
});

test('replay errors: unknown jail, missing log, bad config are one line with exit 1 or 2', () => {
  const j = runPban(['replay', '-c', config, '--jail', 'nope', log]);
  assert.equal(j.status, 2);
  assert.match(j.stderr, /^pban: no jail named "nope"/);
  const m = runPban(['replay', '-c', config, path.join(dir, 'missing.log')]);
  assert.equal(m.status, 2);
  assert.match(m.stderr, /missing\.log: no such file/);
  const bad = path.join(dir, 'bad.toml');
  writeFileSync(bad, '[defaults]\nmaxretries = 3\n');
  const b = runPban(['replay', '-c', bad, log]);
  assert.equal(b.status, 1);
  assert.equal(b.stderr.trim().split('\n').length, 1);
  assert.match(b.stderr, /bad\.toml:2: .*maxretries/);
});

test('pban check validates a config and summarises it; a broken one is one line, exit 1', () => {
  const ok = runPban(['check', '-c', config]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /OK, 1 enabled jail/);
  assert.match(ok.stdout, /postfix: filter postfix\[mode=aggressive\], actions dry-run, maxretry 3, subnets on/);
  const j = JSON.parse(runPban(['check', '-c', config, '--json']).stdout) as { ok: boolean; jails: { name: string }[] };
  assert.equal(j.ok, true);
  assert.deepEqual(j.jails.map((x) => x.name), ['postfix']);
  const bad = path.join(dir, 'bad-filter.toml');
  writeFileSync(bad, '[jails.x]\nfilter = "postfix[mode=nosuchmode]"\nlogpath = ["/var/log/mail.log"]\n');
  const b = runPban(['check', '-c', bad]);
  assert.equal(b.status, 1);
  assert.equal(b.stderr.trim().split('\n').length, 1);
  assert.match(b.stderr, /bad-filter\.toml:2: .*nosuchmode/);
});

test('actions take fail2ban-style parameters; an unknown one is refused at its line', () => {
  const good = path.join(dir, 'params.toml');
  writeFileSync(good, '[jails.x]\nfilter = "postfix"\nlogpath = ["/var/log/mail.log"]\naction = ["iptables[variant=-legacy]", "nftables[blocktype=reject]"]\n');
  const ok = runPban(['check', '-c', good]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /actions iptables\[variant=-legacy\], nftables\[blocktype=reject\]/);
  const bad = path.join(dir, 'bad-params.toml');
  writeFileSync(bad, '[jails.x]\nfilter = "postfix"\nlogpath = ["/var/log/mail.log"]\naction = [\n  "nftables[bogus=1]",\n]\n');
  const b = runPban(['check', '-c', bad]);
  assert.equal(b.status, 1);
  assert.match(b.stderr, /bad-params\.toml:5: .*unknown parameter "bogus"/);
  const syntax = path.join(dir, 'bad-syntax.toml');
  writeFileSync(syntax, '[jails.x]\nfilter = "postfix"\nlogpath = ["/var/log/mail.log"]\naction = ["nftables[blocktype]"]\n');
  const s = runPban(['check', '-c', syntax]);
  assert.equal(s.status, 1);
  assert.match(s.stderr, /bad-syntax\.toml:4: .*invalid action parameters/);
});
