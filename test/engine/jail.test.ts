import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Jail } from '../../src/engine/jail.js';
import type { Decision } from '../../src/events.js';
import { PbanError } from '../../src/errors.js';
import { failure, policy, target } from './helpers.js';
import { MemoryStore } from './memory-store.js';

/** Compact text of a decision, to compare whole scenarios in one assertion. */
function brief(d: Decision): string {
  if (d.type === 'none') return d.reason;
  return d.bans.map((b) => `${b.kind}:${b.target.addr}/${b.target.prefix}@${b.created}-${b.until}#${b.banNumber}x${b.failures}`).join('+');
}

type Step = [ip: string, time: number];
interface Case {
  name: string;
  policy: Parameters<typeof policy>[0];
  steps: Step[];
  want: string[];
}

const A = '192.0.2.1';
const B = '192.0.2.2';
const C = '192.0.2.3';
const D = '198.51.100.4';

const cases: Case[] = [
  {
    name: 'window: three failures inside findtime ban the address and clear its window',
    policy: {},
    steps: [[A, 0], [A, 5], [A, 9], [A, 9]],
    want: ['counted', 'counted', 'address:192.0.2.1/32@9-109#1x3', 'already-banned'],
  },
  {
    name: 'window: a failure exactly findtime old has left (time > t − findtime)',
    policy: {},
    steps: [[A, 0], [A, 5], [A, 10], [A, 14]],
    want: ['counted', 'counted', 'counted', 'address:192.0.2.1/32@14-114#1x3'],
  },
  {
    name: 'after a ban expires the address starts from an empty window',
    policy: { bantime: 5 },
    steps: [[A, 0], [A, 1], [A, 2], [A, 7], [A, 8], [A, 9]],
    want: ['counted', 'counted', 'address:192.0.2.1/32@2-7#1x3', 'counted', 'counted', 'address:192.0.2.1/32@9-14#2x3'],
  },
  {
    name: 'increment: the n-th ban lasts bantime·factor^(n−1), capped at maxtime',
    policy: { maxretry: 1, bantime: 10, increment: { enabled: true, factor: 3, maxtime: 50, remember: 1000 } },
    steps: [[A, 0], [A, 10], [A, 40], [A, 90]],
    want: ['address:192.0.2.1/32@0-10#1x1', 'address:192.0.2.1/32@10-40#2x1', 'address:192.0.2.1/32@40-90#3x1', 'address:192.0.2.1/32@90-140#4x1'],
  },
  {
    name: 'increment: bans older than remember are forgotten',
    policy: { maxretry: 1, bantime: 10, increment: { enabled: true, factor: 2, maxtime: null, remember: 25 } },
    steps: [[A, 0], [A, 10], [A, 30], [A, 100]],
    want: ['address:192.0.2.1/32@0-10#1x1', 'address:192.0.2.1/32@10-30#2x1', 'address:192.0.2.1/32@30-50#2x1', 'address:192.0.2.1/32@100-110#1x1'],
  },
  {
    name: 'increment disabled: every ban lasts bantime, the ban number still grows',
    policy: { maxretry: 1, bantime: 10 },
    steps: [[A, 0], [A, 10], [A, 20]],
    want: ['address:192.0.2.1/32@0-10#1x1', 'address:192.0.2.1/32@10-20#2x1', 'address:192.0.2.1/32@20-30#3x1'],
  },
  {
    name: 'bantime null is permanent',
    policy: { maxretry: 1, bantime: null },
    steps: [[A, 0], [A, 1000000]],
    want: ['address:192.0.2.1/32@0-null#1x1', 'already-banned'],
  },
  {
    name: 'network: enough failures from enough addresses ban the /24',
    policy: { maxretry: 10, subnet: { enabled: true, maxretry: 4, minAddresses: 3 } },
    steps: [[A, 0], [A, 1], [B, 2], [C, 3], [C, 4]],
    want: ['counted', 'counted', 'counted', 'network:192.0.2.0/24@3-1003#1x4', 'already-banned'],
  },
  {
    name: 'network: too few distinct addresses, no ban',
    policy: { maxretry: 10, subnet: { enabled: true, maxretry: 4, minAddresses: 3 } },
    steps: [[A, 0], [A, 1], [B, 2], [B, 3], [A, 4], [D, 5]],
    want: ['counted', 'counted', 'counted', 'counted', 'counted', 'counted'],
  },
  {
    name: 'one failure triggers both: the address ban comes first, then the network',
    policy: { maxretry: 2, subnet: { enabled: true, maxretry: 3, minAddresses: 2 } },
    steps: [[A, 0], [B, 1], [B, 2], [B, 3]],
    want: ['counted', 'counted', 'address:192.0.2.2/32@2-102#1x2+network:192.0.2.0/24@2-1002#1x3', 'already-banned'],
  },
  {
    name: 'failures while the address is banned count for nothing, not even for its network',
    policy: { maxretry: 2, bantime: 100, subnet: { enabled: true, maxretry: 4, minAddresses: 2 } },
    steps: [[A, 0], [A, 1], [A, 2], [A, 3], [A, 4], [B, 5], [B, 6]],
    want: ['counted', 'address:192.0.2.1/32@1-101#1x2', 'already-banned', 'already-banned', 'already-banned', 'counted', 'address:192.0.2.2/32@6-106#1x2+network:192.0.2.0/24@6-1006#1x4'],
  },
  {
    name: 'address bans inside a banned network stay; the network stays banned after they end',
    policy: { maxretry: 1, bantime: 5, subnet: { enabled: true, maxretry: 2, minAddresses: 2, bantime: 50 } },
    steps: [[A, 0], [B, 1], [A, 7], [C, 30], [C, 60]],
    want: ['address:192.0.2.1/32@0-5#1x1', 'address:192.0.2.2/32@1-6#1x1+network:192.0.2.0/24@1-51#1x2', 'already-banned', 'already-banned', 'address:192.0.2.3/32@60-65#1x1'],
  },
  {
    name: 'IPv6 addresses aggregate into their /64',
    policy: { maxretry: 10, subnet: { enabled: true, maxretry: 3, minAddresses: 3 } },
    steps: [['2001:db8:0:7::1', 0], ['2001:db8:0:8::1', 1], ['2001:db8:0:7::2', 2], ['2001:db8:0:7:1::3', 3]],
    want: ['counted', 'counted', 'counted', 'network:2001:db8:0:7::/64@3-1003#1x3'],
  },
  {
    name: 'ignoreip: ignored addresses never count, networks holding one are never banned',
    policy: { maxretry: 1, ignore: [target('192.0.2.1/32')], subnet: { enabled: true, maxretry: 2, minAddresses: 2 } },
    steps: [[A, 0], [A, 1], [B, 2], [C, 3]],
    want: ['ignored', 'ignored', 'address:192.0.2.2/32@2-102#1x1', 'address:192.0.2.3/32@3-103#1x1'],
  },
  {
    name: 'disorder: a late failure inside findtime counts, the ban starts at the clock',
    policy: {},
    steps: [[A, 20], [B, 25], [A, 17], [A, 21]],
    want: ['counted', 'counted', 'counted', 'address:192.0.2.1/32@25-125#1x3'],
  },
  {
    name: 'disorder: a late failure older than findtime is dropped and corrupts nothing',
    policy: {},
    steps: [[A, 20], [B, 25], [A, 5], [A, 15], [A, 21], [A, 24]],
    want: ['counted', 'counted', 'ignored', 'ignored', 'counted', 'address:192.0.2.1/32@25-125#1x3'],
  },
  {
    name: 'disorder: the window is evaluated at the newest time, not at the late line',
    policy: {},
    steps: [[A, 1], [A, 2], [B, 12], [A, 3]],
    want: ['counted', 'counted', 'counted', 'counted'],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const jail = new Jail(policy(c.policy));
    const got = c.steps.map(([ip, t]) => {
      jail.expire(t);
      return brief(jail.observe(failure(ip, t)));
    });
    assert.deepEqual(got, c.want);
  });
}

