// The wall clock bounds a jail's clock: a forged or skewed date can neither lift bans nor blind
// the jail, and a clock stepped back does not stop failures from counting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Jail } from '../../src/engine/jail.js';
import { CLOCK_TOLERANCE_MS, ClockNoticeThrottle, isFutureDated } from '../../src/engine/wall-clock.js';
import { failure, policy } from './helpers.js';
import { MemoryStore } from './memory-store.js';

const HOUR = 3_600_000;
const MIN = 60_000;
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
// Realistic durations: findtime 10 min, 3 failures, bans of an hour.
const real = policy({ findtime: 10 * MIN, maxretry: 3, bantime: HOUR });

function burst(j: Jail, ip: string, at: number, wall = at): string[] {
  return [0, 1, 2].map((i) => {
    const d = j.observe(failure(ip, at + i * 1000), wall + i * 1000);
    return d.type === 'ban' ? 'ban' : d.reason;
  });
}

test('a line dated next year counts at the wall clock: bans stay, later bursts are banned', () => {
  const j = new Jail(real);
  assert.deepEqual(burst(j, '198.51.100.7', NOW), ['counted', 'counted', 'ban']);
  const d = j.observe(failure('203.0.113.66', NOW + 365 * 24 * HOUR), NOW + 5000);
  assert.equal(d.type, 'none');
  assert.ok(j.now! <= NOW + 5000 + CLOCK_TOLERANCE_MS, `clock ${j.now} ran ahead of the wall clock`);
  assert.deepEqual(j.expire(NOW + 5000), [], 'no ban was lifted');
  assert.equal(j.isTargetBanned({ addr: '198.51.100.7' as never, prefix: 32, family: 4 }), true);
  // The forged line itself counted, at the wall clock.
  assert.equal(j.failuresOf('203.0.113.66' as never), 1);
  // A new burst from a new address is still banned.
  assert.deepEqual(burst(j, '198.51.100.8', NOW + 10_000), ['counted', 'counted', 'ban']);
  assert.equal(j.status().futureDated, 1);
  assert.equal(j.status().clockSetBack, 0);
});

test('the stored clock never carries a future date across a restart', () => {
  const store = new MemoryStore();
  const j = new Jail(real);
  burst(j, '198.51.100.7', NOW);
  j.observe(failure('203.0.113.66', NOW + 30 * 24 * HOUR), NOW + 4000);
  const c = j.takeChanges();
  assert.ok(c.clock! <= NOW + 4000, `stored clock ${c.clock}`);
  store.commit(c);
  const back = Jail.restore(real, store.snapshot());
  assert.deepEqual(back.expire(NOW + 5000), []);
  assert.deepEqual(burst(back, '198.51.100.9', NOW + 6000), ['counted', 'counted', 'ban']);
});

test('a line a little ahead (within the tolerance) counts at the wall clock and is not future-dated', () => {
  const j = new Jail(real);
  j.observe(failure('198.51.100.7', NOW + 30_000), NOW);
  assert.equal(j.now, NOW);
  assert.equal(j.status().futureDated, 0);
  assert.equal(isFutureDated(NOW + CLOCK_TOLERANCE_MS, NOW), false);
  assert.equal(isFutureDated(NOW + CLOCK_TOLERANCE_MS + 1, NOW), true);
});

test('a clock stepped back: failures keep counting, windows restart, bans stay', () => {
  const j = new Jail(real);
  burst(j, '198.51.100.7', NOW); // banned until NOW + 1h + 2s
  j.observe(failure('198.51.100.20', NOW + 3000), NOW + 3000);
  // The system clock is stepped back two hours; the lines follow it.
  const back = NOW - 2 * HOUR;
  assert.deepEqual(burst(j, '198.51.100.8', back), ['counted', 'counted', 'ban']);
  assert.equal(j.status().clockSetBack, 1);
  assert.equal(j.failuresOf('198.51.100.20' as never), 0, 'windows were emptied');
  assert.equal(j.isTargetBanned({ addr: '198.51.100.7' as never, prefix: 32, family: 4 }), true);
  // A step back within the tolerance changes nothing.
  j.observe(failure('198.51.100.21', back + 2000 - 30_000), back + 2000 - 30_000);
  assert.equal(j.status().clockSetBack, 1);
  assert.equal(j.failuresOf('198.51.100.21' as never), 1);
});

test('a restored clock that is ahead of the wall clock is set back by the first line', () => {
  const store = new MemoryStore();
  const j = new Jail(real);
  j.observe(failure('198.51.100.7', NOW + 10 * 24 * HOUR)); // an old version trusted every date
  store.commit(j.takeChanges());
  const r = Jail.restore(real, store.snapshot());
  assert.deepEqual(burst(r, '198.51.100.8', NOW), ['counted', 'counted', 'ban']);
  assert.equal(r.now, NOW + 2000);
});

test('without a wall clock the line is trusted (tests and tools that drive time themselves)', () => {
  const j = new Jail(real);
  j.observe(failure('198.51.100.7', NOW + HOUR));
  assert.equal(j.now, NOW + HOUR);
  assert.equal(j.status().futureDated, 0);
});

test('ClockNoticeThrottle: one record per interval, with the counts since the last one', () => {
  const t = new ClockNoticeThrottle(60_000);
  assert.equal(t.take(0, { futureDated: 0, clockSetBack: 0 }), null);
  assert.deepEqual(t.take(1000, { futureDated: 5, clockSetBack: 0 }), { futureDated: 5, clockSetBack: 0, totalFutureDated: 5 });
  assert.equal(t.take(2000, { futureDated: 500, clockSetBack: 0 }), null, 'within the interval: nothing');
  assert.equal(t.take(30_000, { futureDated: 9000, clockSetBack: 1 }), null);
  assert.deepEqual(t.take(61_000, { futureDated: 9000, clockSetBack: 1 }), { futureDated: 8995, clockSetBack: 1, totalFutureDated: 9000 });
  assert.equal(t.take(200_000, { futureDated: 9000, clockSetBack: 1 }), null, 'nothing new: nothing');
});
