// The file follower's behaviour on single files: partial lines, globs, start policy, hostile input,
// files that vanish, unreadable paths, and bounded batches.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { FileSource, type LineBatch } from '../../src/sources/index.js';
import { startFollowing, tempDir } from './follow-harness.js';

function texts(batches: readonly LineBatch[]): string[] {
  return batches.flatMap((b) => b.lines.map((l) => l.text));
}

test('a partial last line is held back until its newline arrives', async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, 'one\ntw');
  const f = startFollowing(new FileSource({ sourceId: 'file', paths: [file] }));
  assert.ok(await f.waitFor(() => texts(f.batches).length === 1, 5000));
  await f.waitFor(() => false, 150);
  assert.deepEqual(texts(f.batches), ['one']);
  assert.equal(f.batches.at(-1)?.position.offset, 4, 'position stops after the last complete line');
  appendFileSync(file, 'o\r\nthree\n');
  assert.ok(await f.waitFor(() => texts(f.batches).length === 3, 5000));
  await f.stop();
  assert.deepEqual(texts(f.batches), ['one', 'two', 'three']);
  const ends = f.batches.flatMap((b) => b.lines.map((l) => l.end));
  assert.deepEqual(ends, [4, 9, 15]);
});

test('a glob picks up a file created after following started, from its beginning', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'a.log'), 'a1\n');
  writeFileSync(path.join(dir, 'a.txt'), 'not matched\n');
  const f = startFollowing(new FileSource({ sourceId: 'file', paths: [path.join(dir, '*.log')], pollIntervalMs: 100 }));
  assert.ok(await f.waitFor(() => texts(f.batches).length === 1, 5000));
  writeFileSync(path.join(dir, 'b.log'), 'b1\nb2\n');
  assert.ok(await f.waitFor(() => texts(f.batches).length === 3, 5000), `got ${texts(f.batches).join(',')}`);
  appendFileSync(path.join(dir, 'a.log'), 'a2\n');
  assert.ok(await f.waitFor(() => texts(f.batches).length === 4, 5000));
  await f.stop();
  const byPath = (p: string): string[] => f.batches.filter((b) => b.path === path.join(dir, p)).flatMap((b) => b.lines.map((l) => l.text));
  assert.deepEqual(byPath('a.log'), ['a1', 'a2']);
  assert.deepEqual(byPath('b.log'), ['b1', 'b2']);
  assert.deepEqual(byPath('a.txt'), []);
});

test("start 'end' skips the backlog of an existing file and reads only new lines", async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, 'old1\nold2\n');
  const f = startFollowing(new FileSource({ sourceId: 'file', paths: [file], start: 'end' }));
  assert.ok(await f.waitFor(() => f.batches.length >= 1, 5000));
  assert.equal(f.batches[0]?.position.offset, 10, 'the start position is reported for commit');
  appendFileSync(file, 'new1\n');
  assert.ok(await f.waitFor(() => texts(f.batches).length === 1, 5000));
  await f.stop();
  assert.deepEqual(texts(f.batches), ['new1']);
});

test("start 'end' does not apply to a file that did not exist at start", async () => {
  const file = path.join(tempDir(), 'mail.log');
  const f = startFollowing(new FileSource({ sourceId: 'file', paths: [file], start: 'end', pollIntervalMs: 50 }));
  await f.waitFor(() => false, 100);
  writeFileSync(file, 'first\nsecond\n');
  assert.ok(await f.waitFor(() => texts(f.batches).length === 2, 5000));
  await f.stop();
  assert.deepEqual(texts(f.batches), ['first', 'second']);
});

test('a 1 MB line is dropped and counted, binary garbage does not stall, later lines flow', async () => {
  const file = path.join(tempDir(), 'mail.log');
  const garbage = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37 + 1) % 256).filter((b) => b !== 0x0a));
  writeFileSync(file, Buffer.concat([Buffer.from('before\n'), Buffer.alloc(1024 * 1024, 0x41), Buffer.from('\n'), garbage, Buffer.from('\nafter\n')]));
  const source = new FileSource({ sourceId: 'file', paths: [file], maxBatchBytes: 64 * 1024 });
  const f = startFollowing(source);
  assert.ok(await f.waitFor(() => texts(f.batches).includes('after'), 5000));
  await f.stop();
  const got = texts(f.batches);
  assert.equal(got.length, 3);
  assert.equal(got[0], 'before');
  assert.ok(got[1]!.length > 0 && got[1]!.includes('\uFFFD'), 'garbage decoded with replacement characters');
  assert.equal(got[2], 'after');
  assert.equal(source.stats.oversizedLines, 1);
});

function holdsDeleted(file: string): boolean {
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === `${file} (deleted)`) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

