import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotIndex } from '../../src/engine/slot-index.js';
import { addressWords, maskedEqual, maskWords, wordsToHextets } from '../../src/engine/address-words.js';
import { formatIPv6, parseIPv6 } from '../../src/cidr.js';
import { seededRandom } from '../helpers/prng.js';

const rng = seededRandom;

test('SlotIndex agrees with a Map over random adds and releases, through growth and shrinking', () => {
  for (const seed of [1, 2, 3]) {
    const r = rng(seed);
    const idx = new SlotIndex();
    const ref = new Map<string, number>();
    // A small key space so that keys come back after release and probe runs collide.
    const key = (): [number, number, number, number, number] => {
      const fam = r() < 0.5 ? 4 : 6;
      const k = Math.floor(r() * 5000);
      return fam === 4 ? [4, (0xc0000200 + k) >>> 0, 0, 0, 0] : [6, 0x20010db8, k & 7, 0, k];
    };
    for (let i = 0; i < 40_000; i++) {
      const [f, w0, w1, w2, w3] = key();
      const name = `${f}:${w0}:${w1}:${w2}:${w3}`;
      const got = idx.find(f, w0, w1, w2, w3);
      const want = ref.get(name);
      assert.equal(got, want ?? -1, `seed ${seed} step ${i}: find ${name}`);
      // Grow for the first half, then mostly release.
      const addBias = i < 20_000 ? 0.7 : 0.3;
      if (want === undefined) {
        if (r() < addBias) {
          const s = idx.add(f, w0, w1, w2, w3);
          assert.ok(![...ref.values()].includes(s), `seed ${seed} step ${i}: slot ${s} handed out twice`);
          ref.set(name, s);
        }
      } else if (r() > addBias) {
        idx.release(want);
        ref.delete(name);
      } else {
        assert.equal(idx.family(want), f);
        assert.deepEqual([0, 1, 2, 3].map((j) => idx.word(want, j)), [w0, w1, w2, w3]);
      }
      assert.equal(idx.size, ref.size);
    }
    for (const [name, s] of ref) {
      const [f, w0, w1, w2, w3] = name.split(':').map(Number) as [number, number, number, number, number];
      assert.equal(idx.find(f, w0, w1, w2, w3), s);
    }
  }
});

test('SlotIndex reuses released slots, so parallel arrays stay as large as the peak', () => {
  const idx = new SlotIndex();
  const a = idx.add(4, 1, 0, 0, 0);
  const b = idx.add(4, 2, 0, 0, 0);
  idx.release(a);
  assert.equal(idx.find(4, 1, 0, 0, 0), -1);
  assert.equal(idx.find(4, 2, 0, 0, 0), b);
  assert.equal(idx.add(6, 1, 0, 0, 0), a);
  assert.equal(idx.find(6, 1, 0, 0, 0), a, 'same words, other family: another key');
  assert.equal(idx.find(4, 1, 0, 0, 0), -1);
});

test('addressWords reads IPv4 and every IPv6 text form as cidr.parseIPv6 does', () => {
  const w = new Uint32Array(4);
  addressWords('192.0.2.77', 4, w);
  assert.deepEqual([...w], [0xc000024d, 0, 0, 0]);
  for (const text of ['2001:db8::1', '::', '::1', '2001:db8::', 'fe80::1:2', '2001:db8:0:1:2:3:4:5', '2001:DB8:A::FF', '::ffff:192.0.2.1', '1:2:3:4:5:6:7::']) {
    addressWords(text, 6, w);
    assert.deepEqual(wordsToHextets(w[0]!, w[1]!, w[2]!, w[3]!), parseIPv6(text.toLowerCase()), text);
  }
  addressWords('2001:db8:4000:1::abcd', 6, w);
  assert.equal(formatIPv6(wordsToHextets(w[0]!, w[1]!, w[2]!, w[3]!)), '2001:db8:4000:1::abcd');
});

test('maskWords and maskedEqual clear host bits at any prefix', () => {
  const w = new Uint32Array(4);
  const m = new Uint32Array(4);
  addressWords('2001:db8:abcd:1234:5678::1', 6, w);
  maskWords(w, 64, m);
  assert.equal(formatIPv6(wordsToHextets(m[0]!, m[1]!, m[2]!, m[3]!)), '2001:db8:abcd:1234::');
  maskWords(w, 36, m);
  assert.equal(formatIPv6(wordsToHextets(m[0]!, m[1]!, m[2]!, m[3]!)), '2001:db8:a000::');
  assert.ok(maskedEqual(w, 36, m));
  assert.ok(maskedEqual(w, 0, new Uint32Array(4)));
  maskWords(w, 128, m);
  assert.ok(maskedEqual(w, 128, m));
  m[3] = m[3]! ^ 1;
  assert.ok(!maskedEqual(w, 128, m));
  addressWords('198.51.100.200', 4, w);
  maskWords(w, 24, m);
  assert.deepEqual([...m], [0xc6336400, 0, 0, 0]);
});
