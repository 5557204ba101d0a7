// The jail's numeric lookups (SlotIndex for windows and bans) and hasExpiries(), at the edges
// the randomized model test reaches only by chance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Jail } from '../../src/engine/jail.js';
import { failure, policy, target } from './helpers.js';

test('hasExpiries is true exactly when expire() would return something', () => {
  const j = new Jail(policy({ maxretry: 1, bantime: 100 }));
  assert.equal(j.hasExpiries(1_000), false);
  j.observe(failure('192.0.2.1', 10)); // banned until 110
  assert.equal(j.hasExpiries(109), false);
  assert.equal(j.expire(109).length, 0);
  assert.equal(j.hasExpiries(110), true);
  // The clock passing the end lifts it inside observe; it waits in expire() for any `now`.
  j.observe(failure('192.0.2.2', 200));
  assert.equal(j.hasExpiries(0), true);
  assert.deepEqual(j.expire(0).map((l) => l.time), [110]);
  assert.equal(j.hasExpiries(0), false);
});

test('banned networks of several prefixes and both families stop counting, and lift cleanly', () => {
  const j = new Jail(policy({ maxretry: 2 }));
  j.ban(target('198.51.100.0/24'), 0, 50);
  j.ban(target('203.0.113.128/25'), 0, 60);
  j.ban(target('2001:db8:1::/48'), 0, 70);
  j.ban(target('2001:db8:2:3::/64'), 0, 80);
  j.ban(target('2001:db8::7/128'), 0, 90);
  for (const ip of ['198.51.100.9', '203.0.113.200', '2001:db8:1:ffff::1', '2001:db8:2:3:4::5', '2001:db8::7']) {
    assert.deepEqual(j.observe(failure(ip, 1)), { type: 'none', reason: 'already-banned' }, ip);
  }
  for (const ip of ['198.51.101.9', '203.0.113.100', '2001:db8:2:4::1', '2001:db8::8']) {
    assert.deepEqual(j.observe(failure(ip, 1)), { type: 'none', reason: 'counted' }, ip);
  }
  assert.deepEqual(j.status().bannedNetworks, 4);
  assert.deepEqual(j.status().bannedAddresses, 1);
  j.expire(75);
  assert.deepEqual(j.observe(failure('2001:db8:1:ffff::1', 76)), { type: 'none', reason: 'counted' });
  assert.deepEqual(j.observe(failure('2001:db8:2:3:4::5', 76)), { type: 'none', reason: 'already-banned' });
  j.unban(target('2001:db8::7/128'), 77);
  assert.equal(j.failuresOf('2001:db8::7' as never), 0);
  assert.deepEqual(j.observe(failure('2001:db8::7', 78)), { type: 'none', reason: 'counted' });
  assert.equal(j.failuresOf('2001:db8::7' as never), 1);
});

test('IPv6 ignoreip entries of any prefix are honoured', () => {
  const j = new Jail(policy({ maxretry: 1, ignore: [target('2001:db8:8000::/33'), target('::1/128')] }));
  assert.deepEqual(j.observe(failure('2001:db8:ffff::1', 1)), { type: 'none', reason: 'ignored' });
  assert.deepEqual(j.observe(failure('::1', 1)), { type: 'none', reason: 'ignored' });
  assert.equal(j.observe(failure('2001:db8:7fff::1', 1)).type, 'ban');
  assert.equal(j.observe(failure('::2', 1)).type, 'ban');
});

test('windows of many addresses and networks survive slot reuse as they expire', () => {
  const j = new Jail(policy({ findtime: 10, maxretry: 3, subnet: { enabled: true, maxretry: 1_000_000, minAddresses: 1 } }));
  // Waves of 5,000 addresses, each wave leaving the window as the next arrives: slots and
  // table cells are released and reused thousands of times.
  for (let wave = 0; wave < 6; wave++) {
    const t = wave * 20;
    for (let i = 0; i < 5_000; i++) {
      const ip = i % 2 === 0 ? `198.51.${(i >> 8) & 255}.${i & 255}` : `2001:db8:${wave}:${i.toString(16)}::1`;
      j.observe(failure(ip, t));
      j.observe(failure(ip, t + 1));
    }
    assert.equal(j.status().failing, 5_000, `wave ${wave}`);
    assert.equal(j.failuresOf(`198.51.0.${(wave * 2) & 255}` as never), 2);
    assert.equal(j.failuresOf(`2001:db8:${wave}:1::1` as never), 2);
    if (wave > 0) assert.equal(j.failuresOf(`2001:db8:${wave - 1}:1::1` as never), 0);
  }
});
