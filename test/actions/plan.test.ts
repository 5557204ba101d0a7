import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ban } from '../../src/events.js';
import { target } from '../../src/cidr.js';
import { KernelView, kernelTimeout, planBans, planBansInSlices, planRefresh, planSync, planSyncInSlices, planUnbans, type Plan } from '../../src/actions/plan.js';

const NOW = 1_000_000;
const ban = (t: string, until: number | null = NOW + 60_000): Ban => ({ target: target(t), jail: 'j', kind: 'address', created: NOW, until, failures: 1, banNumber: 1 });
const show = (p: Plan) => p.changes.map((c) => `${c.op} ${c.entry.target.addr}/${c.entry.target.prefix}`);
const viewOf = (...bans: Ban[]): KernelView => planSync(bans, NOW).next;

test('addresses are added, duplicates in one batch merge', () => {
  const p = planBans(new KernelView(), [ban('192.0.2.1'), ban('192.0.2.1'), ban('2001:db8::1')], NOW);
  assert.deepEqual(show(p), ['add 192.0.2.1/32', 'add 2001:db8::1/128']);
});

test('an address inside a banned network changes nothing', () => {
  const p = planBans(viewOf(ban('198.51.100.0/24')), [ban('198.51.100.11')], NOW);
  assert.deepEqual(show(p), []);
});

test('a network replaces the addresses inside it, networks before addresses in one batch', () => {
  const p = planBans(viewOf(ban('198.51.100.11'), ban('203.0.113.5')), [ban('198.51.100.21'), ban('198.51.100.0/24')], NOW);
  assert.deepEqual(show(p), ['delete 198.51.100.11/32', 'add 198.51.100.0/24']);
  assert.equal(p.next.size, 2);
});

test('banning twice: same or shorter end changes nothing, a longer end replaces the entry', () => {
  const v = viewOf(ban('192.0.2.1', NOW + 60_000));
  assert.deepEqual(show(planBans(v, [ban('192.0.2.1', NOW + 30_000)], NOW)), []);
  assert.deepEqual(show(planBans(v, [ban('192.0.2.1', NOW + 60_000)], NOW)), []);
  assert.deepEqual(show(planBans(v, [ban('192.0.2.1', null)], NOW)), ['delete 192.0.2.1/32', 'add 192.0.2.1/32']);
});

test('an expired ban is not added', () => {
  assert.deepEqual(show(planBans(new KernelView(), [ban('192.0.2.1', NOW - 1)], NOW)), []);
});

test('unbanning an absent target changes nothing', () => {
  assert.deepEqual(show(planUnbans(viewOf(ban('192.0.2.1')), [target('192.0.2.2')], [], NOW)), []);
});

test('lifting a network puts back the still active bans inside it', () => {
  const active = [ban('198.51.100.11'), ban('198.51.100.0/24'), ban('198.51.100.0/25', NOW - 5)];
  const v = viewOf(...active);
  assert.deepEqual(show(planUnbans(v, [target('198.51.100.0/24')], active, NOW)), ['delete 198.51.100.0/24', 'add 198.51.100.11/32']);
});

test('an entry about to expire in the kernel is left to the kernel', () => {
  const v = viewOf(ban('192.0.2.1', NOW + 1_000));
  // kernel timeout 1 s from NOW: at NOW + 700 ms the kernel drops it within the margin
  const p = planUnbans(v, [target('192.0.2.1')], [], NOW + 700);
  assert.deepEqual(show(p), []);
  assert.equal(p.next.size, 0);
});

test('10,000 addresses, then a network over all of them', () => {
  const bans: Ban[] = [];
  for (let i = 0; i < 10_000; i++) bans.push(ban(`10.${(i >> 8) & 255}.${i & 255}.1`));
  const p = planBans(new KernelView(), bans, NOW);
  const q = planBans(p.next, [ban('10.0.0.0/8')], NOW);
  assert.equal(p.changes.length, 10_000);
  assert.equal(q.changes.length, 10_001);
  assert.equal(q.next.size, 1);
});

test('kernel timeouts: whole seconds rounded up, at least 1, capped at the backend\'s longest; none for permanent', () => {
  assert.equal(kernelTimeout(NOW + 1_500, NOW, undefined), 2);
  assert.equal(kernelTimeout(NOW + 10, NOW, 100), 1);
  assert.equal(kernelTimeout(NOW + 200 * 7 * 86_400_000, NOW, 99_999_999), 99_999_999);
  assert.equal(kernelTimeout(null, NOW, 99_999_999), null);
});

