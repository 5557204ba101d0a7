// The report's pure parts: adding up, buckets, connect lines, periods, near-threshold windows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReportBuilder, nearThreshold } from '../../src/report/aggregate.js';
import { pickBucket } from '../../src/report/buckets.js';
import { parseConnect } from '../../src/report/connect-line.js';
import { parseReportTime } from '../../src/report/period.js';
import { resolveZone } from '../../src/filters/index.js';
import type { Address, Target } from '../../src/events.js';

const T0 = Date.parse('2026-11-27T10:00:00Z');
const MIN = 60_000;
const net = (addr: string, prefix: number): Target => ({ addr: addr as Address, prefix, family: addr.includes(':') ? 6 : 4 });

test('failures add up per address, network, kind and user; ties sort by name', () => {
  const b = new ReportBuilder({ top: 2 });
  b.addFailure({ jail: 'j', time: T0, address: '192.0.2.1', family: 4, kind: 'sasl', user: 'admin', name: 'a.example' });
  b.addFailure({ jail: 'j', time: T0 + MIN, address: '192.0.2.1', family: 4, kind: 'relay' });
  b.addFailure({ jail: 'j', time: T0 + 2 * MIN, address: '192.0.2.9', family: 4, kind: 'sasl', user: 'admin' });
  b.addFailure({ jail: 'j', time: T0 + 3 * MIN, address: '2001:db8::5', family: 6, kind: 'sasl', whileBanned: true });
  b.addBan({ jail: 'j', time: T0 + MIN, target: net('192.0.2.1', 32), kind: 'address' });
  b.addConnect(T0, '192.0.2.1');
  b.addConnect(T0, '203.0.113.7');
  b.addConnect(T0, '203.0.113.7');
  const r = b.build({ source: { kind: 'log', notes: [] }, generatedAt: T0 });
  assert.deepEqual(r.totals, { failures: 4, addresses: 3, networks: 2, whileBanned: 1, bans: { address: 1, network: 0, manual: 0 } });
  assert.deepEqual(r.addresses.map((a) => [a.address, a.failures, a.bans, a.name, a.network]), [
    ['192.0.2.1', 2, 1, 'a.example', '192.0.2.0/24'],
    ['192.0.2.9', 1, 0, null, '192.0.2.0/24'],
  ]);
  assert.deepEqual(r.addresses[0]!.kinds, { relay: 1, sasl: 1 });
  assert.deepEqual(r.networks.map((n) => [n.network, n.failures, n.addresses]), [['192.0.2.0/24', 3, 2], ['2001:db8::/64', 1, 1]]);
  assert.deepEqual(r.kinds.map((k) => [k.kind, k.failures, k.addresses, k.networks]), [['sasl', 3, 3, 2], ['relay', 1, 1, 1]]);
  assert.deepEqual(r.users, [{ user: 'admin', failures: 2, addresses: 2 }]);
  assert.deepEqual(r.traffic, { clients: 4, hostileClients: 3, connections: 3, hostileConnections: 1, hostileClientShare: 3 / 4, hostileConnectionShare: 1 / 3 });
  assert.deepEqual(r.jails, [{ name: 'j', failures: 4, bans: 1 }]);
  assert.equal(r.timeline!.bucketMs, MIN);
  assert.deepEqual(r.timeline!.series, [{ kind: 'sasl', counts: [1, 0, 1, 1] }, { kind: 'relay', counts: [0, 1, 0, 0] }]);
  assert.deepEqual(r.bansPerHour, { start: T0, hours: [{ time: T0, address: 1, network: 0, manual: 0 }] });
});

test('the period: what falls outside since/until is not counted; the timeline spans the period', () => {
  const b = new ReportBuilder({ since: T0 + MIN, until: T0 + 3 * MIN });
  for (let i = 0; i < 5; i++) b.addFailure({ jail: 'j', time: T0 + i * MIN, address: '198.51.100.1', family: 4, kind: 'sasl' });
  b.addConnect(T0, '198.51.100.1');
  b.addBan({ jail: 'j', time: T0 + 3 * MIN, target: net('198.51.100.1', 32), kind: 'address' });
  const r = b.build({ source: { kind: 'log', notes: [] }, generatedAt: T0 });
  assert.equal(r.totals.failures, 2);
  assert.equal(r.totals.bans.address, 0);
  assert.equal(r.traffic.connections, 0);
  assert.equal(r.traffic.hostileConnectionShare, null);
  assert.deepEqual(r.timeline!.series[0]!.counts, [1, 1]);
  assert.equal(r.timeline!.start, T0 + MIN);
});

test('an empty report has no charts and no shares', () => {
  const b = new ReportBuilder();
  b.connectionsUnknown();
  const r = b.build({ source: { kind: 'store', notes: [] }, generatedAt: T0 });
  assert.equal(r.timeline, null);
  assert.equal(r.bansPerHour, null);
  assert.deepEqual(r.traffic, { clients: 0, hostileClients: 0, connections: null, hostileConnections: null, hostileClientShare: null, hostileConnectionShare: null });
});

