import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { StreamSource } from '../../src/sources/index.js';

async function collect(source: StreamSource, signal = new AbortController().signal): Promise<string[]> {
  const out: string[] = [];
  for await (const b of source.follow(signal)) for (const l of b.lines) out.push(l.text);
  return out;
}

test('a stream yields complete lines, and its unterminated last line at end of stream', async () => {
  const stream = new PassThrough();
  const source = new StreamSource({ sourceId: 'stdin', stream, maxLineBytes: 10 });
  const got = collect(source);
  stream.write('one\ntw');
  stream.write('o\n' + 'x'.repeat(20) + '\nthree');
  stream.end();
  assert.deepEqual(await got, ['one', 'two', 'three']);
  assert.equal(source.stats.oversizedLines, 1);
});

test('aborting stops a stream that never ends', async () => {
  const stream = new PassThrough();
  const ac = new AbortController();
  const got = collect(new StreamSource({ sourceId: 'stdin', stream }), ac.signal);
  stream.write('a\n');
  await new Promise((r) => setTimeout(r, 50));
  ac.abort();
  assert.deepEqual(await got, ['a']);
});