test('a file that disappears and reappears is followed again', async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, 'one\n');
  const f = startFollowing(new FileSource({ sourceId: 'file', paths: [file], pollIntervalMs: 50 }));
  assert.ok(await f.waitFor(() => texts(f.batches).length === 1, 5000));
  rmSync(file);
  // The deleted file, read to its end, is closed so its disk space is freed.
  assert.ok(await f.waitFor(() => !holdsDeleted(file), 5000), 'still holds the deleted file open');
  writeFileSync(file, 'two\n');
  assert.ok(await f.waitFor(() => texts(f.batches).length === 2, 5000), texts(f.batches).join(','));
  appendFileSync(file, 'three\n');
  assert.ok(await f.waitFor(() => texts(f.batches).length === 3, 5000));
  await f.stop();
  assert.deepEqual(texts(f.batches), ['one', 'two', 'three']);
});

test('an unreadable path is logged once, not fatal, and other files keep flowing', async () => {
  const dir = tempDir();
  const bad = path.join(dir, 'bad.log');
  mkdirSync(bad); // reading a directory fails with EISDIR even as root
  const good = path.join(dir, 'good.log');
  writeFileSync(good, 'ok1\n');
  const records: string[] = [];
  const logger = createLogger({ pretty: false, destination: { write: (s: string) => void records.push(s) } });
  const source = new FileSource({ sourceId: 'file', paths: [bad, good], pollIntervalMs: 30, logger });
  const f = startFollowing(source);
  assert.ok(await f.waitFor(() => texts(f.batches).length === 1, 5000));
  await f.waitFor(() => false, 200); // several polls: the error must be logged once, not per poll
  appendFileSync(good, 'ok2\n');
  assert.ok(await f.waitFor(() => texts(f.batches).length === 2, 5000));
  await f.stop();
  const errors = records.filter((r) => r.includes('source.notRegularFile'));
  assert.equal(errors.length, 1, records.join(''));
  assert.match(errors[0]!, /is a directory, not a regular file/);
  assert.ok(source.stats.errors >= 2, 'retried on later polls');
});

test('a FIFO or a device as a logpath never blocks: an error for that path, the others keep flowing', async () => {
  const dir = tempDir();
  const fifo = path.join(dir, 'fifo.log');
  execFileSync('mkfifo', [fifo]);
  const good = path.join(dir, 'good.log');
  const later = path.join(dir, 'later.log');
  writeFileSync(good, 'ok1\n');
  writeFileSync(later, 'l1\n');
  const records: string[] = [];
  const logger = createLogger({ pretty: false, destination: { write: (s: string) => void records.push(s) } });
  const source = new FileSource({ sourceId: 'file', paths: [fifo, '/dev/zero', good, later], pollIntervalMs: 30, start: 'beginning', logger });
  const f = startFollowing(source);
  assert.ok(await f.waitFor(() => texts(f.batches).length === 2, 5000), 'a FIFO with no writer blocked the follower');
  // At run time: a followed file is replaced by a FIFO (renamed away, FIFO made at its path).
  renameSync(later, `${later}.1`);
  execFileSync('mkfifo', [later]);
  appendFileSync(`${later}.1`, 'l2\n'); // the renamed file is still read to its end
  appendFileSync(good, 'ok2\n');
  assert.ok(await f.waitFor(() => texts(f.batches).length === 4, 5000), JSON.stringify(texts(f.batches)));
  await f.waitFor(() => false, 200);
  appendFileSync(good, 'ok3\n');
  assert.ok(await f.waitFor(() => texts(f.batches).includes('ok3'), 5000));
  await f.stop();
  assert.deepEqual(texts(f.batches).sort(), ['l1', 'l2', 'ok1', 'ok2', 'ok3']);
  const errors = records.filter((r) => r.includes('source.notRegularFile'));
  assert.equal(errors.filter((r) => r.includes('fifo.log')).length, 1, records.join(''));
  assert.equal(errors.filter((r) => r.includes('/dev/zero') && r.includes('a character device')).length, 1, records.join(''));
  assert.equal(errors.filter((r) => r.includes('later.log') && r.includes('a FIFO')).length, 1, records.join(''));
});

test('batches are bounded, contiguous, and pulled one at a time by the consumer', async () => {
  const file = path.join(tempDir(), 'mail.log');
  const line = 'x'.repeat(99) + '\n';
  writeFileSync(file, line.repeat(10_000)); // 1 MB backlog
  const source = new FileSource({ sourceId: 'file', paths: [file], maxBatchBytes: 8192 });
  const ac = new AbortController();
  const it = source.follow(ac.signal)[Symbol.asyncIterator]();
  let offset = 0;
  let lines = 0;
  try {
    while (lines < 10_000) {
      const r = await it.next();
      assert.equal(r.done, false);
      const b = r.value as LineBatch;
      // One read of at most 8192 bytes, plus the partial line carried over from the previous read.
      assert.ok(b.position.offset - offset <= 8192 + 100, `batch of ${b.position.offset - offset} bytes`);
      if (b.lines.length > 0) assert.equal(b.lines[0]!.end, offset + 100, 'contiguous with the previous batch');
      offset = b.position.offset;
      lines += b.lines.length;
      // A slow consumer: the follower must not read ahead meanwhile (stats count batches handed over).
      if (source.stats.batches === 5) {
        const before = source.stats.batches;
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(source.stats.batches, before);
      }
    }
  } finally {
    await it.return(undefined);
  }
  assert.equal(offset, 1_000_000);
});
