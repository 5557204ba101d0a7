// Crash and restart: the follower stops without the last batch acknowledged; a new follower
// started from the last acknowledged position delivers exactly the lines that were not acknowledged,
// also when the file was rotated (renamed or copy-truncated) while pban was down.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { SourcePosition } from '../../src/events.js';
import { FileSource } from '../../src/sources/index.js';
import { describeDelivery, startFollowing, tempDir } from './follow-harness.js';
import { logLine, seqOf } from './rotating-writer.js';

function lines(from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += logLine(i);
  return s;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Follows until `ackLines` lines are acknowledged, then refuses the next batch: a crash before its commit. */
async function crashAfter(file: string, ackLines: number): Promise<{ acked: number[]; position: SourcePosition }> {
  let count = 0;
  let position: SourcePosition | null = null;
  const source = new FileSource({ sourceId: 'file', paths: [file], maxBatchBytes: 4096 });
  const f = startFollowing(source, (b) => {
    if (count >= ackLines && b.lines.length > 0) return false; // delivered, never committed
    count += b.lines.length;
    position = b.position;
    return true;
  });
  await f.done;
  assert.ok(position !== null);
  return { acked: f.seqs, position };
}

async function resume(file: string, position: SourcePosition, expectTotal: number, acked: number): Promise<number[]> {
  const source = new FileSource({ sourceId: 'file', paths: [file], positions: [position], maxBatchBytes: 4096 });
  const f = startFollowing(source);
  await f.waitFor(() => acked + f.seqs.length >= expectTotal, 10_000);
  await f.waitFor(() => false, 200); // duplicates, if any, would show up now
  await f.stop();
  return f.seqs;
}

test('restart from the last acknowledged position delivers exactly the unacknowledged lines', async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, lines(0, 2000));
  const { acked, position } = await crashAfter(file, 700);
  assert.ok(acked.length >= 700 && acked.length < 2000, `acked ${acked.length}`);
  appendFileSync(file, lines(2000, 2500));
  const rest = await resume(file, position, 2500, acked.length);
  assert.deepEqual([...acked, ...rest], range(0, 2500), describeDelivery([...acked, ...rest], range(0, 2500)));
});

test('renamed while down: the rest of the old file is read from its rotated name, then the new file', async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, lines(0, 2000));
  const { acked, position } = await crashAfter(file, 700);
  appendFileSync(file, lines(2000, 2100));
  renameSync(file, `${file}.1`);
  appendFileSync(`${file}.1`, lines(2100, 2150)); // the writer had not reopened yet
  writeFileSync(file, lines(2150, 2500));
  const rest = await resume(file, position, 2500, acked.length);
  assert.deepEqual([...acked, ...rest], range(0, 2500), describeDelivery([...acked, ...rest], range(0, 2500)));
});

test('copy-truncated while down: the rest is read from the copy, then the truncated file from 0', async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, lines(0, 2000));
  const { acked, position } = await crashAfter(file, 700);
  appendFileSync(file, lines(2000, 2100));
  copyFileSync(file, `${file}-20261127`);
  truncateSync(file, 0);
  appendFileSync(file, lines(2100, 2500));
  const rest = await resume(file, position, 2500, acked.length);
  assert.deepEqual([...acked, ...rest], range(0, 2500), describeDelivery([...acked, ...rest], range(0, 2500)));
});

test('rotated while down and the old file compressed: the new file is read from its beginning, nothing twice', async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, lines(0, 2000));
  const { acked, position } = await crashAfter(file, 700);
  renameSync(file, `${file}.1.gz`); // stands for gzip: not readable as text, so not resumed from
  writeFileSync(file, lines(2000, 2300));
  const rest = await resume(file, position, acked.length + 300, acked.length);
  assert.deepEqual(rest, range(2000, 2300));
});

test('truncated in place while down, no copy: the file is read from 0', async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, lines(0, 2000));
  const { acked, position } = await crashAfter(file, 700);
  writeFileSync(file, lines(5000, 5100)); // `> mail.log` then new lines: same inode, other first line
  const rest = await resume(file, position, acked.length + 100, acked.length);
  assert.deepEqual(rest, range(5000, 5100));
});

test('a position whose file is missing waits for the file, then reads it from the beginning', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'mail.log');
  writeFileSync(file, lines(0, 100));
  const { acked, position } = await crashAfter(file, 10);
  renameSync(file, `${file}.1.gz`);
  const source = new FileSource({ sourceId: 'file', paths: [file], positions: [position], pollIntervalMs: 50 });
  const f = startFollowing(source);
  await f.waitFor(() => false, 100);
  writeFileSync(file, lines(100, 120));
  await f.waitFor(() => f.seqs.length >= 20, 5000);
  await f.stop();
  assert.ok(acked.length >= 10);
  assert.deepEqual(f.seqs, range(100, 120));
});