test('a capped entry is renewed (delete, add) once its kernel timeout runs out within the window; others are left alone', () => {
  const view = planSync([ban('192.0.2.1', NOW + 1_000_000), ban('192.0.2.2', NOW + 50_000), ban('192.0.2.3', null)], NOW, 100).next;
  const e1 = view.get(planSync([ban('192.0.2.1', NOW + 1_000_000)], NOW, 100).next.entries().next().value!.key)!;
  assert.equal(e1.kernelExpiry, NOW + 100_000);
  // 30 s before its kernel timeout, with a 60 s window: 192.0.2.1 is renewed; .2 ends before its timeout, .3 has none
  const later = NOW + 70_000;
  const p = planRefresh(view, later, 100, 60_000);
  assert.deepEqual(show(p), ['delete 192.0.2.1/32', 'add 192.0.2.1/32']);
  assert.equal(p.next.get(e1.key)?.kernelExpiry, later + 100_000);
  assert.deepEqual(show(planRefresh(view, NOW + 10_000, 100, 60_000)), [], 'not yet within the window');
});

test('a plan made in place changes the view itself, and rollback() restores it exactly', () => {
  const v = viewOf(ban('198.51.100.11'), ban('198.51.100.21'), ban('192.0.2.1', NOW + 1_000));
  const before = [...v.entries()].map((e) => `${e.key} ${e.until}`).sort();
  const p = planBans(v, [ban('198.51.100.0/24'), ban('192.0.2.1', null), ban('2001:db8::1')], NOW, undefined, 'inPlace');
  assert.equal(p.next, v);
  assert.deepEqual(show(p), ['delete 198.51.100.11/32', 'delete 198.51.100.21/32', 'add 198.51.100.0/24', 'delete 192.0.2.1/32', 'add 192.0.2.1/32', 'add 2001:db8::1/128']);
  assert.equal(v.size, 3);
  v.rollback();
  assert.deepEqual([...v.entries()].map((e) => `${e.key} ${e.until}`).sort(), before);
  const q = planUnbans(v, [target('198.51.100.11')], [], NOW, undefined, 'inPlace');
  assert.deepEqual(show(q), ['delete 198.51.100.11/32']);
  assert.equal(v.size, 2);
  v.rollback();
  assert.equal(v.size, 3);
});

test('nft element lines: consecutive ones of one set and command merge, order between commands stays', async () => {
  const { mergeElementLines } = await import('../../src/actions/render.js');
  assert.deepEqual(
    mergeElementLines([
      'add set inet t h { type ipv4_addr; flags timeout; }',
      'add element inet t h { 192.0.2.1 timeout 5s }',
      'add element inet t h { 192.0.2.2 timeout 6s }',
      'delete element inet t h { 192.0.2.1 }',
      'add element inet t h { 192.0.2.1 timeout 9s }',
      'add element inet t n { 198.51.100.0/24 }',
    ]),
    [
      'add set inet t h { type ipv4_addr; flags timeout; }',
      'add element inet t h { 192.0.2.1 timeout 5s, 192.0.2.2 timeout 6s }',
      'delete element inet t h { 192.0.2.1 }',
      'add element inet t h { 192.0.2.1 timeout 9s }',
      'add element inet t n { 198.51.100.0/24 }',
    ],
  );
});

test('planSync gives what planBans gives from an empty view: covered targets, nested networks, duplicates, ended bans', () => {
  const bans = [
    ban('192.0.2.7', NOW + 10_000),
    ban('192.0.2.7', NOW + 90_000), // the later end wins
    ban('192.0.2.0/25'), // covers .7, comes after it
    ban('192.0.2.0/24', null), // covers the /25 too
    ban('198.51.100.9', NOW - 1), // ended
    ban('198.51.100.10'),
    ban('2001:db8:1::5'),
    ban('2001:db8:1::/64'),
    ban('2001:db8:2::5', null),
    ban('2001:db8::/32'), // covers every IPv6 target above
    ban('2001:db9::1'),
  ];
  const fast = planSync(bans, NOW, 100);
  const slow = planBans(new KernelView(), bans, NOW, 100);
  assert.deepEqual(fast.changes, slow.changes);
  assert.deepEqual(show(fast), ['add 192.0.2.0/24', 'add 198.51.100.10/32', 'add 2001:db8::/32', 'add 2001:db9::1/128']);
  assert.deepEqual([...fast.next.entries()], [...slow.next.entries()]);
  assert.equal(fast.next, fast.next, 'the view is built once');
});

