import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from '../../src/sources/line-splitter.js';

interface Case {
  name: string;
  start?: number;
  max?: number;
  chunks: string[];
  lines: [string, number][];
  offset: number;
  oversized?: number;
}

const cases: Case[] = [
  { name: 'two lines in one chunk', chunks: ['a\nbb\n'], lines: [['a', 2], ['bb', 5]], offset: 5 },
  { name: 'partial line is held back', chunks: ['a\nb'], lines: [['a', 2]], offset: 2 },
  { name: 'line split across chunks', chunks: ['ab', 'c', 'd\ne'], lines: [['abcd', 5]], offset: 5 },
  { name: 'CRLF loses its CR', chunks: ['a\r\n'], lines: [['a', 3]], offset: 3 },
  { name: 'empty lines are lines', chunks: ['\n\n'], lines: [['', 1], ['', 2]], offset: 2 },
  { name: 'offsets start at the resume point', start: 100, chunks: ['x\n'], lines: [['x', 102]], offset: 102 },
  { name: 'line at the cap is kept', max: 3, chunks: ['abc\n'], lines: [['abc', 4]], offset: 4 },
  { name: 'line over the cap in one chunk is dropped', max: 3, chunks: ['abcd\nok\n'], lines: [['ok', 8]], offset: 8, oversized: 1 },
  { name: 'line over the cap across chunks is dropped', max: 3, chunks: ['ab', 'cd', 'ef', 'g\nok\n'], lines: [['ok', 11]], offset: 11, oversized: 1 },
  { name: 'invalid UTF-8 becomes U+FFFD', chunks: ['\xff\n'], lines: [['\uFFFD', 2]], offset: 2 },
  { name: 'multi-byte character split across chunks', chunks: ['caf\xc3', '\xa9\n'], lines: [['café', 6]], offset: 6 },
];

for (const c of cases) {
  test(c.name, () => {
    const s = new LineSplitter(c.start ?? 0, c.max ?? 1024);
    const got: [string, number][] = [];
    let oversized = 0;
    for (const chunk of c.chunks) {
      const r = s.push(Buffer.from(chunk, 'latin1'));
      oversized += r.oversized;
      for (const l of r.lines) got.push([l.text, l.end]);
    }
    assert.deepEqual(got, c.lines);
    assert.equal(s.offset, c.offset);
    assert.equal(oversized, c.oversized ?? 0);
  });
}
