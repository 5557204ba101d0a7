// src/cidr.ts: text → Target for every caller, and the CIDR arithmetic. Merges the former tests
// of src/engine/cidr.ts, src/config/target.ts and src/actions/cidr.ts; every case is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ipaddr from 'ipaddr.js';
import {
  contains,
  formatIPv4,
  formatIPv6,
  maskIPv4,
  maskValue,
  networkOf,
  overlaps,
  parseIPv4,
  parseIPv6,
  parseTarget,
  target,
  targetKey,
  targetValue,
  valueKey,
  type TargetProblem,
} from '../src/cidr.js';
import type { Family } from '../src/events.js';

// --- parsing (ignoreip entries, kernel listings, admin input) ---------------------------------

const valid: [string, string, number, Family][] = [
  ['127.0.0.0/8', '127.0.0.0', 8, 4],
  ['192.0.2.1', '192.0.2.1', 32, 4],
  ['192.0.2.77/24', '192.0.2.0', 24, 4], // host bits cleared
  ['198.51.100.200/25', '198.51.100.128', 25, 4],
  ['0.0.0.0/0', '0.0.0.0', 0, 4],
  ['::1', '::1', 128, 6],
  ['2001:DB8:0:0:1::1/64', '2001:db8::', 64, 6], // lowercase, compressed, masked
  ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1', 128, 6],
  ['2001:db8:abcd:12ff::/56', '2001:db8:abcd:1200::', 56, 6],
  ['::ffff:192.0.2.1', '192.0.2.1', 32, 4], // IPv4-mapped becomes IPv4
  ['::ffff:c000:0201', '192.0.2.1', 32, 4],
  ['::ffff:192.0.2.9/120', '192.0.2.0', 24, 4],
  [' 203.0.113.5 ', '203.0.113.5', 32, 4],
  // from the actions' tests
  ['192.0.2.7', '192.0.2.7', 32, 4],
  ['192.0.2.7/24', '192.0.2.0', 24, 4],
  ['2001:DB8:0:0::1', '2001:db8::1', 128, 6],
  ['2001:db8:1:2:3::/48', '2001:db8:1::', 48, 6],
  ['::ffff:198.51.100.9', '198.51.100.9', 32, 4],
];
for (const [input, addr, prefix, family] of valid) {
  test(`target ${input} -> ${addr}/${prefix}`, () => {
    assert.deepEqual(parseTarget(input), { addr, prefix, family });
  });
}

const invalid: [string, RegExp, TargetProblem][] = [
  ['1.2.3', /four decimal numbers/, 'notIPv4'],
  ['0x7f.1', /four decimal numbers/, 'notIPv4'],
  ['127.1', /four decimal numbers/, 'notIPv4'],
  ['01.2.3.4', /four decimal numbers/, 'notIPv4'],
  ['256.1.1.1', /four decimal numbers/, 'notIPv4'],
  ['1.2.3.4/33', /prefix \/33 is longer than 32 bits/, 'prefixTooLong'],
  ['1.2.3.4/08', /"\/08" is not a valid prefix length/, 'prefixSyntax'],
  ['1.2.3.4/', /not a valid prefix length/, 'prefixSyntax'],
  ['2001:db8::/129', /longer than 128 bits/, 'prefixTooLong'],
  ['fe80::1%eth0', /zone identifiers/, 'zone'],
  ['::ffff:0x7f.1.2.3', /embedded IPv4 part/, 'embeddedIPv4'],
  ['::ffff:1.2.3', /embedded IPv4 part/, 'embeddedIPv4'],
  ['1::2::3', /not an IPv6 address/, 'notIPv6'],
  ['::ffff:192.0.2.0/90', /at least \/96/, 'mappedPrefix'],
  ['mail.example.com', /host names are not accepted/, 'hostName'],
  ['', /empty/, 'empty'],
  // from the actions' tests (they said "out of range", "invalid address", "invalid prefix")
  ['198.51.100.1/33', /^invalid network "198\.51\.100\.1\/33": prefix \/33 is longer than 32 bits$/, 'prefixTooLong'],
  ['198.51.100.1; rm -rf /', /^invalid address "198\.51\.100\.1; rm -rf \/": /, 'notIPv4'],
  ['1.2.3.4/x', /^invalid network "1\.2\.3\.4\/x": "\/x" is not a valid prefix length$/, 'prefixSyntax'],
];
for (const [input, message, problem] of invalid) {
  test(`target ${JSON.stringify(input)} is rejected`, () => {
    const r = parseTarget(input);
    assert.ok('error' in r, `expected an error for ${input}`);
    assert.match(r.error, message);
    assert.equal(r.problem, problem);
    assert.ok(r.error.includes(JSON.stringify(input)), 'the message quotes the input');
    assert.ok(!r.error.includes('\n'), 'one line');
  });
}

