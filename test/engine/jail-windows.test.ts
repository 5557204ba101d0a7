// Jail.windows(): what `pban report` reads to list who is near a ban. It must agree with the
// counts the jail decides by: failures leave with findtime, a ban empties its target's window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Jail } from '../../src/engine/index.js';
import { failure, policy } from './helpers.js';

const show = (j: Jail, min?: number): { networks: string[]; addresses: string[] } => {
  const w = j.windows(min);
  const fmt = (x: { target: { addr: string; prefix: number }; failures: number; addresses: number }): string => `${x.target.addr}/${x.target.prefix} ${x.failures}/${x.addresses}`;
  return { networks: w.networks.map(fmt).sort(), addresses: w.addresses.map(fmt).sort() };
};

test('windows list addresses and networks with their counts, and forget what left or was banned', () => {
  const j = new Jail(policy({ maxretry: 3, findtime: 10, subnet: { enabled: true, maxretry: 5, minAddresses: 3 } }));
  j.observe(failure('192.0.2.1', 1));
  j.observe(failure('192.0.2.1', 2));
  j.observe(failure('192.0.2.2', 3));
  j.observe(failure('2001:db8::1', 4));
  assert.deepEqual(show(j), {
    networks: ['192.0.2.0/24 3/2', '2001:db8::/64 1/1'],
    addresses: ['192.0.2.1/32 2/1', '192.0.2.2/32 1/1', '2001:db8::1/128 1/1'],
  });
  assert.deepEqual(show(j, 2).addresses, ['192.0.2.1/32 2/1']);
  // The third failure bans 192.0.2.1: its window empties, its network keeps counting.
  assert.equal(j.observe(failure('192.0.2.1', 5)).type, 'ban');
  assert.deepEqual(show(j).addresses, ['192.0.2.2/32 1/1', '2001:db8::1/128 1/1']);
  assert.deepEqual(show(j).networks, ['192.0.2.0/24 4/2', '2001:db8::/64 1/1']);
  // At 12 the failures at 1 and 2 have left (time ≤ clock − findtime).
  j.observe(failure('198.51.100.7', 12));
  assert.deepEqual(show(j).networks, ['192.0.2.0/24 2/2', '198.51.100.0/24 1/1', '2001:db8::/64 1/1']);
  // A network ban empties the network's window. (At 13 the failure at 3 has left too.)
  j.observe(failure('192.0.2.3', 13));
  j.observe(failure('192.0.2.4', 13));
  j.observe(failure('192.0.2.5', 13));
  assert.ok(show(j).networks.includes('192.0.2.0/24 4/4'));
  const d = j.observe(failure('192.0.2.6', 13));
  assert.ok(d.type === 'ban' && d.bans.some((b) => b.kind === 'network'));
  assert.ok(!show(j).networks.some((n) => n.startsWith('192.0.2.0/24')));
});
