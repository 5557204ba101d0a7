// StoreGuard (src/store-guard.ts) on a real full disk: a failed commit stores nothing, rebuilds
// memory from the store, reports the store failing and paces retries; room again heals it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStateStore } from '../../src/store/index.js';
import { Jail } from '../../src/engine/jail.js';
import { StoreGuard, STORE_RETRY_MS, type GuardedJail } from '../../src/store-guard.js';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import type { Address } from '../../src/events.js';
import { failure, policy } from '../engine/helpers.js';
import { mountSmallDisk, type SmallDisk } from './full-disk.js';

const cleanup: (() => void)[] = [];
after(() => cleanup.reverse().forEach((f) => f()));

function logSink(): { logger: ReturnType<typeof createLogger>; events: () => string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', pretty: false, destination: { write: (s: string) => void lines.push(s) } });
  return { logger, events: () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg) };
}

function smallDisk(): SmallDisk {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-guard-'));
  const disk = mountSmallDisk(dir, 512);
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  cleanup.push(() => disk.unmount());
  return disk;
}

test('a commit that fails on a full disk rebuilds memory from the store; the same lines count once when there is room', () => {
  const disk = smallDisk();
  const { store } = openStateStore(path.join(disk.dir, 'pban.sqlite'));
  const clock = new ManualClock(1_000_000);
  const { logger, events } = logSink();
  const guard = new StoreGuard(store, { logger, clock });
  const pol = policy({ name: 'mail', maxretry: 5, findtime: 600_000 });
  const j: GuardedJail = { cfg: { name: 'mail', policy: pol }, jail: new Jail(pol) };
  const A = '198.51.100.3' as Address;

  j.jail.observe(failure(A, 1));
  assert.equal(guard.commit([j]), true);
  assert.deepEqual(guard.health(), { path: store.file, ok: true, lastError: null, lastErrorAt: null });

  disk.fill();
  // A batch of three more failures of A (many addresses, so the pages do not fit in what is left).
  const batch = (): void => {
    for (let i = 0; i < 3; i++) j.jail.observe(failure(A, 2 + i));
    for (let i = 0; i < 3000; i++) j.jail.observe(failure(`203.0.113.${i % 250}` as Address, 5 + i / 1000));
  };
  batch();
  assert.equal(j.jail.failuresOf(A), 4);
  const before = j.jail;
  assert.equal(guard.commit([j]), false);
  assert.notEqual(j.jail, before, 'the jail was rebuilt');
  assert.equal(j.jail.failuresOf(A), 1, 'memory is what the store has: the batch is forgotten');
  const h = guard.health();
  assert.equal(h.ok, false);
  assert.match(h.lastError ?? '', /full/i);
  assert.equal(h.lastErrorAt, clock.now());
  assert.ok(events().includes('store.commitFailed') && events().includes('store.memoryRebuilt'));
  // The expiry timer is paced: never sooner than the retry delay after a failure.
  assert.ok(guard.retryDelayMs() >= STORE_RETRY_MS);
  assert.equal(guard.holdUntil(clock.now() - 5000), clock.now() + guard.retryDelayMs());
  assert.equal(guard.holdUntil(null), null);

  // Retried while still full: fails the same way, logged once at error level.
  batch();
  assert.equal(guard.commit([j]), false);
  assert.equal(events().filter((e) => e === 'store.commitFailed').length, 2, 'one error, then a debug record');

  disk.clear();
  clock.advance(1000);
  // A commit of a source position alone stores, but proves nothing about what was refused
  // (on a full disk SQLite can still rewrite WAL pages it has): the store stays reported failing.
  const position = { sourceId: 'file:/var/log/mail.log', path: '/var/log/mail.log', inode: 7, offset: 120, firstLineHash: 'h' };
  assert.equal(guard.commit([j], [position]), true);
  assert.equal(guard.health().ok, false, 'a position alone does not heal it');
  assert.ok(!events().includes('store.recovered'));
  batch(); // the source reads the batch again
  assert.equal(guard.commit([j], [{ ...position, offset: 4000 }]), true);
  assert.equal(j.jail.failuresOf(A), 4, 'counted once');
  assert.equal(guard.health().ok, true);
  assert.ok(events().includes('store.recovered'));
  assert.equal(guard.holdUntil(clock.now() - 5000), clock.now() - 5000);
  const reread = Jail.restore(pol, store.loadJail('mail', { findtime: pol.findtime, remember: pol.increment.remember }));
  assert.equal(reread.failuresOf(A), 4);
  store.close();
});
