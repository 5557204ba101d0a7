import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

const valid: [unknown, number | null][] = [
  ['90s', 90 * S],
  ['10m', 10 * M],
  ['1h', H],
  ['2d', 2 * D],
  ['1w', 7 * D],
  ['1h30m', H + 30 * M],
  ['1h 30m', H + 30 * M],
  ['1d12h', D + 12 * H],
  ['1.5h', 1.5 * H],
  ['10 minutes', 10 * M],
  ['1 week', 7 * D],
  ['500ms', 500],
  ['  10M ', 10 * M],
  [600, 600 * S],
  ['600', 600 * S],
  [-1, null],
  ['-1', null],
];
for (const [input, expected] of valid) {
  test(`duration ${JSON.stringify(input)} = ${expected}`, () => {
    assert.equal(parseDuration(input), expected);
  });
}

const invalid: [unknown, RegExp][] = [
  ['10x', /unknown unit "x"/],
  ['1h30', /invalid duration "1h30"/],
  ['', /invalid duration ""/],
  ['abc', /invalid duration "abc"/],
  ['0s', /must be longer than zero/],
  [0, /invalid duration 0/],
  [-2, /invalid duration -2/],
  ['-5m', /invalid duration "-5m"/],
  [true, /expected a duration, got a boolean/],
  [['1h'], /expected a duration, got an array/],
];
for (const [input, message] of invalid) {
  test(`duration ${JSON.stringify(input)} is rejected`, () => {
    const r = parseDuration(input);
    assert.ok(r !== null && typeof r === 'object', `expected an error for ${JSON.stringify(input)}`);
    assert.match(r.error, message);
    assert.match(r.error, /e\.g\. 90s, 10m/);
  });
}

test('formatDuration renders compact units and permanent', () => {
  assert.equal(formatDuration(H + 30 * M), '1h30m');
  assert.equal(formatDuration(7 * D + D + 90 * S + 5), '1w1d1m30s5ms');
  assert.equal(formatDuration(null), 'permanent');
  assert.equal(formatDuration(0), '0s');
});

test('durations are bounded at 100 years: a longer one is refused with the limit', () => {
  assert.equal(parseDuration('36500d'), 36_500 * D);
  for (const input of ['36501d', '5300w', 3_153_600_001, '3153600001', '1e400']) {
    const r = parseDuration(input);
    assert.ok(r !== null && typeof r === 'object', `expected an error for ${JSON.stringify(input)}`);
    if (input !== '1e400') assert.match(r.error, /longer than the limit of 5214w2d \(100 years\); use -1 for permanent/);
  }
});