test('near the threshold: half way or more, not banned, not full (a full unbanned network overlaps ignoreip)', () => {
  const near = nearThreshold([
    {
      name: 'j',
      maxretry: 5,
      subnet: { enabled: true, maxretry: 10, minAddresses: 3 },
      windows: {
        networks: [
          { target: net('192.0.2.0', 24), failures: 5, addresses: 2 },
          { target: net('198.51.100.0', 24), failures: 4, addresses: 4 },
          { target: net('203.0.113.0', 24), failures: 12, addresses: 3 },
          { target: net('2001:db8::', 64), failures: 12, addresses: 1 },
          { target: net('2001:db8:1::', 64), failures: 9, addresses: 9 },
        ],
        addresses: [
          { target: net('192.0.2.1', 32), failures: 3, addresses: 1 },
          { target: net('192.0.2.2', 32), failures: 4, addresses: 1 },
          { target: net('192.0.2.3', 32), failures: 2, addresses: 1 },
        ],
      },
      isBanned: (t) => t.addr === '2001:db8:1::',
    },
  ]);
  assert.deepEqual(near.networks.map((n) => [n.target, n.missing, n.addresses, n.minAddresses]), [
    ['2001:db8::/64', 0, 1, 3],
    ['192.0.2.0/24', 5, 2, 3],
  ]);
  assert.deepEqual(near.addresses.map((n) => [n.target, n.missing]), [['192.0.2.2/32', 1], ['192.0.2.1/32', 2]]);
});

test('buckets: round steps, at most the number asked for, aligned in UTC', () => {
  assert.deepEqual(pickBucket(T0, T0 + 5 * MIN, 60), { start: T0, bucketMs: MIN, buckets: 5 });
  assert.deepEqual(pickBucket(T0 + 7 * MIN, T0 + 5.5 * 3_600_000, 60), { start: T0, bucketMs: 10 * MIN, buckets: 33 });
  const week = pickBucket(T0, T0 + 400 * 86_400_000, 60);
  assert.ok(week.buckets <= 60 && week.bucketMs % (7 * 86_400_000) === 0);
  assert.deepEqual(pickBucket(T0, T0, 60), { start: T0, bucketMs: MIN, buckets: 1 });
});

test('connect lines: smtpd sessions only, the address validated, the date read', () => {
  const utc = resolveZone('UTC');
  const now = Date.parse('2026-12-01T00:00:00Z');
  assert.deepEqual(parseConnect('2026-11-27T10:00:00+00:00 mail postfix/submission/smtpd[2757]: connect from unknown[198.19.0.1]', utc, now), { time: T0, address: '198.19.0.1', family: 4 });
  assert.deepEqual(parseConnect('Nov 27 10:00:00 mail postfix/smtpd[1]: connect from a[b].example[2001:DB8::1]', utc, now), { time: T0, address: '2001:db8::1', family: 6 });
  assert.deepEqual(parseConnect('Nov 27 10:00:00 mail postfix/smtpd[1]: connect from x[::ffff:192.0.2.1]', utc, now)?.address, '192.0.2.1');
  for (const line of [
    'Nov 27 10:00:00 mail postfix/smtpd[1]: disconnect from unknown[192.0.2.1] ehlo=1 commands=1',
    'Nov 27 10:00:00 mail postfix/postscreen[1]: CONNECT from [192.0.2.1]:4242 to [192.0.2.25]:25',
    'Nov 27 10:00:00 mail dovecot[1]: connect from unknown[192.0.2.1]',
    'Nov 27 10:00:00 mail postfix/smtpd[1]: connect from unknown[999.1.1.1]',
    'Nov 27 10:00:00 mail postfix/smtpd[1]: connect from unknown[192.0.2.1] trailing',
    'garbage postfix/smtpd[1]: connect from unknown[192.0.2.1]',
  ]) assert.equal(parseConnect(line, utc, now), null, line);
});

test('--since/--until: ISO times (UTC unless zoned) or a duration before now', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  assert.deepEqual(parseReportTime('2026-11-27', now), { ms: Date.parse('2026-11-27T00:00:00Z') });
  assert.deepEqual(parseReportTime('2026-11-27T14:05', now), { ms: Date.parse('2026-11-27T14:05:00Z') });
  assert.deepEqual(parseReportTime('2026-11-27 14:05:30', now), { ms: Date.parse('2026-11-27T14:05:30Z') });
  assert.deepEqual(parseReportTime('2026-11-27T14:05+01:00', now), { ms: Date.parse('2026-11-27T13:05:00Z') });
  assert.deepEqual(parseReportTime('2h', now), { ms: now - 2 * 3_600_000 });
  assert.deepEqual(parseReportTime('1d', now), { ms: now - 86_400_000 });
  for (const bad of ['yesterday', '2026-13-01', '-1', '', '2026-11-27T25:00']) assert.ok('error' in parseReportTime(bad, now), bad);
});

test('connect lines undated when no period needs the time', () => {
  const utc = resolveZone('UTC');
  assert.deepEqual(parseConnect('Nov 27 10:00:00 mail postfix/smtpd[1]: connect from x[192.0.2.1]', utc, Date.now(), false), { time: 0, address: '192.0.2.1', family: 4 });
});
