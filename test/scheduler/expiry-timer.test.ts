import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExpiryTimer } from '../../src/scheduler/expiry-timer.js';
import { systemClock } from '../../src/clock.js';

test('fires once at the armed time, not before', async () => {
  const fired: number[] = [];
  const t = new ExpiryTimer(systemClock, (now) => fired.push(now));
  const at = Date.now() + 60;
  t.arm(at);
  // "Not before" is checked on the time the callback saw, not by sleeping less than 60 ms:
  // on a loaded machine a 20 ms sleep can last longer than that.
  await sleep(100);
  assert.equal(fired.length, 1);
  assert.ok(fired[0]! >= at, `fired at ${fired[0]}, armed for ${at}`);
  await sleep(50);
  assert.equal(fired.length, 1);
  assert.equal(t.next, null);
});

test('re-arming replaces the earlier time; disarm cancels', async () => {
  const fired: number[] = [];
  const t = new ExpiryTimer(systemClock, (now) => fired.push(now));
  t.arm(Date.now() + 500);
  t.arm(Date.now() + 30);
  await sleep(80);
  assert.equal(fired.length, 1);
  t.arm(Date.now() + 30);
  t.disarm();
  await sleep(60);
  assert.equal(fired.length, 1);
});

test('a time in the past fires at once; null disarms', async () => {
  const fired: number[] = [];
  const t = new ExpiryTimer(systemClock, (now) => fired.push(now));
  t.arm(Date.now() - 1000);
  await sleep(10);
  assert.equal(fired.length, 1);
  t.arm(null);
  assert.equal(t.next, null);
});

test('a delay beyond 2^31 ms does not fire early', async () => {
  const fired: number[] = [];
  const t = new ExpiryTimer(systemClock, (now) => fired.push(now));
  t.arm(Date.now() + 40 * 24 * 3600 * 1000);
  await sleep(20);
  assert.equal(fired.length, 0);
  assert.ok(t.next !== null);
  t.disarm();
});
