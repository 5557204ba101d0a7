import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTarget } from '../../src/config/target.js';

const valid: [string, string, number, 4 | 6][] = [
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
];
for (const [input, addr, prefix, family] of valid) {
  test(`target ${input} -> ${addr}/${prefix}`, () => {
    assert.deepEqual(parseTarget(input), { addr, prefix, family });
  });
}

const invalid: [string, RegExp][] = [
  ['1.2.3', /four decimal numbers/],
  ['0x7f.1', /four decimal numbers/],
  ['127.1', /four decimal numbers/],
  ['01.2.3.4', /four decimal numbers/],
  ['256.1.1.1', /four decimal numbers/],
  ['1.2.3.4/33', /prefix \/33 is longer than 32 bits/],
  ['1.2.3.4/08', /"\/08" is not a valid prefix length/],
  ['1.2.3.4/', /not a valid prefix length/],
  ['2001:db8::/129', /longer than 128 bits/],
  ['fe80::1%eth0', /zone identifiers/],
  ['::ffff:0x7f.1.2.3', /embedded IPv4 part/],
  ['::ffff:1.2.3', /embedded IPv4 part/],
  ['1::2::3', /not an IPv6 address/],
  ['::ffff:192.0.2.0/90', /at least \/96/],
  ['mail.example.com', /host names are not accepted/],
  ['', /empty/],
];
for (const [input, message] of invalid) {
  test(`target ${JSON.stringify(input)} is rejected`, () => {
    const r = parseTarget(input);
    assert.ok('error' in r, `expected an error for ${input}`);
    assert.match(r.error, message);
    assert.ok(r.error.includes(JSON.stringify(input)), 'the message quotes the input');
  });
}