test('renamed while down and not re-created yet: the rest is read from the rotated name, the new file later', async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, lines(0, 1000));
  const { acked, position } = await crashAfter(file, 300);
  appendFileSync(file, lines(1000, 1100));
  renameSync(file, `${file}.1`);
  const source = new FileSource({ sourceId: 'file', paths: [file], positions: [position], pollIntervalMs: 50 });
  const f = startFollowing(source);
  assert.ok(await f.waitFor(() => acked.length + f.seqs.length >= 1100, 5000));
  writeFileSync(file, lines(1100, 1200));
  assert.ok(await f.waitFor(() => acked.length + f.seqs.length >= 1200, 5000));
  await f.waitFor(() => false, 150);
  await f.stop();
  assert.deepEqual([...acked, ...f.seqs], range(0, 1200), describeDelivery([...acked, ...f.seqs], range(0, 1200)));
});

test('follow() again on the same source after the consumer threw: the unfinished batch comes again, nothing else', async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, lines(0, 1000));
  const source = new FileSource({ sourceId: 'file', paths: [file], maxBatchBytes: 4096 });
  const done: number[] = [];
  let thrown = false;
  const consume = async (): Promise<void> => {
    const ac = new AbortController();
    for await (const b of source.follow(ac.signal)) {
      if (!thrown && done.length >= 300 && b.lines.length > 0) {
        thrown = true;
        throw new Error('consumer failed');
      }
      for (const l of b.lines) done.push(seqOf(l.text));
      if (done.length >= 1000) ac.abort();
    }
  };
  await assert.rejects(consume(), /consumer failed/);
  await consume();
  assert.deepEqual(done, range(0, 1000), describeDelivery(done, range(0, 1000)));
});

test('a read holding more than maxBatchLines lines is handed over in slices, each a safe place to resume', async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, lines(0, 2500));
  const sizes: number[] = [];
  let position: SourcePosition | null = null;
  // the smallest read (16 KiB) holds about 120 of these lines
  const source = new FileSource({ sourceId: 'file', paths: [file], maxBatchBytes: 1 << 20, maxBatchLines: 50 });
  const f = startFollowing(source, (b) => {
    if (b.lines.length === 0) return true;
    // a crash while the third slice of the first read is processed
    if (sizes.length === 2) return false;
    sizes.push(b.lines.length);
    position = b.position;
    assert.equal(b.position.offset, b.lines[b.lines.length - 1]!.end, 'a slice ends at its last line');
    return true;
  });
  await f.done;
  assert.deepEqual(sizes, [50, 50]);
  assert.ok(position !== null);
  const rest = await resume(file, position, 2500, 100);
  assert.deepEqual([...f.seqs, ...rest], range(0, 2500), describeDelivery([...f.seqs, ...rest], range(0, 2500)));
});

test('a consumer that sets batchLines between batches gets slices of that size, never more than maxBatchLines, every line once', async () => {
  const file = path.join(tempDir(), 'mail.log');
  writeFileSync(file, lines(0, 5000));
  const source = new FileSource({ sourceId: 'file', paths: [file], maxBatchLines: 700 });
  // what a pacing consumer does: start small, grow, shrink, ask for more than the cap
  const plan = [40, 80, 160, 25, 5000, 5000, 5000, 300];
  const asked: number[] = [];
  const sizes: number[] = [];
  source.batchLines = plan[0]!;
  const f = startFollowing(source, (b) => {
    if (b.lines.length === 0) return true;
    asked.push(source.batchLines);
    sizes.push(b.lines.length);
    assert.equal(b.position.offset, b.lines[b.lines.length - 1]!.end, 'a slice ends at its last line');
    source.batchLines = plan[Math.min(sizes.length, plan.length - 1)]!;
    return true;
  });
  assert.ok(await f.waitFor(() => f.seqs.length >= 5000, 10_000), `delivered ${f.seqs.length} of 5000`);
  await f.stop();
  assert.deepEqual(f.seqs, range(0, 5000), describeDelivery(f.seqs, range(0, 5000)));
  // each batch holds at most what was asked when it was cut (700 caps the 5000); a read can end
  // between two batches, so a batch may hold fewer
  for (let i = 0; i < sizes.length; i++) assert.ok(sizes[i]! <= asked[i]!, `batch ${i}: ${sizes[i]} lines, asked ${asked[i]}`);
  assert.deepEqual(asked.slice(0, 5), [40, 80, 160, 25, 700]);
  assert.equal(Math.max(...sizes), 700, `sizes ${sizes.join(" ")}`);
});
