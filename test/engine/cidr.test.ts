import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIPv6, maskIPv4, networkOf, overlaps, parseIPv4, parseIPv6, formatIPv4 } from '../../src/engine/cidr.js';
import { target } from './helpers.js';

const v6cases: [string, string][] = [
  ['2001:db8::1', '2001:db8::1'],
  ['::', '::'],
  ['::1', '::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ['fe80::', 'fe80::'],
  ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ['2001:db8::192.0.2.1', '2001:db8::c000:201'],
];
for (const [input, want] of v6cases) {
  test(`IPv6 ${input} parses and prints as ${want}`, () => assert.equal(formatIPv6(parseIPv6(input)), want));
}

const nets: [string, number, string][] = [
  ['192.0.2.77', 24, '192.0.2.0'],
  ['192.0.2.77', 32, '192.0.2.77'],
  ['255.255.255.255', 1, '128.0.0.0'],
  ['203.0.113.200', 0, '0.0.0.0'],
  ['2001:db8:1:2:3:4:5:6', 64, '2001:db8:1:2::'],
  ['2001:db8:1:2:3:4:5:6', 56, '2001:db8:1::'],
  ['2001:db8:1:2ff:3:4:5:6', 60, '2001:db8:1:2f0::'],
  ['2001:db8::1', 128, '2001:db8::1'],
];
for (const [addr, prefix, want] of nets) {
  test(`network of ${addr} at /${prefix} is ${want}`, () => {
    assert.equal(networkOf(addr, addr.includes(':') ? 6 : 4, prefix).addr, want);
  });
}

test('IPv4 round trip keeps the high bit', () => {
  assert.equal(formatIPv4(parseIPv4('250.1.2.3')), '250.1.2.3');
  assert.equal(maskIPv4(parseIPv4('250.1.2.3'), 8), parseIPv4('250.0.0.0'));
});

test('overlap is containment either way, within one family', () => {
  assert.equal(overlaps(target('192.0.2.0/24'), target('192.0.2.9/32')), true);
  assert.equal(overlaps(target('192.0.2.9/32'), target('192.0.0.0/16')), true);
  assert.equal(overlaps(target('192.0.2.0/24'), target('198.51.100.0/24')), false);
  assert.equal(overlaps(target('2001:db8::/32'), target('2001:db8:5::1/128')), true);
  assert.equal(overlaps(target('::/0'), target('192.0.2.1/32')), false);
});
