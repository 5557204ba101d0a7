// The spawn executor with a real program (node itself, copying stdin to stdout): what goes in on
// stdin comes out unchanged, through a pipe for small input and through an unlinked file for
// large input (a restart's script).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpawnExecutor } from '../../src/actions/executor.js';

// A temporary directory of this file's own: unit test files run in parallel, and another one's
// large stdin (a pban-stdin-* directory of its own) would otherwise show up as our leftover.
process.env['TMPDIR'] = mkdtempSync(path.join(os.tmpdir(), 'pban-tmp-test-'));
after(() => rmSync(process.env['TMPDIR']!, { recursive: true, force: true }));
const leftovers = (): string[] => readdirSync(os.tmpdir()).filter((n) => n.startsWith('pban-stdin-'));

test('stdin reaches the program whole, small (pipe) or large (file), and no temporary file stays', async () => {
  const before = leftovers();
  const exec = new SpawnExecutor();
  const small = 'add element inet t s { 192.0.2.1 }\n';
  const large = Array.from({ length: 20_000 }, (_, i) => `add element inet t s { 198.18.${i >> 8}.${i & 255} timeout 86400s }`).join('\n') + '\n';
  assert.ok(large.length > 256 * 1024);
  for (const input of [small, large, '']) {
    const r = await exec.run([process.execPath, '-e', 'process.stdin.pipe(process.stdout)'], input);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, input);
  }
  assert.deepEqual(leftovers(), before);
});

test('a program that cannot start is reported, with large input too', async () => {
  const r = await new SpawnExecutor().run(['/nonexistent/pban-no-such-program'], 'x'.repeat(200_000));
  assert.equal(r.status, null);
  assert.match(r.stderr, /ENOENT/);
});