test('minPrefix refuses larger networks, after IPv4-mapped became IPv4', () => {
  const minPrefix = { 4: 8, 6: 16 } as const;
  const r = parseTarget('0.0.0.0/0', { minPrefix });
  assert.ok('error' in r);
  assert.equal(r.problem, 'networkTooLarge');
  assert.equal(r.error, 'invalid network "0.0.0.0/0": refusing a network larger than /8');
  assert.ok('error' in parseTarget('2001::/15', { minPrefix }));
  assert.deepEqual(parseTarget('2001::/16', { minPrefix }), { addr: '2001::', prefix: 16, family: 6 });
  assert.deepEqual(parseTarget('::ffff:10.0.0.0/104', { minPrefix }), { addr: '10.0.0.0', prefix: 8, family: 4 });
  assert.ok('error' in parseTarget('::ffff:10.0.0.0/103', { minPrefix }));
});

test('a newline in the input stays out of the message', () => {
  const r = parseTarget('192.0.2.1\nFAKE LOG LINE');
  assert.ok('error' in r);
  assert.ok(!r.error.includes('\n'));
});

test('target() throws the message for bad trusted text', () => {
  assert.throws(() => target('1.2.3'), /invalid address "1\.2\.3"/);
});

// Cross-check the masking and canonical text against ipaddr.js on a spread of inputs.
test('parsed networks agree with ipaddr.js', () => {
  const samples = ['192.0.2.77', '203.0.113.255', '2001:db8:abcd:12ff:1:2:3:4', '2001:db8::1', 'fe80::ff:1', '::'];
  for (const s of samples) {
    const bits = s.includes(':') ? 128 : 32;
    for (let p = 0; p <= bits; p += s.includes(':') ? 7 : 3) {
      const t = target(`${s}/${p}`);
      const [net] = ipaddr.parseCIDR(`${s}/${p}`);
      const bytes = net.toByteArray();
      for (let i = 0; i < bytes.length; i++) bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - Math.max(0, Math.min(8, p - i * 8)))) & 0xff);
      const want = ipaddr.fromByteArray(bytes);
      assert.equal(t.addr, want instanceof ipaddr.IPv6 ? want.toRFC5952String() : want.toString(), `${s}/${p}`);
    }
  }
});

// --- numbers (the engine's hot path) ------------------------------------------------------------

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

// --- containment, overlap, keys -----------------------------------------------------------------

test('overlap is containment either way, within one family', () => {
  assert.equal(overlaps(target('192.0.2.0/24'), target('192.0.2.9/32')), true);
  assert.equal(overlaps(target('192.0.2.9/32'), target('192.0.0.0/16')), true);
  assert.equal(overlaps(target('192.0.2.0/24'), target('198.51.100.0/24')), false);
  assert.equal(overlaps(target('2001:db8::/32'), target('2001:db8:5::1/128')), true);
  assert.equal(overlaps(target('::/0'), target('192.0.2.1/32')), false);
});

test('contains', () => {
  assert.equal(contains(target('198.51.100.0/24'), target('198.51.100.11')), true);
  assert.equal(contains(target('198.51.100.0/24'), target('198.51.101.11')), false);
  assert.equal(contains(target('198.51.100.11'), target('198.51.100.0/24')), false);
  assert.equal(contains(target('2001:db8:1::/64'), target('2001:db8:1::11')), true);
  assert.equal(contains(target('2001:db8:1::/64'), target('198.51.100.11')), false);
  assert.equal(targetKey(target('192.0.2.9/24')), targetKey(target('192.0.2.0/24')));
});

test('keys made from numeric values equal targetKey', () => {
  for (const text of ['192.0.2.0/24', '250.1.2.3/32', '0.0.0.0/0', '2001:db8:1::/48', '2001:db8::1/128', '::/0', '1:2:3:4:5:6:7:8/128']) {
    const t = target(text);
    assert.equal(valueKey(t.family, targetValue(t), t.prefix), targetKey(t), text);
  }
  const host = target('2001:db8:1:2::7');
  assert.equal(valueKey(6, maskValue(targetValue(host), 6, 48), 48), targetKey(target('2001:db8:1::/48')));
  assert.equal(valueKey(4, maskValue(targetValue(target('198.51.100.77')), 4, 25), 25), '198.51.100.0/25');
});
