import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import BetterSqlite3 from 'better-sqlite3';
import { openStore, MIGRATIONS, SCHEMA_VERSION, migrate } from '../../src/store/index.js';
import { Jail } from '../../src/engine/jail.js';
import { StoreError } from '../../src/errors.js';
import type { SourcePosition } from '../../src/events.js';
import { failure, policy, target } from '../engine/helpers.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempDb(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-store-'));
  dirs.push(dir);
  return path.join(dir, 'pban.sqlite');
}

const pos = (offset: number): SourcePosition => ({ sourceId: '/var/log/mail.log', path: '/var/log/mail.log', inode: 42, offset, firstLineHash: 'abc' });

test('a new database is in WAL mode at the current schema version', () => {
  const file = tempDb();
  const store = openStore(file);
  assert.equal(store.schemaVersion, SCHEMA_VERSION);
  store.commit({ jails: [], positions: [pos(10)] });
  assert.ok(fs.existsSync(`${file}-wal`), 'WAL file exists while open');
  store.close();
  const header = fs.readFileSync(file).subarray(18, 20);
  assert.deepEqual([...header], [2, 2], 'file format bytes say WAL');
});

test('reopening keeps bans, history, failures, positions and counters', () => {
  const file = tempDb();
  const p = policy({ maxretry: 2, bantime: 100 });
  const jail = new Jail(p);
  jail.observe(failure('192.0.2.1', 0));
  jail.observe(failure('192.0.2.1', 1)); // ban
  jail.observe(failure('192.0.2.2', 2));
  jail.ban(target('198.51.100.0/24'), 3, 50);
  let store = openStore(file);
  store.commit({ jails: [jail.takeChanges()], positions: [pos(300)] });
  store.close();

  store = openStore(file);
  assert.deepEqual(store.activeBans('test').map((b) => [b.target.addr, b.target.prefix, b.kind, b.until]), [
    ['192.0.2.1', 32, 'address', 101],
    ['198.51.100.0', 24, 'manual', 53],
  ]);
  assert.deepEqual(store.activeBans('other'), []);
  assert.equal(store.activeBans().length, 2);
  assert.deepEqual(store.position('/var/log/mail.log'), pos(300));
  assert.equal(store.position('/nope'), null);
  assert.deepEqual(store.positions(), [pos(300)]);
  assert.deepEqual(store.totals(), [{ jail: 'test', clock: 2, totalFailed: 3, totalBanned: 2, activeBans: 2, storedFailures: 3 }]);
  assert.equal(store.banCount('test', target('192.0.2.1/32')), 1);
  const snap = store.loadJail('test', { findtime: p.findtime, remember: p.increment.remember });
  assert.deepEqual(snap.failures.address, ['192.0.2.1', '192.0.2.1', '192.0.2.2']);
  const again = Jail.restore(p, snap);
  assert.deepEqual(again.status(), jail.status());
  store.close();
});

test('lifts are recorded with their reason and time; history keeps lifted bans', () => {
  const file = tempDb();
  const store = openStore(file);
  const jail = new Jail(policy({ maxretry: 1, bantime: 10, increment: { enabled: true } }));
  jail.observe(failure('192.0.2.1', 0));
  store.commit({ jails: [jail.takeChanges()] });
  jail.expire(10);
  jail.observe(failure('192.0.2.1', 12));
  jail.unban(target('192.0.2.1/32'), 13);
  store.commit({ jails: [jail.takeChanges()] });
  const h = store.banHistory('test', target('192.0.2.1/32'));
  assert.deepEqual(h.map((b) => [b.created, b.until, b.banNumber, b.active, b.liftReason, b.liftedAt]), [
    [0, 10, 1, false, 'expired', 10],
    [12, 32, 2, false, 'manual', 13],
  ]);
  assert.deepEqual(store.activeBans(), []);
  assert.equal(store.banCount('test', target('192.0.2.1/32')), 0, 'a manual lift resets the count');
  // Reopened and restored, the next ban of the address is its first again (not doubled).
  const again = Jail.restore(jail.policy, store.loadJail('test', { findtime: jail.policy.findtime, remember: jail.policy.increment.remember }));
  const d = again.observe(failure('192.0.2.1', 14));
  assert.ok(d.type === 'ban');
  assert.deepEqual([d.bans[0]!.banNumber, d.bans[0]!.until], [1, 24]);
  store.commit({ jails: [again.takeChanges()] });
  assert.equal(store.banCount('test', target('192.0.2.1/32')), 1);
  store.close();
});

