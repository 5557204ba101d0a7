// `pban report` through the CLI on the crafted attack log: every figure as worked out by hand,
// the period options, the store source, and hostile text escaped in every output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPban } from '../helpers/run-cli.js';
import type { Report } from '../../src/report/model.js';
import { HOSTILE_NAME, HOSTILE_USER, writeAttack } from './attack-log.js';

let dir: string;
let config: string;
let log: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pban-report-test-'));
  ({ config, log } = writeAttack(dir));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function json(args: string[]): Report {
  const r = runPban(['report', '-c', config, '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Report;
}

test('report of a log: totals, kinds, addresses, networks, bans, traffic and near-threshold windows', () => {
  const r = json([log]);
  assert.equal(r.source.kind, 'log');
  assert.equal(r.source.lines, 14);
  assert.deepEqual(r.totals, { failures: 10, addresses: 6, networks: 3, whileBanned: 1, bans: { address: 1, network: 1, manual: 0 } });
  assert.deepEqual(r.prefixes, { ipv4: 24, ipv6: 64 });
  assert.deepEqual(r.kinds.map((k) => [k.kind, k.failures, k.addresses, k.networks]), [['sasl', 9, 5, 3], ['relay', 1, 1, 1]]);
  assert.deepEqual(r.kinds[0]!.top[0], { address: '198.51.100.10', failures: 4 });
  assert.deepEqual(r.addresses.map((a) => [a.address, a.failures, a.bans]), [
    ['198.51.100.10', 4, 1],
    ['192.0.2.1', 2, 0],
    ['198.51.100.11', 1, 0],
    ['198.51.100.12', 1, 0],
    ['192.0.2.2', 1, 0],
    ['2001:db8::1', 1, 0],
  ].sort((a, b) => (b[1] as number) - (a[1] as number) || ((a[0] as string) < (b[0] as string) ? -1 : 1)));
  assert.equal(r.addresses.find((a) => a.address === '198.51.100.11')!.name, HOSTILE_NAME);
  assert.deepEqual(r.networks.map((n) => [n.network, n.failures, n.addresses, n.bans]), [
    ['198.51.100.0/24', 6, 3, 1],
    ['192.0.2.0/24', 3, 2, 0],
    ['2001:db8::/64', 1, 1, 0],
  ]);
  assert.deepEqual(r.users.map((u) => [u.user, u.failures, u.addresses]), [['admin', 7, 4], [HOSTILE_USER, 1, 1], ['root', 1, 1]]);
  assert.deepEqual(r.traffic, { clients: 7, hostileClients: 6, connections: 3, hostileConnections: 2, hostileClientShare: 6 / 7, hostileConnectionShare: 2 / 3 });
  assert.deepEqual(r.nearThreshold.networks, [{ jail: 'postfix', target: '192.0.2.0/24', failures: 3, threshold: 4, addresses: 2, minAddresses: 3, missing: 1 }]);
  assert.deepEqual(r.nearThreshold.addresses, [{ jail: 'postfix', target: '192.0.2.1/32', failures: 2, threshold: 3, addresses: 1, minAddresses: 1, missing: 1 }]);
  assert.equal(r.first, Date.parse('2026-11-27T10:00:05Z'));
  assert.equal(r.last, Date.parse('2026-11-27T10:04:00Z'));
  const tl = r.timeline!;
  assert.equal(tl.bucketMs, 60_000);
  assert.equal(tl.start, Date.parse('2026-11-27T10:00:00Z'));
  assert.deepEqual(tl.series.map((s) => [s.kind, s.counts]), [['sasl', [3, 0, 4, 1, 1]], ['relay', [0, 1, 0, 0, 0]]]);
  assert.deepEqual(r.bansPerHour!.hours, [{ time: Date.parse('2026-11-27T10:00:00Z'), address: 1, network: 1, manual: 0 }]);
});

test('--since and --until count only the period; the jails still see what came before', () => {
  const r = json(['--since', '2026-11-27T10:01:30', '--until', '2026-11-27T10:03:45Z', log]);
  assert.equal(r.since, Date.parse('2026-11-27T10:01:30Z'));
  assert.equal(r.until, Date.parse('2026-11-27T10:03:45Z'));
  // .12, 192.0.2.1 twice, 192.0.2.2, and .10 while banned (its ban came from the earlier lines).
  assert.deepEqual(r.totals, { failures: 5, addresses: 4, networks: 2, whileBanned: 1, bans: { address: 0, network: 1, manual: 0 } });
  assert.equal(r.traffic.connections, 0);
});

test('--store reads what a replay committed, read only', () => {
  const db = path.join(dir, 'pban.sqlite');
  const rp = runPban(['replay', '-c', config, '--database', db, log]);
  assert.equal(rp.status, 0, rp.stderr);
  const before = readFileSync(db);
  // Near the threshold is told at the end of the period: now, or --until. Now (days after the
  // log) every window is empty; at 10:05 they are as the replay left them.
  const now = json(['--store']);
  assert.deepEqual(now.nearThreshold, { networks: [], addresses: [] });
  const r = json(['--store', '--until', '2026-11-27T10:05Z']);
  assert.equal(r.source.kind, 'store');
  assert.equal(r.source.database, db);
  assert.ok(r.source.notes.length > 0);
  // The replay's store keeps the failures inside findtime of its clock (10:04): all of them
  // that were counted, so not the one while banned.
  assert.equal(r.totals.failures, 9);
  assert.deepEqual(r.totals.bans, { address: 1, network: 1, manual: 0 });
  assert.equal(r.traffic.connections, null);
  assert.deepEqual(r.nearThreshold.networks.map((n) => n.target), ['192.0.2.0/24']);
  assert.deepEqual(r.nearThreshold.addresses.map((n) => n.target), ['192.0.2.1/32']);
  assert.deepEqual(readFileSync(db), before, 'the store is not written');
});

test('terminal output escapes control characters and draws ASCII charts outside UTF-8', () => {
  const r = runPban(['report', '-c', config, log], { env: { ...process.env, LANG: 'C', LC_ALL: '', LC_CTYPE: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes('\x1b'), 'no raw escape reaches the terminal');
  assert.ok(r.stdout.includes('evil\\x1b[31mred'));
  assert.ok(r.stdout.includes(HOSTILE_NAME), 'HTML means nothing on a terminal: shown as written');
  assert.match(r.stdout, /^sasl +\|[#*+=:,. -]+\| max 4$/m);
  assert.ok(!/[▁-█]/.test(r.stdout));
  const u = runPban(['report', '-c', config, log], { env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '' } });
  assert.match(u.stdout, /^sasl +\|[▁-█ ]+\| max 4$/m);
  assert.match(u.stdout, /Near the threshold[^\n]*\n.*\npostfix +192\.0\.2\.0\/24 +3\/4 +2\/3 +1 failure and 1 more address\n/);
});

test('usage mistakes are one line and exit 2', () => {
  for (const [args, want] of [
    [[], /give log files, or --store, or --daemon/],
    [['--store', log], /exactly one/],
    [['--since', 'yesterday', log], /--since: invalid time "yesterday"/],
    [['--top', '0', log], /--top must be/],
    [['--jail', 'nope', log], /no jail named "nope"/],
  ] as const) {
    const r = runPban(['report', '-c', config, ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});