test('inside() through its index agrees with a scan of every entry, across adds, replacements, deletes and rollbacks', () => {
  // a seeded walk over a small space, so networks and addresses nest and collide often
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const pick = (): string => {
    const v4 = rnd(2) === 0;
    const prefix = v4 ? [16, 24, 28, 32, 32, 32][rnd(6)]! : [48, 64, 112, 128, 128, 128][rnd(6)]!;
    return v4 ? `198.${51 + rnd(2)}.${rnd(4)}.${rnd(64)}/${prefix}` : `2001:db8:${rnd(3)}:${rnd(2)}::${rnd(40).toString(16)}/${prefix}`;
  };
  const view = new KernelView();
  const scan = (e: { target: { family: number; prefix: number }; value: bigint }): string[] =>
    [...view.entries()].filter((x) => x.target.family === e.target.family && x.target.prefix > e.target.prefix && (x.value >> BigInt((e.target.family === 4 ? 32 : 128) - e.target.prefix)) === (e.value >> BigInt((e.target.family === 4 ? 32 : 128) - e.target.prefix))).map((x) => x.key).sort();
  for (let step = 0; step < 3000; step++) {
    const p = planSync([ban(pick(), NOW + 1000 + rnd(100_000))], NOW).changes[0]!.entry;
    const r = rnd(10);
    if (r < 6) view.add(p);
    else if (r < 8) {
      const existing = view.get(p.key);
      if (existing) view.delete(existing);
    } else if (r === 8) {
      view.track();
      view.add(p);
      view.rollback();
    }
    if (p.target.prefix < (p.target.family === 4 ? 32 : 128)) {
      assert.deepEqual(view.inside(p).map((x) => x.key).sort(), scan(p), `step ${step}: inside ${p.key}`);
    }
  }
});

test('planSyncInSlices plans and builds the view as planSync does, pausing every 5,000 bans and entries', async () => {
  // 12,000 addresses, some inside two networks that come last, one duplicate with a later end, one ended
  const bans = Array.from({ length: 12_000 }, (_, i) => ban(`198.51.${100 + (i >> 8)}.${i & 255}`));
  bans.push(ban('198.51.100.0/24'), ban('198.51.101.0/24'), ban('198.51.102.7', NOW + 90_000), ban('203.0.113.1', NOW - 1));
  const expected = planSync(bans, NOW, 100);
  let pauses = 0;
  const pause = async (): Promise<void> => {
    pauses++;
  };
  const sliced = await planSyncInSlices(bans, NOW, 100, pause);
  assert.deepEqual(sliced.changes, expected.changes);
  assert.equal(sliced.changes.length, 12_000 - 512 + 2, 'the addresses inside the two networks are covered');
  // 12,004 bans merged, then 12,002 distinct entries checked for cover: 24,006 steps, 4 pauses
  assert.equal(pauses, 4);
  pauses = 0;
  const view = await sliced.next();
  assert.equal(pauses, 2, '11,490 entries added: a pause after 5,000 and after 10,000');
  assert.deepEqual([...view.entries()], [...expected.next.entries()]);
});

test('planBansInSlices: a network over 5,000 banned addresses replaces them as planBans does, pausing between slices of 2,000', async () => {
  const addrs = Array.from({ length: 5000 }, (_, i) => ban(`2001:db8:1::1:${i.toString(16)}`));
  const incoming = [ban('2001:db8:1::/64'), ban('192.0.2.9')];
  const expected = planBans(viewOf(...addrs), incoming, NOW);
  const view = viewOf(...addrs);
  let pauses = 0;
  const sliced = await planBansInSlices(view, incoming, NOW, undefined, async () => {
    pauses++;
  });
  assert.deepEqual(show(sliced), show(expected));
  assert.equal(sliced.next, view, 'planned in place');
  assert.equal(pauses, 2, '5,000 removals: a pause after 2,000 and after 4,000');
  assert.deepEqual([...view.entries()].map((e) => e.key).sort(), ['192.0.2.9/32', '2001:db8:1::/64']);
  view.rollback();
  assert.equal(view.size, 5000, 'rollback() restores every replaced address');
});
