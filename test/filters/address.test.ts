import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress } from '../../src/filters/address.js';

const cases: [string, string | null, (4 | 6)?][] = [
  ['192.0.2.1', '192.0.2.1', 4],
  ['0.0.0.0', '0.0.0.0', 4],
  ['255.255.255.255', '255.255.255.255', 4],
  ['0x7f.1', null],
  ['1.2.3', null],
  ['1.2.3.4.5', null],
  ['256.1.1.1', null],
  ['01.2.3.4', null],
  ['1.2.3.4 ', null],
  ['', null],
  ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', 6],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 6],
  ['2001:0db8::0001', '2001:db8::1', 6],
  ['::ffff:192.0.2.7', '192.0.2.7', 4],
  ['::FFFF:c000:0207', '192.0.2.7', 4],
  ['::ffff:0x7f.1', null],
  ['::ffff:1.2.3', null],
  ['2001:db8::1::1', null],
  ['2001:db8:::1', null],
  ['::1', '::1', 6],
  ['fe80::1%eth0', null],
  ['unknown', null],
];

for (const [input, want, family] of cases) {
  test(`address ${JSON.stringify(input)} → ${want ?? 'rejected'}`, () => {
    const r = parseAddress(input);
    if (want === null) assert.equal(r, null);
    else {
      assert.ok(r);
      assert.equal(r.address, want);
      assert.equal(r.family, family);
    }
  });
}

test('IPv6 normalisation agrees with ipaddr.js on many generated addresses', async () => {
  const { default: ipaddr } = await import('ipaddr.js');
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let k = 0; k < 5000; k++) {
    const groups = Array.from({ length: 8 }, () => (rnd(3) === 0 ? 0 : rnd(65536)));
    const full = groups.map((g) => g.toString(16).padStart(rnd(2) ? 4 : 1, '0')).join(':');
    const text = rnd(2) ? full.toUpperCase() : full;
    const want = ipaddr.IPv6.parse(text);
    const got = parseAddress(text);
    assert.ok(got, text);
    const expected = want.isIPv4MappedAddress() ? want.toIPv4Address().toString() : want.toRFC5952String();
    assert.equal(got.address, expected, text);
    // and the compressed form reads back the same
    assert.equal(parseAddress(want.toRFC5952String())?.address, expected, want.toRFC5952String());
  }
});

test('remembered answers are the same as fresh ones, whatever the order and collisions', () => {
  const texts: string[] = [];
  for (let i = 0; i < 30000; i++) {
    texts.push(`${(i * 7) % 256}.${(i >> 3) % 256}.${i % 251}.${(i * 13) % 256}`);
    texts.push(`2001:db8:${(i % 65536).toString(16)}::${((i * 31) % 65536).toString(16)}`);
    if (i % 100 === 0) texts.push(`::ffff:192.0.2.${i % 256}`, `2001:db8::${i}:`, `1.2.3.${256 + i}`);
  }
  const first = texts.map((t) => parseAddress(t));
  for (let k = texts.length - 1; k >= 0; k -= 3) assert.deepEqual(parseAddress(texts[k] as string), first[k], texts[k]);
  for (let k = 0; k < texts.length; k++) assert.deepEqual(parseAddress(texts[k] as string), first[k], texts[k]);
  assert.deepEqual(parseAddress('::ffff:192.0.2.7'), { address: '192.0.2.7', family: 4 });
  assert.equal(parseAddress('1.2.3.256'), null);
});
