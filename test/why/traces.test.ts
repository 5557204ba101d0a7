// Match traces in the engine and the store: the lines a ban carries, what the store keeps for
// it across a reopen, a migration and pruning.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openStore, MIGRATIONS, migrate } from '../../src/store/index.js';
import { Jail } from '../../src/engine/jail.js';
import type { RecordedBan } from '../../src/engine/index.js';
import { TRACE_LINES, type Decision } from '../../src/events.js';
import { banLines } from '../../src/why/lines.js';
import { TraceRing } from '../../src/engine/trace-ring.js';
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

test('TraceRing: lines by seq, the oldest replaced once the ring is full', () => {
  const r = new TraceRing(4);
  for (let s = 1; s <= 6; s++) r.put(s, s * 10, 'sasl', 'auth', 0, `line ${s}`);
  assert.equal(r.get(2, 'j'), undefined);
  assert.deepEqual(r.get(5, 'j'), { time: 50, jail: 'j', kind: 'sasl', regexId: 'auth', regexIndex: 0, line: 'line 5' });
  assert.deepEqual(r.many([1, 3, 4, 6], 'j').map((m) => m.line), ['line 3', 'line 4', 'line 6']);
  // Bytes: a small buffer drops the lines whose text was overwritten, even if their slot was not.
  const b = new TraceRing(16, 64);
  b.put(1, 1, 'k', 'r', 0, 'a'.repeat(20));
  b.put(2, 2, 'k', 'r', 0, 'b'.repeat(10));
  b.put(3, 3, 'k', 'r', 0, 'c'.repeat(20));
  assert.equal(b.get(1, 'j'), undefined);
  assert.equal(b.get(2, 'j')!.line, 'b'.repeat(10));
  assert.equal(b.get(3, 'j')!.line, 'c'.repeat(20));
  const u = new TraceRing(16, 256);
  u.put(7, 1, 'k', 'r', 0, 'ünïcödé [192.0.2.1]');
  assert.equal(u.get(7, 'j')!.line, 'ünïcödé [192.0.2.1]');
  // A very long line is kept cut.
  const c = new TraceRing();
  c.put(1, 1, 'k', 'r', 0, 'x'.repeat(10_000));
  assert.equal(c.get(1, 'j')!.line.length, 2048);
  // Chains: each line links to its address's previous one; a walk stops at afterSeq, afterTime, max, or a line no longer kept.
  const d = new TraceRing(8);
  d.put(1, 10, 'k', 'r', 0, 'a1', 0, 0);
  d.put(2, 11, 'k', 'r', 0, 'b1', 0, 1);
  d.put(3, 12, 'k', 'r', 0, 'a2', 1, 2);
  d.put(4, 13, 'k', 'r', 0, 'a3', 3, 3);
  assert.deepEqual(d.chain(4, 0, 0, 10, false, 'j').map((m) => m.line), ['a1', 'a2', 'a3']);
  assert.deepEqual(d.chain(4, 0, 0, 10, true, 'j').map((m) => m.line), ['a1', 'b1', 'a2', 'a3']);
  assert.deepEqual(d.chain(4, 1, 0, 10, false, 'j').map((m) => m.line), ['a2', 'a3']);
  assert.deepEqual(d.chain(4, 0, 11, 10, false, 'j').map((m) => m.line), ['a2', 'a3']);
  assert.deepEqual(d.chain(4, 0, 0, 2, false, 'j').map((m) => m.line), ['a2', 'a3']);
  for (let s = 5; s <= 11; s++) d.put(s, 20 + s, 'k', 'r', 0, `x${s}`, 0, 0);
  assert.deepEqual(d.chain(4, 0, 0, 10, false, 'j').map((m) => m.line), ['a3']);
});