test('expire returns due bans in until order, nextExpiry points at the earliest', () => {
  const jail = new Jail(policy({ maxretry: 1, bantime: 10 }));
  jail.observe(failure(A, 0));
  jail.observe(failure(B, 3));
  jail.observe(failure(C, 2)); // late: banned from the clock (3)
  assert.equal(jail.nextExpiry(), 10);
  assert.deepEqual(jail.expire(9), []);
  const lifted = jail.expire(13);
  assert.deepEqual(lifted.map((l) => [l.ban.target.addr, l.reason, l.time]), [
    [A, 'expired', 10],
    [B, 'expired', 13],
    [C, 'expired', 13],
  ]);
  assert.equal(jail.nextExpiry(), null);
});

test('observe lifts bans as its clock passes them; expire hands them over', () => {
  const jail = new Jail(policy({ maxretry: 1, bantime: 10 }));
  jail.observe(failure(A, 0));
  assert.equal(brief(jail.observe(failure(A, 10))), 'address:192.0.2.1/32@10-20#2x1');
  assert.deepEqual(jail.expire(10).map((l) => [l.ban.created, l.time]), [[0, 10]]);
});

test('manual ban and unban', () => {
  const jail = new Jail(policy({ maxretry: 3, bantime: 100, subnet: { enabled: true, bantime: 500 } }));
  jail.observe(failure(A, 0));
  jail.observe(failure(A, 1));
  const ban = jail.ban(target(`${A}/32`), 2);
  assert.deepEqual([ban.kind, ban.until, ban.failures, ban.banNumber], ['manual', 102, 0, 1]);
  assert.equal(jail.failuresOf(A as never), 0, 'a manual ban clears the window');
  const net = jail.ban(target('198.51.100.77/24'), 2, null);
  assert.deepEqual([net.target.addr, net.until], ['198.51.100.0', null], 'the target is masked; null is permanent');
  assert.equal(brief(jail.observe(failure('198.51.100.9', 3))), 'already-banned');
  assert.throws(() => jail.ban(target(`${A}/32`), 3), { code: 'engine.alreadyBanned', message: 'test: 192.0.2.1/32 is already banned; unban it first' });
  const l = jail.unban(target(`${A}/32`), 4);
  assert.deepEqual([l.reason, l.time], ['manual', 4]);
  assert.throws(() => jail.unban(target(`${A}/32`), 5), { code: 'engine.notBanned', message: 'test: 192.0.2.1/32 is not banned' });
  assert.equal(brief(jail.observe(failure(A, 6))), 'counted');
  assert.equal(jail.status().bannedNetworks, 1);
});

