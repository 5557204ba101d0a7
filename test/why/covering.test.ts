import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ban } from '../../src/events.js';
import { coveringBans, coveringNetworks } from '../../src/why/covering.js';
import { target } from '../engine/helpers.js';

const ban = (cidr: string, jail: string, created = 0): Ban => ({ target: target(cidr), jail, kind: cidr.endsWith('/32') || cidr.endsWith('/128') ? 'address' : 'network', created, until: null, failures: 3, banNumber: 1 });

test('coveringBans: the address itself and every network that contains it, widest first, in every jail', () => {
  const bans = [
    ban('192.0.2.15/32', 'postfix', 5),
    ban('192.0.2.0/24', 'sasl', 3),
    ban('192.0.2.0/24', 'postfix', 4),
    ban('192.0.0.0/16', 'manual', 9),
    ban('192.0.2.16/32', 'postfix'),
    ban('198.51.100.0/24', 'postfix'),
    ban('2001:db8::/64', 'postfix'),
  ];
  const got = coveringBans(bans, target('192.0.2.15/32')).map((b) => `${b.jail}:${b.target.addr}/${b.target.prefix}`);
  assert.deepEqual(got, ['manual:192.0.0.0/16', 'postfix:192.0.2.0/24', 'sasl:192.0.2.0/24', 'postfix:192.0.2.15/32']);
  assert.deepEqual(coveringNetworks(bans, target('192.0.2.15/32')).length, 3);
  assert.deepEqual(coveringBans(bans, target('2001:db8::5/128')).map((b) => b.target.prefix), [64]);
  // A network target is covered by itself and by wider networks, not by a narrower one.
  assert.deepEqual(coveringBans(bans, target('192.0.2.0/24')).map((b) => b.target.prefix), [16, 24, 24]);
  assert.deepEqual(coveringBans(bans, target('203.0.113.1/32')), []);
  // An IPv4 ban never covers an IPv6 address.
  assert.deepEqual(coveringBans([ban('0.0.0.0/8', 'x')], target('::1/128')), []);
});