test('activeBanSteps reads exactly the bans a restored jail holds active, in slices', () => {
  const file = tempDb();
  const p = policy({ maxretry: 1, bantime: 10, increment: { enabled: true } });
  const jail = new Jail(p);
  const other = new Jail(policy({ name: 'other', maxretry: 1 }));
  jail.observe(failure('192.0.2.1', 0));
  jail.expire(10); // lifted: history only
  jail.observe(failure('192.0.2.1', 12)); // its second ban, active
  jail.observe(failure('2001:db8::7', 13));
  jail.ban(target('198.51.100.0/24'), 14, null); // permanent
  // more than one slice of rows (LOAD_STEP is 5,000)
  for (let i = 0; i < 5200; i++) jail.ban(target(`203.0.${i >> 8}.${i & 255}/32`), 15, 1000);
  other.observe(failure('192.0.2.99', 0));
  const store = openStore(file);
  store.commit({ jails: [jail.takeChanges(), other.takeChanges()] });
  const steps = store.activeBanSteps('test');
  let slices = 0;
  let r = steps.next();
  for (; !r.done; r = steps.next()) slices++;
  assert.equal(slices, 1, 'it yields once per 5,000 rows');
  const restored = Jail.restore(p, store.loadJail('test', { findtime: p.findtime, remember: p.increment.remember }));
  const fields = (b: { target: { addr: string; prefix: number; family: number }; jail: string; kind: string; created: number; until: number | null; failures: number; banNumber: number }): string =>
    JSON.stringify([b.target.addr, b.target.prefix, b.target.family, b.jail, b.kind, b.created, b.until, b.failures, b.banNumber]);
  assert.equal(r.value.length, 5203);
  assert.deepEqual(r.value.map(fields).sort(), restored.activeBans().map(fields).sort());
  assert.ok(r.value.some((b) => b.target.addr === '192.0.2.1' && b.banNumber === 2), 'the active second ban, not the lifted first');
  const none = store.activeBanSteps('nope').next();
  assert.ok(none.done);
  assert.deepEqual(none.value, []);
  store.close();
});

test('a failed commit writes nothing: failures, bans and positions roll back together', () => {
  const file = tempDb();
  const store = openStore(file);
  store.commit({ jails: [], positions: [pos(100)] });
  const jail = new Jail(policy({ maxretry: 1 }));
  jail.observe(failure('192.0.2.1', 0));
  const c = jail.takeChanges();
  const bogus = { ...c, lifts: [{ ban: { ...c.bans[0]!, created: 999 }, reason: 'manual' as const, time: 1 }] };
  assert.throws(() => store.commit({ jails: [bogus], positions: [pos(200)] }), (e: unknown) => e instanceof StoreError && e.code === 'store.unknownBan');
  assert.deepEqual(store.totals(), [], 'no jail row, no failure, no ban');
  assert.deepEqual(store.activeBans(), []);
  assert.deepEqual(store.position(pos(0).sourceId), pos(100));
  store.close();
});