test('a manual unban is a verdict: the next ban starts again at ban number 1, not doubled', () => {
  const p = policy({ maxretry: 1, bantime: 10, increment: { enabled: true, factor: 2, maxtime: null, remember: 1000 } });
  const jail = new Jail(p);
  assert.equal(brief(jail.observe(failure(A, 0))), 'address:192.0.2.1/32@0-10#1x1');
  assert.equal(brief(jail.observe(failure(A, 10))), 'address:192.0.2.1/32@10-30#2x1');
  jail.unban(target(`${A}/32`), 12);
  assert.equal(brief(jail.observe(failure(A, 13))), 'address:192.0.2.1/32@13-23#1x1', 'base bantime again');
  assert.equal(brief(jail.observe(failure(A, 23))), 'address:192.0.2.1/32@23-43#2x1', 'and it grows again from there');
  // An expiry is no verdict: B's second ban is doubled.
  jail.observe(failure(B, 30));
  assert.equal(brief(jail.observe(failure(B, 40))), 'address:192.0.2.2/32@40-60#2x1');
  // unban --all is the same verdict for every target it lifts.
  jail.liftAll('manual', 45);
  assert.equal(brief(jail.observe(failure(B, 46))), 'address:192.0.2.2/32@46-56#1x1');
});

test('a manual unban resets the ban number after a restore too (the store keeps the lift)', () => {
  const p = policy({ maxretry: 1, bantime: 5, increment: { enabled: true, factor: 2, maxtime: null, remember: 1000 } });
  const store = new MemoryStore();
  const jail = new Jail(p);
  jail.observe(failure(A, 0)); // A#1, expires at 5
  jail.observe(failure(B, 1)); // B#1, expires at 6
  jail.observe(failure(A, 6)); // A#2 (doubled), lifted by hand below
  jail.unban(target(`${A}/32`), 7);
  jail.expire(7);
  store.commit(jail.takeChanges());
  const again = Jail.restore(p, store.snapshot());
  assert.equal(brief(again.observe(failure(A, 8))), 'address:192.0.2.1/32@8-13#1x1');
  assert.equal(brief(again.observe(failure(B, 8))), 'address:192.0.2.2/32@8-18#2x1', 'an expired ban still counts');
});

