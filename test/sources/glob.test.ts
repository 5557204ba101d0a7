import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { expandGlob, globBase, segmentToRegExp } from '../../src/sources/glob.js';
import { tempDir } from './follow-harness.js';

const matchCases: [string, string, boolean][] = [
  ['*.log', 'mail.log', true],
  ['*.log', 'mail.log.1', false],
  ['*.log', '.hidden.log', false],
  ['.*.log', '.hidden.log', true],
  ['mail.lo?', 'mail.log', true],
  ['mail.[lx]og', 'mail.xog', true],
  ['mail.[!l]og', 'mail.log', false],
  ['a+b(c).log', 'a+b(c).log', true],
  ['mail.log', 'mailxlog', false],
];

for (const [pattern, name, want] of matchCases) {
  test(`segment ${pattern} ${want ? 'matches' : 'does not match'} ${name}`, () => {
    assert.equal(segmentToRegExp(pattern).test(name), want);
  });
}

test('globBase is the deepest directory without glob characters', () => {
  assert.equal(globBase('/var/log/*/mail.log'), '/var/log');
  assert.equal(globBase('/var/log/mail*.log'), '/var/log');
  assert.equal(globBase('/var/log/mail.log'), '/var/log');
});

test('expandGlob matches in every segment and returns regular files only, sorted', async () => {
  const dir = tempDir();
  for (const d of ['a', 'b', 'c.skip']) mkdirSync(path.join(dir, d));
  writeFileSync(path.join(dir, 'b', 'mail.log'), '');
  writeFileSync(path.join(dir, 'a', 'mail.log'), '');
  writeFileSync(path.join(dir, 'a', 'mail.log.1'), '');
  mkdirSync(path.join(dir, 'a', 'dir.log'));
  assert.deepEqual(await expandGlob(path.join(dir, '[ab]', '*.log')), [path.join(dir, 'a', 'mail.log'), path.join(dir, 'b', 'mail.log')]);
  assert.deepEqual(await expandGlob(path.join(dir, 'nowhere', '*.log')), []);
  assert.deepEqual(await expandGlob(path.join(dir, 'missing.log')), [path.join(dir, 'missing.log')], 'a plain path is kept even if missing');
});
