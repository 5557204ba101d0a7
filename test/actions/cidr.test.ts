import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contains, parseTarget, target, targetKey } from '../../src/actions/cidr.js';

const cases: { input: string; want?: string; error?: RegExp }[] = [
  { input: '192.0.2.7', want: '192.0.2.7/32' },
  { input: '192.0.2.7/24', want: '192.0.2.0/24' },
  { input: '2001:DB8:0:0::1', want: '2001:db8::1/128' },
  { input: '2001:db8:1:2:3::/48', want: '2001:db8:1::/48' },
  { input: '::ffff:198.51.100.9', want: '198.51.100.9/32' },
  { input: '198.51.100.1/33', error: /out of range/ },
  { input: '198.51.100.1; rm -rf /', error: /invalid address/ },
  { input: '1.2.3.4/x', error: /invalid prefix/ },
];
for (const c of cases) {
  test(`parseTarget ${c.input}`, () => {
    const t = parseTarget(c.input);
    if (c.error) {
      assert.ok('error' in t);
      assert.match(t.error, c.error);
    } else {
      assert.ok(!('error' in t));
      assert.equal(`${t.addr}/${t.prefix}`, c.want);
    }
  });
}

test('contains', () => {
  assert.equal(contains(target('198.51.100.0/24'), target('198.51.100.11')), true);
  assert.equal(contains(target('198.51.100.0/24'), target('198.51.101.11')), false);
  assert.equal(contains(target('198.51.100.11'), target('198.51.100.0/24')), false);
  assert.equal(contains(target('2001:db8:1::/64'), target('2001:db8:1::11')), true);
  assert.equal(contains(target('2001:db8:1::/64'), target('198.51.100.11')), false);
  assert.equal(targetKey(target('192.0.2.9/24')), targetKey(target('192.0.2.0/24')));
});
