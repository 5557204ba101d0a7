// The pace sizes a backlog's batches by their time: small while the path is cold or the machine
// slow, growing (at most doubling) while batches stay fast, never outside [minLines, maxLines].
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PACE_DEFAULTS, Pace } from '../../src/sources/pace.js';

const opts = { targetMs: 10, minLines: 50, maxLines: 1000 };

test('starts at the minimum and doubles while full batches take under the target, up to the maximum', () => {
  const p = new Pace(opts);
  const seen: number[] = [p.lines];
  for (let i = 0; i < 8; i++) {
    p.took(p.lines, 1); // 1 ms: far under the target
    seen.push(p.lines);
  }
  assert.deepEqual(seen, [50, 100, 200, 400, 800, 1000, 1000, 1000, 1000]);
});

test('grows only as far as the measured cost per line fits the target', () => {
  const p = new Pace(opts);
  p.took(50, 8); // 0.16 ms per line: 62 lines fit in 10 ms
  assert.equal(p.lines, 62);
});

test('a slow batch shrinks the next to what would have fitted, never below the minimum', () => {
  const p = new Pace(opts);
  for (let i = 0; i < 6; i++) p.took(p.lines, 1);
  assert.equal(p.lines, 1000);
  p.took(1000, 40); // a cold path or a loaded machine: 4x over
  assert.equal(p.lines, 250);
  p.took(250, 500); // a stall far beyond: the floor holds
  assert.equal(p.lines, 50);
});

test('a trickle of short fast batches (a quiet log) says nothing and leaves the size alone', () => {
  const p = new Pace(opts);
  for (let i = 0; i < 4; i++) p.took(p.lines, 1);
  assert.equal(p.lines, 800);
  for (let i = 0; i < 20; i++) p.took(3, 0.2);
  assert.equal(p.lines, 800);
  p.took(0, 50); // an empty batch (only the position moved) neither
  assert.equal(p.lines, 800);
});

test('a batch measured at 0 ms grows by doubling, not to infinity', () => {
  const p = new Pace(opts);
  p.took(50, 0);
  assert.equal(p.lines, 100);
});

test('the defaults aim at a tenth of the 100 ms a status request may wait', () => {
  assert.ok(PACE_DEFAULTS.targetMs * 2 <= 100 / 4, 'two batches can pass between two polls of the socket; both fit well inside 100 ms');
  assert.throws(() => new Pace({ targetMs: 10, minLines: 0, maxLines: 10 }), RangeError);
  assert.throws(() => new Pace({ targetMs: 10, minLines: 20, maxLines: 10 }), RangeError);
});
