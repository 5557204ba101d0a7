// Rotation while a separate writer process keeps appending: every line is delivered exactly once,
// in order. Rename (logrotate `create` and `postfix logrotate` styles) and copytruncate.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { FileSource } from '../../src/sources/index.js';
import { describeDelivery, spawnWriter, startFollowing, tempDir } from './follow-harness.js';
import { seqOf, type WriterPlan } from './rotating-writer.js';

const LINES = 6000;

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Sequence numbers of every complete line in every file of the directory. */
function linesOnDisk(dir: string): number[] {
  const seqs: number[] = [];
  for (const name of readdirSync(dir)) {
    for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n').slice(0, -1)) {
      const s = seqOf(line);
      if (s >= 0) seqs.push(s);
    }
  }
  return seqs.sort((a, b) => a - b);
}

const renameCases: { name: string; plan: Partial<WriterPlan> }[] = [
  // postlogd: renames the file, keeps writing to it briefly, then creates a new one by reopening.
  { name: 'rename, writer reopens (postfix logrotate)', plan: { createEmpty: false, linger: 30 } },
  // logrotate `create`: renames, creates the new empty file, and the writer reopens later.
  { name: 'rename + create empty, writer reopens later (logrotate create)', plan: { createEmpty: true, linger: 30 } },
  { name: 'rename with no lingering writes, fast rotations', plan: { createEmpty: false, linger: 0, rotateEvery: 300 } },
];

for (const c of renameCases) {
  test(`${c.name}: ${LINES} lines, every line exactly once, in order`, async () => {
    const dir = tempDir();
    const file = path.join(dir, 'mail.log');
    const source = new FileSource({ sourceId: 'file', paths: [file] });
    const f = startFollowing(source);
    const summary = await spawnWriter({
      path: file,
      lines: LINES,
      mode: 'rename',
      rotateEvery: 1000,
      linger: 0,
      createEmpty: false,
      gap: 0,
      burst: 10,
      splitEvery: 7,
      ...c.plan,
    });
    assert.ok(summary.rotated.length >= 5, `rotations: ${summary.rotated.length}`);
    const complete = await f.waitFor(() => f.seqs.length >= LINES, 15_000);
    await f.waitFor(() => false, 300); // give duplicates, if any, a chance to show up
    await f.stop();
    assert.ok(complete, describeDelivery(f.seqs, range(LINES)));
    assert.deepEqual(f.seqs, range(LINES), describeDelivery(f.seqs, range(LINES)));
    assert.equal(source.stats.rotations, summary.rotated.length);
  });
}

test(`copytruncate: ${LINES} lines, every line in a copy or the live file exactly once, in order`, async () => {
  const dir = tempDir();
  const file = path.join(dir, 'mail.log');
  const source = new FileSource({ sourceId: 'file', paths: [file] });
  const f = startFollowing(source);
  const summary = await spawnWriter({
    path: file,
    lines: LINES,
    mode: 'copytruncate',
    rotateEvery: 1000,
    linger: 0,
    createEmpty: false,
    gap: 5,
    burst: 10,
    splitEvery: 7,
  });
  assert.equal(summary.rotated.length, 5);
  // What the rotation tool kept: the copies plus the live file. Lines written between a copy
  // and its truncate are in neither (summary.lostByTool) and may or may not have been read.
  const kept = linesOnDisk(dir);
  assert.equal(kept.length + summary.lostByTool.length, LINES, 'the writer plan itself');
  const delivered = new Set(f.seqs);
  const complete = await f.waitFor(() => kept.every((s) => delivered.has(s)) || f.seqs.length >= LINES, 15_000);
  for (const s of f.seqs) delivered.add(s);
  await f.waitFor(() => false, 300);
  await f.stop();
  const all = new Set(f.seqs);
  assert.ok(complete && kept.every((s) => all.has(s)), describeDelivery(f.seqs, kept));
  assert.equal(all.size, f.seqs.length, `duplicates: ${describeDelivery(f.seqs, kept)}`);
  for (let i = 1; i < f.seqs.length; i++) assert.ok(f.seqs[i]! > f.seqs[i - 1]!, `out of order at ${i}`);
  for (const s of f.seqs) assert.ok(s >= 0 && s < LINES, `garbage line delivered: seq ${s}`);
  assert.equal(source.stats.truncations, 5);
});
