import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayCidr } from '../../src/cli/format/target-text.js';
import { parseTarget } from '../../src/control/target.js';
import { targetToString } from '../../src/events.js';

const valid: ReadonlyArray<readonly [string, string]> = [
  ['192.0.2.1', '192.0.2.1/32'],
  [' 192.0.2.1 ', '192.0.2.1/32'],
  ['198.51.100.0/24', '198.51.100.0/24'],
  ['198.51.100.77/24', '198.51.100.0/24'],
  ['2001:DB8:0:0::1', '2001:db8::1/128'],
  ['2001:db8:1:2:3:4:5:6/64', '2001:db8:1:2::/64'],
  ['::ffff:203.0.113.9', '203.0.113.9/32'],
  ['::ffff:203.0.113.0/120', '203.0.113.0/24'],
  ['10.0.0.0/8', '10.0.0.0/8'],
];
for (const [input, want] of valid) {
  test(`target ${JSON.stringify(input)} → ${want}`, () => {
    const r = parseTarget(input);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(targetToString(r.target), want);
  });
}

const invalid: ReadonlyArray<readonly [string, RegExp]> = [
  ['', /expected an IPv4 or IPv6 address/],
  ['1.2.3', /expected an IPv4 or IPv6 address/],
  ['0x7f.0.0.1', /expected an IPv4 or IPv6 address/],
  ['192.0.2.256', /expected an IPv4 or IPv6 address/],
  ['example.org', /expected an IPv4 or IPv6 address/],
  ['192.0.2.1/33', /prefix must be 0 to 32/],
  ['192.0.2.1/-1', /prefix must be 0 to 32/],
  ['192.0.2.1/', /prefix must be 0 to 32/],
  ['2001:db8::/129', /prefix must be 0 to 128/],
  ['0.0.0.0/0', /refusing a network larger than \/8/],
  ['2001::/8', /refusing a network larger than \/16/],
  ['fe80::1%eth0', /zone ids/],
  ['192.0.2.1; rm -rf /', /expected an IPv4 or IPv6 address/],
];
for (const [input, why] of invalid) {
  test(`target ${JSON.stringify(input)} is refused`, () => {
    const r = parseTarget(input);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, why);
    assert.match(r.ok ? '' : r.error, /^invalid target "/);
  });
}

test('display drops the prefix of single addresses only', () => {
  assert.equal(displayCidr('192.0.2.1/32'), '192.0.2.1');
  assert.equal(displayCidr('198.51.100.0/24'), '198.51.100.0/24');
  assert.equal(displayCidr('2001:db8::1/128'), '2001:db8::1');
  assert.equal(displayCidr('2001:db8::/64'), '2001:db8::/64');
});