test('a manual ban overlapping ignoreip is refused with a clear message', () => {
  const jail = new Jail(policy({ ignore: [target('127.0.0.0/8'), target('2001:db8::1/128')] }));
  for (const t of ['127.0.0.1/32', '0.0.0.0/0', '2001:db8::/64']) {
    assert.throws(
      () => jail.ban(target(t), 0),
      (e: unknown) => e instanceof PbanError && e.code === 'engine.ignoredTarget' && e.message === `test: refusing to ban ${t}: it overlaps ignoreip`,
    );
  }
  assert.doesNotThrow(() => jail.ban(target('192.0.2.0/24'), 0));
});

test('liftAll lifts everything with the given reason', () => {
  const jail = new Jail(policy({ maxretry: 1, bantime: null }));
  jail.observe(failure(A, 0));
  jail.observe(failure('2001:db8::5', 0));
  const lifts = jail.liftAll('jail-removed', 50);
  assert.deepEqual(lifts.map((l) => [l.reason, l.time]), [['jail-removed', 50], ['jail-removed', 50]]);
  assert.deepEqual(jail.activeBans(), []);
});

test('status counters', () => {
  const jail = new Jail(policy({ maxretry: 2, subnet: { enabled: true, maxretry: 3, minAddresses: 2 } }));
  jail.observe(failure(A, 0));
  jail.observe(failure(B, 1));
  jail.observe(failure(D, 2));
  assert.deepEqual(jail.status(), { failing: 3, totalFailed: 3, bannedAddresses: 0, bannedNetworks: 0, totalBanned: 0, futureDated: 0, clockSetBack: 0 });
  jail.observe(failure(A, 3)); // A banned, 192.0.2.0/24 banned
  jail.observe(failure(A, 4)); // banned: not counted
  assert.deepEqual(jail.status(), { failing: 2, totalFailed: 4, bannedAddresses: 1, bannedNetworks: 1, totalBanned: 2, futureDated: 0, clockSetBack: 0 });
  jail.observe(failure(D, 20)); // the clock moves: old failures leave their windows
  assert.deepEqual(jail.status(), { failing: 1, totalFailed: 5, bannedAddresses: 1, bannedNetworks: 1, totalBanned: 2, futureDated: 0, clockSetBack: 0 });
});

test('a bad policy is refused', () => {
  assert.throws(() => new Jail(policy({ maxretry: 0 })), { code: 'engine.badPolicy', message: 'test: maxretry: must be an integer ≥ 1' });
  assert.throws(() => new Jail(policy({ subnet: { enabled: true, ipv4Prefix: 32 } })), { code: 'engine.badPolicy' });
});

test('takeChanges carries counted failures, bans, lifts and a safe prune bound', () => {
  const jail = new Jail(policy({ maxretry: 2, bantime: 5 }));
  jail.observe(failure(A, 0));
  jail.observe(failure(B, 1));
  jail.observe(failure(A, 2)); // ban A, clearSeq 3
  const c1 = jail.takeChanges();
  assert.deepEqual(c1.failures.seq, [1, 2, 3]);
  assert.deepEqual(c1.failures.address, [A, B, A]);
  assert.deepEqual(c1.bans.map((b) => [b.target.addr, b.clearSeq]), [[A, 3]]);
  assert.equal(c1.pruneBelowSeq, 1);
  jail.expire(7);
  jail.observe(failure(B, 30));
  const c2 = jail.takeChanges();
  assert.deepEqual(c2.lifts.map((l) => [l.ban.target.addr, l.reason]), [[A, 'expired']]);
  assert.equal(c2.pruneBelowSeq, 4, 'everything before seq 4 has left the windows');
  assert.deepEqual([c2.clock, c2.seq, c2.totalFailed, c2.totalBanned], [30, 4, 4, 1]);
});

