// The real logrotate rotates the file while a writer process appends:
// `create` with a postrotate SIGHUP that makes the writer reopen, and `copytruncate`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, test } from 'node:test';
import { FileSource } from '../../src/sources/index.js';
import { describeDelivery, startFollowing, tempDir } from './follow-harness.js';
import { seqOf, startWriter, type WriterPlan } from './rotating-writer.js';
import { requireCommands } from '../helpers/system.js';

const LINES = 6000;

before(() => requireCommands(['logrotate']));

function linesOnDisk(dir: string, base: string): number[] {
  const seqs: number[] = [];
  for (const name of readdirSync(dir).filter((n) => n.startsWith(base))) {
    for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n').slice(0, -1)) if (seqOf(line) >= 0) seqs.push(seqOf(line));
  }
  return seqs.sort((a, b) => a - b);
}

async function rotateWhileWriting(style: 'create' | 'copytruncate'): Promise<{ seqs: number[]; kept: number[]; rotations: number }> {
  const dir = tempDir();
  const file = path.join(dir, 'mail.log');
  writeFileSync(file, '');
  const source = new FileSource({ sourceId: 'file', paths: [file] });
  const f = startFollowing(source);
  const plan: WriterPlan = {
    path: file,
    lines: LINES,
    mode: 'none',
    rotateEvery: 0,
    linger: 0,
    createEmpty: false,
    gap: 0,
    burst: 4,
    splitEvery: 7,
    reopenOnHup: style === 'create',
  };
  const writer = startWriter(plan);
  const conf = path.join(dir, 'logrotate.conf');
  const body =
    style === 'create'
      ? `create\n  postrotate\n    kill -HUP ${writer.pid}\n  endscript`
      : 'copytruncate';
  writeFileSync(conf, `${file} {\n  rotate 20\n  nocompress\n  missingok\n  ${body}\n}\n`);
  // Rotate four times while the writer runs. Paced by the writer, not by a fixed number of
  // ticks: on a loaded machine the writer can take a second to start, and a rotation of an
  // empty file tests nothing.
  let rotations = 0;
  let finished = false;
  void writer.done.then(() => (finished = true), () => (finished = true));
  while (!finished && rotations < 4) {
    // On a loaded machine the writer process can take seconds to start or to write again after
    // a rotation: wait for its lines rather than skip a rotation (bounded; not once it is done).
    const deadline = Date.now() + 15_000;
    while (statSync(file).size === 0 && !finished && Date.now() < deadline) await sleep(25);
    await sleep(250); // lines arrive meanwhile, and the follower (this process) reads some
    if (statSync(file).size === 0) continue;
    execFileSync('logrotate', ['-f', '-s', path.join(dir, 'state'), conf]);
    rotations++;
  }
  await writer.done;
  const kept = linesOnDisk(dir, 'mail.log');
  const all = new Set<number>();
  await f.waitFor(() => {
    for (const s of f.seqs) all.add(s);
    return kept.every((s) => all.has(s));
  }, 15_000);
  await f.waitFor(() => false, 300);
  await f.stop();
  // copytruncate can cut a line in two (copied half, truncated half): the follower delivers the
  // fragment it finds in the file as a line; it is not one of the writer's lines.
  return { seqs: f.seqs.filter((s) => s >= 0), kept, rotations };
}

test('real logrotate `create` + postrotate HUP while lines arrive: every line exactly once, in order', async () => {
  const { seqs, kept, rotations } = await rotateWhileWriting('create');
  assert.ok(rotations >= 3, `rotations: ${rotations}`);
  assert.equal(kept.length, LINES);
  assert.deepEqual(seqs, kept, describeDelivery(seqs, kept));
});

test('real logrotate `copytruncate` while lines arrive: every line it kept, exactly once, in order', async () => {
  const { seqs, kept, rotations } = await rotateWhileWriting('copytruncate');
  assert.ok(rotations >= 3, `rotations: ${rotations}`);
  const got = new Set(seqs);
  assert.ok(kept.every((s) => got.has(s)), describeDelivery(seqs, kept));
  assert.equal(got.size, seqs.length, 'no duplicates');
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `out of order at ${i}`);
  assert.ok(seqs.every((s) => s >= 0 && s < LINES), 'no garbled lines');
});