test('a ban carries the last TRACE_LINES lines since its target was last cleared; the active ban holds none', () => {
  const j = new Jail(policy({ maxretry: 3, findtime: 1000, subnet: { enabled: true, maxretry: 12, minAddresses: 2 } }));
  assert.deepEqual(see(j, '192.0.2.1', 1), []);
  see(j, '192.0.2.2', 2);
  const [ban] = see(j, '192.0.2.1', 3).concat(see(j, '192.0.2.1', 4));
  assert.equal(ban!.kind, 'address');
  assert.deepEqual(ban!.matches!.map((m) => m.line), [lineOf('192.0.2.1', 1), lineOf('192.0.2.1', 3), lineOf('192.0.2.1', 4)]);
  assert.deepEqual(ban!.kinds, ['sasl']);
  assert.equal((j.activeBans()[0] as RecordedBan).matches, undefined);
  // The network: 12 failures of 192.0.2.0/24 (the banned address's, counted before its ban, too).
  let net: RecordedBan | undefined;
  for (let t = 5; net === undefined && t < 40; t++) net = see(j, `192.0.2.${10 + (t % 3)}`, t).find((b) => b.kind === 'network');
  assert.ok(net);
  assert.equal(net.failures, 12);
  assert.equal(net.matches!.length, TRACE_LINES);
  // Failures 1..12 all count for the network: the last ten of them, at times 3..12 (the i-th failure at time i).
  assert.deepEqual(net.matches!.map((m) => m.time), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  // A failing address's lines, from memory; none once banned (cleared).
  see(j, '198.51.100.1', 20);
  assert.deepEqual(j.linesOf(failure('198.51.100.1', 0).ip).map((m) => m.line), [lineOf('198.51.100.1', 20)]);
  assert.deepEqual(j.linesOf(failure('192.0.2.1', 0).ip), []);
  // Without a line, a ban carries nothing (callers that do not trace).
  const k = new Jail(policy());
  const d = [1, 2, 3].map((t) => k.observe(failure('198.51.100.1', t))).at(-1)!;
  assert.equal(d.type === 'ban' && (d.bans[0] as RecordedBan).matches, undefined);
});

test('the store keeps a ban\'s lines with it across a reopen', () => {
  const file = tempDb();
  let store = openStore(file);
  const j = new Jail(policy({ maxretry: 3, findtime: 1000 }));
  see(j, '192.0.2.1', 10);
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
  store.close();
});

test('lines of lifted bans are pruned; an active ban keeps its lines', () => {
  const store = openStore(':memory:');
  const j = new Jail(policy({ maxretry: 2, findtime: 10, bantime: 1000 }));
  see(j, '192.0.2.1', 1);
  const [b1] = see(j, '192.0.2.1', 2);
  see(j, '192.0.2.2', 3);
  const [b2] = see(j, '192.0.2.2', 4);
  store.commit({ jails: [j.takeChanges()] });
  see(j, '198.51.100.9', 500);
  store.commit({ jails: [j.takeChanges()] });
  assert.equal(banLines(store, b1!).length, 2);
  j.unban(target('192.0.2.1/32'), 501);
  store.commit({ jails: [j.takeChanges()] });
  assert.equal(store.pruneBanLines(), 2);
  assert.deepEqual(banLines(store, b1!), []);
  assert.equal(banLines(store, b2!).length, 2);
  store.close();
});

test('schema 4 upgrades a version 2 database in place, bans and failures kept', () => {
  const file = tempDb();
  const db = new BetterSqlite3(file);
  migrate(db, file, MIGRATIONS.filter((m) => m.version <= 2));
  db.prepare("INSERT INTO jails (id, name, clock, seq) VALUES (1, 'test', 5, 2)").run();
  db.prepare("INSERT INTO failures (jail_id, seq, time, address, kind) VALUES (1, 1, 4, '192.0.2.1', 'sasl'), (1, 2, 5, '192.0.2.1', 'sasl')").run();
  db.close();
  const store = openStore(file);
  assert.equal(store.schemaVersion, 4);
  const p = policy({ maxretry: 3, findtime: 1000 });
  const j = Jail.restore(p, store.loadJail('test', { findtime: p.findtime, remember: p.increment.remember }));
  // Failures restored from the store have no line in memory: the ban carries the one it has.
  const [ban] = see(j, '192.0.2.1', 6);
  assert.equal(ban!.failures, 3);
  store.commit({ jails: [j.takeChanges()] });
  assert.deepEqual(banLines(store, ban!).map((l) => l.time), [6]);
  store.close();
});
