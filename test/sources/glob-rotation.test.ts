// A glob over a log and its rotated copies (`mail.log*`) reads every line once: across rename and
// copytruncate rotations, across a restart from stored positions, and when a glob matches only
// rotated names (identity by device + inode).
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { SourcePosition } from '../../src/events.js';
import { FileSource, type LineBatch } from '../../src/sources/index.js';
import { isRotatedName } from '../../src/sources/file/rotated-copy.js';
import { describeDelivery, startFollowing, tempDir, type Following } from './follow-harness.js';
import { logLine } from './rotating-writer.js';

function lines(from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += logLine(i);
  return s;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Waits for `want` lines, then a little more so duplicates would show, and checks each came once. */
async function expectExactly(f: Following, want: number[], what: string): Promise<void> {
  await f.waitFor(() => f.seqs.length >= want.length, 10_000);
  await f.waitFor(() => false, 300);
  assert.deepEqual([...f.seqs].sort((a, b) => a - b), want, `${what}: ${describeDelivery(f.seqs, want)}`);
}

/** The latest position per path, as the store keeps them. */
function positionsOf(batches: readonly LineBatch[]): SourcePosition[] {
  const m = new Map<string, SourcePosition>();
  for (const b of batches) m.set(b.position.path, b.position);
  return [...m.values()];
}

test('isRotatedName: the names rotation tools give, not sibling logs', () => {
  for (const n of ['mail.log.1', 'mail.log.2.gz', 'mail.log-20261201', 'mail.log-20261201.gz', 'mail.log_3']) assert.ok(isRotatedName('mail.log', n), n);
  assert.ok(isRotatedName('maillog', 'maillog.20261201-101010'));
  for (const n of ['mail.log', 'mail.log.', 'mail.log.old', 'mail.logx1', 'mail.err', 'mail.log.err']) assert.ok(!isRotatedName('mail.log', n), n);
  assert.ok(!isRotatedName('foo', 'foo.log'));
});

test('mail.log* across rename rotations: each line once (the rotated names are not followed again)', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'mail.log');
  writeFileSync(`${file}.1`, lines(0, 100)); // yesterday's
  writeFileSync(file, lines(100, 200));
  const f = startFollowing(new FileSource({ sourceId: 'file', paths: [`${file}*`], pollIntervalMs: 50, start: 'beginning' }));
  await expectExactly(f, range(100, 200), 'the live file (its rotated copy holds older lines read before)');
  for (let gen = 0; gen < 3; gen++) {
    const base = 200 + gen * 300;
    appendFileSync(file, lines(base, base + 100));
    await f.waitFor(() => f.seqs.includes(base + 99), 5000);
    // logrotate `create`: shift the old generations, rename the live file, create a new one.
    for (let k = gen + 1; k >= 1; k--) renameSync(`${file}.${k}`, `${file}.${k + 1}`);
    renameSync(file, `${file}.1`);
    appendFileSync(`${file}.1`, lines(base + 100, base + 200)); // the writer has not reopened yet
    writeFileSync(file, lines(base + 200, base + 300));
    await expectExactly(f, range(100, base + 300), `after rotation ${gen + 1}`);
  }
  await f.stop();
});

test('mail.log* with copytruncate: the copy is not read again', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'mail.log');
  writeFileSync(file, lines(0, 200));
  const f = startFollowing(new FileSource({ sourceId: 'file', paths: [`${file}*`], pollIntervalMs: 50, start: 'beginning' }));
  await expectExactly(f, range(0, 200), 'before');
  appendFileSync(file, lines(200, 250));
  copyFileSync(file, `${file}-20261201`);
  truncateSync(file, 0);
  appendFileSync(file, lines(250, 400));
  await expectExactly(f, range(0, 400), 'after copytruncate');
  await f.stop();
});

test('mail.log* across a restart with stored positions, rotated while down: each line once', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'mail.log');
  writeFileSync(`${file}.1`, lines(0, 100));
  writeFileSync(file, lines(100, 300));
  const opts = { sourceId: 'file', paths: [`${file}*`], pollIntervalMs: 50, start: 'end' as const, maxBatchBytes: 4096 };
  const first = startFollowing(new FileSource(opts));
  await first.waitFor(() => first.batches.length > 0, 5000);
  appendFileSync(file, lines(300, 400));
  await expectExactly(first, range(300, 400), 'first run');
  await first.stop();
  // Down: more lines, then a rename rotation, then the new file fills.
  appendFileSync(file, lines(400, 450));
  renameSync(`${file}.1`, `${file}.2`);
  renameSync(file, `${file}.1`);
  writeFileSync(file, lines(450, 500));
  const second = startFollowing(new FileSource({ ...opts, positions: positionsOf(first.batches) }));
  await expectExactly(second, range(400, 500), 'after the restart');
  appendFileSync(file, lines(500, 520));
  await expectExactly(second, range(400, 520), 'and on');
  await second.stop();
});

test('a glob of rotated names only (mail.log.*): a renamed file is never read again under its new name', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'mail.log');
  writeFileSync(`${file}.1`, lines(0, 100));
  writeFileSync(file, lines(1000, 1100)); // not matched by the glob
  const f = startFollowing(new FileSource({ sourceId: 'file', paths: [`${file}.*`], pollIntervalMs: 50, start: 'beginning' }));
  await expectExactly(f, range(0, 100), 'before');
  renameSync(`${file}.1`, `${file}.2`);
  renameSync(file, `${file}.1`);
  // mail.log.1 now holds the file that was mail.log (new to this glob); mail.log.2 the one read.
  await expectExactly(f, [...range(0, 100), ...range(1000, 1100)], 'after the rename');
  await f.stop();
});

test('a file renamed from one followed name to another (*.log) is not read twice', async () => {
  const dir = tempDir();
  const a = path.join(dir, 'a.log');
  writeFileSync(a, lines(0, 100));
  const f = startFollowing(new FileSource({ sourceId: 'file', paths: [path.join(dir, '*.log')], pollIntervalMs: 50, start: 'beginning' }));
  await expectExactly(f, range(0, 100), 'before');
  renameSync(a, path.join(dir, 'b.log'));
  appendFileSync(path.join(dir, 'b.log'), lines(100, 150)); // still written through the old descriptor
  writeFileSync(a, lines(150, 200));
  await expectExactly(f, range(0, 200), 'after the rename');
  appendFileSync(path.join(dir, 'b.log'), lines(200, 210));
  await expectExactly(f, range(0, 210), 'b.log keeps being followed');
  await f.stop();
});