test('a crash before commit loses exactly the uncommitted batch', () => {
  const file = tempDb();
  const child = new URL('./crash-child.js', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [child, file], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', `child should die by SIGKILL: ${r.stderr}`);
  assert.ok(fs.existsSync(`${file}-wal`), 'the WAL is left behind as after a real crash');
  const store = openStore(file);
  assert.deepEqual(store.position('/var/log/mail.log')?.offset, 1000);
  const [t] = store.totals();
  assert.deepEqual([t?.totalFailed, t?.totalBanned, t?.storedFailures], [10, 0, 10]);
  assert.deepEqual(store.activeBans(), []);
  store.close();
});

test('pruning drops failures that left every window', () => {
  const file = tempDb();
  const store = openStore(file);
  const jail = new Jail(policy({ findtime: 10, maxretry: 100 }));
  for (let t = 0; t < 1000; t++) {
    jail.observe(failure(`192.0.2.${t % 200}`, t));
    if (t % 100 === 99) store.commit({ jails: [jail.takeChanges()] });
  }
  assert.equal(store.totals()[0]?.storedFailures, 10, 'only the last findtime remains');
  store.close();
});

test('a database from a newer pban is refused with a clear message', () => {
  const file = tempDb();
  openStore(file).close();
  const buf = fs.readFileSync(file);
  buf.writeUInt32BE(SCHEMA_VERSION + 1, 60); // user_version lives at byte 60 of the header
  fs.writeFileSync(file, buf);
  assert.throws(() => openStore(file), {
    code: 'store.tooNew',
    message: `${file}: database schema version ${SCHEMA_VERSION + 1} is newer than this pban supports (${SCHEMA_VERSION}); upgrade pban`,
  });
});

test('a file that is not a database is a clear error', () => {
  const file = tempDb();
  fs.writeFileSync(file, 'this is not sqlite, just text long enough to fill a header page'.repeat(20));
  assert.throws(() => openStore(file), (e: unknown) => e instanceof StoreError && e.message.startsWith(`${file}: `));
});

test('migrations run in order from an older version and keep the data', () => {
  const file = tempDb();
  const store = openStore(file);
  store.commit({ jails: [], positions: [pos(7)] });
  store.close();
  const v2 = { version: SCHEMA_VERSION + 1, up: (db: BetterSqlite3.Database) => db.exec('ALTER TABLE positions ADD COLUMN note TEXT') };
  const db = new BetterSqlite3(file);
  assert.equal(migrate(db, file, [...MIGRATIONS, v2]), SCHEMA_VERSION + 1);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
  assert.deepEqual(db.prepare('SELECT byte_offset, note FROM positions').get(), { byte_offset: 7, note: null });
  // Running again is a no-op.
  assert.equal(migrate(db, file, [...MIGRATIONS, v2]), SCHEMA_VERSION + 1);
  db.close();
});

test('a read-only open reads without writing', () => {
  const file = tempDb();
  const store = openStore(file);
  store.commit({ jails: [], positions: [pos(5)] });
  store.close();
  const ro = openStore(file, { readonly: true });
  assert.deepEqual(ro.positions(), [pos(5)]);
  ro.close();
});

test('pruneHistory drops only lifted bans that no rebuild would load, and the rebuild is unchanged', () => {
  const file = tempDb();
  const store = openStore(file);
  const p = policy({ findtime: 10, maxretry: 1, bantime: 5, increment: { enabled: true, remember: 100 } });
  const jail = new Jail(p);
  // 300 addresses banned and lifted over t = 0..299, then a pending failure at the end.
  for (let t = 0; t < 300; t++) {
    jail.observe(failure(`192.0.2.${t % 250}`, t));
    jail.expire(t);
    if (t % 50 === 49) store.commit({ jails: [jail.takeChanges()] });
  }
  const p2 = policy({ findtime: 10, maxretry: 2, bantime: 5, increment: { enabled: true, remember: 100 } });
  store.commit({ jails: [jail.takeChanges()] });
  const before = store.loadJail('test', { findtime: p.findtime, remember: p.increment.remember });
  const removed = store.pruneHistory('test', p.increment.remember);
  assert.ok(removed > 150, `pruned ${removed}`);
  const after = store.loadJail('test', { findtime: p.findtime, remember: p.increment.remember });
  assert.deepEqual(after, before);
  // The rebuilt jail decides as the original would: ban numbers still count the remembered bans.
  const a = Jail.restore(p2, before);
  const b = Jail.restore(p2, after);
  for (const ip of ['192.0.2.10', '192.0.2.249', '192.0.2.7']) {
    for (const t of [301, 302]) {
      assert.deepEqual(b.observe(failure(ip, t)), a.observe(failure(ip, t)));
    }
  }
  // A permanent memory never prunes.
  assert.equal(store.pruneHistory('test', Number.MAX_SAFE_INTEGER), 0);
  store.close();
});
