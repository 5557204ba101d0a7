// Match traces in the engine and the store: which failures a ban names, what the store keeps
// for it and for a failing address, across a reopen, a migration and pruning.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openStore, MIGRATIONS, migrate } from '../../src/store/index.js';
import { Jail } from '../../src/engine/jail.js';
import { WindowQueue } from '../../src/engine/window-queue.js';
import type { RecordedBan } from '../../src/engine/index.js';
import { TRACE_LINES, type Decision } from '../../src/events.js';
import { banLines, failingLines } from '../../src/why/lines.js';
import { failure, policy, target } from '../engine/helpers.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempDb(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-traces-'));
  dirs.push(dir);
  return path.join(dir, 'pban.sqlite');
}

const lineOf = (ip: string, t: number): string => `t=${t} unknown[${ip}]: SASL LOGIN authentication failed`;

/** Observes with a line, as the daemon does; returns the bans made. */
function see(j: Jail, ip: string, t: number): RecordedBan[] {
  const d: Decision = j.observe(failure(ip, t), Infinity, lineOf(ip, t), 2, 'sasl-auth');
  return d.type === 'ban' ? (d.bans as RecordedBan[]) : [];
}

test('WindowQueue.lastSeqs: the newest entries of one slot after a seq, oldest first, bounded', () => {
  const q = new WindowQueue();
  for (let s = 1; s <= 30; s++) q.insert(s, s, s % 3, s % 2);
  assert.deepEqual(q.lastSeqs(false, 0, 0, 4, 1000), [21, 24, 27, 30]);
  assert.deepEqual(q.lastSeqs(false, 0, 22, 10, 1000), [24, 27, 30]);
  assert.deepEqual(q.lastSeqs(true, 1, 0, 3, 1000), [25, 27, 29]);
  // Looks at no more than `limit` entries from the newest back.
  assert.deepEqual(q.lastSeqs(false, 1, 0, 10, 4), [28]);
});

test('a ban names the failures behind it: the last TRACE_LINES since the target was last cleared', () => {
  const j = new Jail(policy({ maxretry: 3, findtime: 1000, subnet: { enabled: true, maxretry: 12, minAddresses: 2 } }));
  assert.deepEqual(see(j, '192.0.2.1', 1), []);
  see(j, '192.0.2.2', 2);
  const [ban] = see(j, '192.0.2.1', 3).concat(see(j, '192.0.2.1', 4));
  assert.equal(ban!.kind, 'address');
  assert.deepEqual(ban!.traceSeqs, [1, 3, 4]);
  // The network: 12 failures of 192.0.2.0/24 (the banned address's included, counted before its ban).
  let net: RecordedBan | undefined;
  for (let t = 5; net === undefined && t < 40; t++) net = see(j, `192.0.2.${10 + (t % 3)}`, t).find((b) => b.kind === 'network');
  assert.ok(net);
  assert.equal(net.failures, 12);
  assert.equal(net.traceSeqs!.length, TRACE_LINES);
  // Seqs 1..12 all count for the network: the last ten of them.
  assert.deepEqual(net.traceSeqs, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  // Without a line, a ban names nothing (callers that do not trace).
  const k = new Jail(policy());
  const d = [1, 2, 3].map((t) => k.observe(failure('198.51.100.1', t))).at(-1)!;
  assert.equal(d.type === 'ban' && (d.bans[0] as RecordedBan).traceSeqs, undefined);
});

test('the store keeps a ban\'s lines with it, and a failing address\'s lines with its failures, across a reopen', () => {
  const file = tempDb();
  let store = openStore(file);
  const p = policy({ maxretry: 3, findtime: 1000 });
  const j = new Jail(p);
  see(j, '192.0.2.1', 10);
  see(j, '192.0.2.7', 11);
  store.commit({ jails: [j.takeChanges()] });
  see(j, '192.0.2.1', 12);
  const [ban] = see(j, '192.0.2.1', 13);
  store.commit({ jails: [j.takeChanges()] });
  store.close();
  store = openStore(file);
  const lines = banLines(store, ban!);
  assert.deepEqual(lines.map((l) => l.line), [lineOf('192.0.2.1', 10), lineOf('192.0.2.1', 12), lineOf('192.0.2.1', 13)]);
  assert.deepEqual(lines[0], { time: 10, jail: 'test', kind: 'sasl', regexId: 'sasl-auth', regexIndex: 2, line: lineOf('192.0.2.1', 10) });
  // A manual ban has no lines.
  assert.deepEqual(banLines(store, { ...ban!, kind: 'manual' }), []);
  // The failing address: its failure in the window, none once the window moved past it.
  assert.deepEqual(failingLines(store, 'test', target('192.0.2.7/32'), 13, p.findtime).map((l) => l.time), [11]);
  assert.deepEqual(failingLines(store, 'test', target('192.0.2.7/32'), 2000, p.findtime), []);
  // The banned address's cleared failures are not "failing" lines.
  assert.deepEqual(failingLines(store, 'test', target('192.0.2.1/32'), 13, p.findtime), []);
  store.close();
});

test('lines of lifted bans are pruned; an active ban keeps its lines after its failures left the window', () => {
  const store = openStore(':memory:');
  const p = policy({ maxretry: 2, findtime: 10, bantime: 1000 });
  const j = new Jail(p);
  see(j, '192.0.2.1', 1);
  const [b1] = see(j, '192.0.2.1', 2);
  see(j, '192.0.2.2', 3);
  const [b2] = see(j, '192.0.2.2', 4);
  store.commit({ jails: [j.takeChanges()] });
  // Much later: the failures left the window (pruned), the bans stand.
  see(j, '198.51.100.9', 500);
  store.commit({ jails: [j.takeChanges()] });
  assert.equal(store.totals()[0]!.storedFailures, 1);
  assert.equal(banLines(store, b1!).length, 2);
  j.unban(target('192.0.2.1/32'), 501);
  store.commit({ jails: [j.takeChanges()] });
  assert.equal(store.pruneBanLines(), 2);
  assert.deepEqual(banLines(store, b1!), []);
  assert.equal(banLines(store, b2!).length, 2);
  store.close();
});

test('schema 3 upgrades a version 2 database in place: failures stored before have no lines and are skipped', () => {
  const file = tempDb();
  const db = new BetterSqlite3(file);
  migrate(db, file, MIGRATIONS.filter((m) => m.version <= 2));
  db.prepare("INSERT INTO jails (id, name, clock, seq) VALUES (1, 'test', 5, 2)").run();
  db.prepare("INSERT INTO failures (jail_id, seq, time, address, kind) VALUES (1, 1, 4, '192.0.2.1', 'sasl'), (1, 2, 5, '192.0.2.1', 'sasl')").run();
  db.close();
  const store = openStore(file);
  assert.equal(store.schemaVersion, 3);
  const p = policy({ maxretry: 3, findtime: 1000 });
  const j = Jail.restore(p, store.loadJail('test', { findtime: p.findtime, remember: p.increment.remember }));
  const [ban] = see(j, '192.0.2.1', 6);
  assert.deepEqual(ban!.traceSeqs, [1, 2, 3]);
  store.commit({ jails: [j.takeChanges()] });
  assert.deepEqual(banLines(store, ban!).map((l) => l.time), [6]);
  store.close();
});