test('a failure that does not count for networks stays out of the network window and its distinct addresses', () => {
  const jail = new Jail(policy({ maxretry: 10, subnet: { enabled: true, maxretry: 3, minAddresses: 3 } }));
  const local = (ip: string, t: number) => ({ ...failure(ip, t), kind: 'lost-connection', network: false });
  // Many address-only failures from three addresses of one /24: no network ban.
  for (let t = 0; t < 6; t++) assert.equal(brief(jail.observe(local([A, B, C][t % 3]!, t))), 'counted');
  // Two network-counting failures from two of them: two failures, two distinct addresses.
  assert.equal(brief(jail.observe(failure(A, 6))), 'counted');
  assert.equal(brief(jail.observe(failure(B, 7))), 'counted');
  // The third distinct address's first counting failure bans the network.
  assert.match(brief(jail.observe(failure(C, 8))), /^network:192\.0\.2\.0\/24@8/);
  // Address-only failures still count for the address itself.
  const solo = new Jail(policy({ maxretry: 3, subnet: { enabled: true, maxretry: 2, minAddresses: 1 } }));
  solo.observe(local(D, 0));
  solo.observe(local(D, 1));
  assert.match(brief(solo.observe(local(D, 2))), /^address:198\.51\.100\.4\/32@2/);
});

test('restore applies the filter rule to stored failures', () => {
  const src = new Jail(policy({ maxretry: 10, subnet: { enabled: true, maxretry: 3, minAddresses: 3 } }));
  src.observe({ ...failure(A, 0), kind: 'lost-connection', network: false });
  src.observe({ ...failure(B, 1), kind: 'lost-connection', network: false });
  src.observe(failure(C, 2));
  const ch = src.takeChanges();
  const snap = { clock: ch.clock, seq: ch.seq, totalFailed: ch.totalFailed, totalBanned: ch.totalBanned, failures: ch.failures, bans: [] };
  const p = policy({ maxretry: 10, subnet: { enabled: true, maxretry: 3, minAddresses: 3 } });
  const rule = (kind: string) => kind !== 'lost-connection';
  // With the rule only C's failure is in the network window: two more from A and B make 3 of 3.
  const restored = Jail.restore(p, snap, rule);
  assert.equal(brief(restored.observe(failure(A, 3))), 'counted');
  assert.match(brief(restored.observe(failure(B, 4))), /^network:/);
  // Without it, every stored failure counted: the first new one already bans.
  assert.match(brief(Jail.restore(p, snap).observe(failure(A, 3))), /^network:/);
});

test('the machine\'s own addresses (ignoreself) are never counted, but a network ban may cover them', () => {
  const jail = new Jail({ ...policy({ maxretry: 2, subnet: { enabled: true, maxretry: 3, minAddresses: 2 } }), self: [target(`${A}/32`)] });
  assert.equal(brief(jail.observe(failure(A, 0))), 'ignored');
  assert.equal(brief(jail.observe(failure(A, 1))), 'ignored');
  assert.equal(brief(jail.observe(failure(B, 2))), 'counted');
  assert.equal(brief(jail.observe(failure(C, 3))), 'counted');
  assert.match(brief(jail.observe(failure(C, 4))), /^address:192\.0\.2\.3\/32@4.*\+network:192\.0\.2\.0\/24@4/);
});

test("a ban names the kinds of the failures behind it; the next window starts empty", () => {
  const jail = new Jail(policy({ maxretry: 3, bantime: 5, subnet: { enabled: true, maxretry: 4, minAddresses: 2 } }));
  const f = (ip: string, t: number, kind: string) => ({ ...failure(ip, t), kind });
  jail.observe(f(A, 0, 'sasl'));
  jail.observe(f(A, 1, 'relay'));
  const d = jail.observe(f(A, 2, 'sasl'));
  assert.equal(d.type, 'ban');
  assert.deepEqual(d.type === 'ban' ? d.bans.map((b) => [b.kind, b.failures, b.kinds]) : [], [['address', 3, ['sasl', 'relay']]]);
  // the network counted A's three and now B's one: its own kinds, all of them
  const n = jail.observe(f(B, 3, 'unknown_user'));
  assert.deepEqual(n.type === 'ban' ? n.bans.map((b) => [b.kind, b.failures, b.kinds]) : [], [['network', 4, ['sasl', 'relay', 'unknown_user']]]);
  // after its ban ends, an address's next ban names only its new failures' kind
  const j2 = new Jail(policy({ maxretry: 2, bantime: 5, findtime: 50 }));
  j2.observe(f(A, 0, 'sasl'));
  j2.observe(f(A, 1, 'sasl'));
  j2.expire(10);
  j2.observe(f(A, 11, 'pipelining'));
  const again = j2.observe(f(A, 12, 'pipelining'));
  assert.deepEqual(again.type === 'ban' ? again.bans.map((b) => b.kinds) : [], [['pipelining']]);
});
