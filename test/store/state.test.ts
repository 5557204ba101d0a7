// The daemon's database on disk: private modes, the identity marker, and a start that refuses a
// database that is not the state pban had (src/store/state.ts), plus the running file check.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { markerPath, openStateStore, openStore, readMarker, rescuePath } from '../../src/store/index.js';
import { Jail } from '../../src/engine/jail.js';
import { StoreError } from '../../src/errors.js';
import { failure, policy } from '../engine/helpers.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-state-'));
  dirs.push(dir);
  return dir;
}

const mode = (f: string): string => (fs.statSync(f).mode & 0o777).toString(8);

/** Opens, bans 192.0.2.1 in jail "mail", closes: a database that holds state. */
function withState(db: string): string {
  const { store } = openStateStore(db);
  const jail = new Jail(policy({ name: 'mail', maxretry: 1 }));
  jail.observe(failure('192.0.2.1', 0));
  store.commit({ jails: [jail.takeChanges()] });
  const id = store.storeId!;
  store.close();
  return id;
}

const refusal = (code: string, re: RegExp) => (e: unknown) => e instanceof StoreError && e.code === code && re.test(e.message);

test('the state directory is created 0700 and the database, its -wal and -shm are 0600 whatever the umask', () => {
  const db = path.join(tempDir(), 'state', 'pban.sqlite');
  const old = process.umask(0o022);
  try {
    const { store } = openStateStore(db);
    const jail = new Jail(policy({ name: 'mail' }));
    jail.observe(failure('192.0.2.1', 0));
    store.commit({ jails: [jail.takeChanges()] });
    assert.equal(mode(path.dirname(db)), '700');
    for (const f of [db, `${db}-wal`, `${db}-shm`, markerPath(db)]) assert.equal(mode(f), '600', f);
    store.close();
  } finally {
    process.umask(old);
  }
});

test('an existing world-readable database is tightened, and a directory of its own is made 0700', () => {
  const dir = path.join(tempDir(), 'state');
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  const db = path.join(dir, 'pban.sqlite');
  const old = process.umask(0o022);
  try {
    // What an older pban left: 0644 files in a 0755 directory.
    const s = openStore(db);
    s.close();
    for (const f of [db, `${db}-wal`, `${db}-shm`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o644);
    const { store, notes } = openStateStore(db);
    assert.equal(mode(dir), '700');
    assert.ok(notes.some((n) => n.event === 'store.dirTightened'));
    for (const f of [db, `${db}-wal`, `${db}-shm`]) if (fs.existsSync(f)) assert.equal(mode(f), '600', f);
    store.close();
  } finally {
    process.umask(old);
  }
});

test('a directory shared with other files, or found empty, is left as it is, with a warning; the files are still 0600', () => {
  const dir = tempDir();
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'mail.log'), '');
  const db = path.join(dir, 'pban.sqlite');
  const { store, notes } = openStateStore(db);
  assert.equal(mode(dir), '755');
  assert.ok(notes.some((n) => n.event === 'store.dirShared' && n.level === 'warn'));
  assert.equal(mode(db), '600');
  store.close();

  // An empty directory that was already there (like /srv) is not taken over either.
  const empty = tempDir();
  fs.chmodSync(empty, 0o755);
  const r = openStateStore(path.join(empty, 'pban.sqlite'));
  assert.equal(mode(empty), '755');
  r.store.close();
});

test("the first start writes a marker with the database's identity; a restart accepts the same database", () => {
  const db = path.join(tempDir(), 'pban.sqlite');
  const id = withState(db);
  assert.deepEqual(readMarker(db)?.storeId, id);
  const { store, notes } = openStateStore(db);
  assert.equal(store.storeId, id);
  assert.equal(store.activeBans('mail').length, 1);
  assert.ok(!notes.some((n) => n.level === 'warn'), JSON.stringify(notes));
  store.close();
});

test('a database deleted while pban was stopped is refused, not silently replaced by an empty one', () => {
  const db = path.join(tempDir(), 'pban.sqlite');
  withState(db);
  for (const s of ['', '-wal', '-shm']) fs.rmSync(db + s, { force: true });
  assert.throws(() => openStateStore(db), refusal('store.stateLost', /the database is missing, but pban had state here .*--fresh-state/));
  assert.ok(!fs.existsSync(db), 'nothing was created in its place');
});

test('a database emptied while pban was stopped (truncated, or a new empty SQLite file) is refused', () => {
  const db = path.join(tempDir(), 'pban.sqlite');
  withState(db);
  for (const s of ['-wal', '-shm']) fs.rmSync(db + s, { force: true });
  fs.truncateSync(db, 0);
  assert.throws(() => openStateStore(db), refusal('store.stateLost', /the database is empty/));
  assert.equal(fs.statSync(db).size, 0, 'the empty file was not turned into a database');
  // A valid SQLite file with none of pban's tables at the path: the same.
  fs.rmSync(db);
  const foreign = new BetterSqlite3(db);
  foreign.exec('CREATE TABLE notes (t TEXT)');
  foreign.close();
  assert.throws(() => openStateStore(db), refusal('store.stateLost', /the database is empty \(it holds no pban state\)/));
});

test('another pban database at the path is refused: its identity differs', () => {
  const dir = tempDir();
  const db = path.join(dir, 'pban.sqlite');
  withState(db);
  const other = path.join(dir, 'other.sqlite');
  const s = openStore(other);
  s.close();
  for (const x of ['', '-wal', '-shm']) fs.rmSync(db + x, { force: true });
  fs.renameSync(other, db);
  for (const x of ['-wal', '-shm']) if (fs.existsSync(other + x)) fs.renameSync(other + x, db + x);
  assert.throws(() => openStateStore(db), refusal('store.stateLost', /a different one/));
});

test('--fresh-state moves the lost database aside (never deletes it) and starts empty; a good database is kept', () => {
  const dir = tempDir();
  const db = path.join(dir, 'pban.sqlite');
  const oldId = withState(db);
  for (const s of ['-wal', '-shm']) fs.rmSync(db + s, { force: true });
  fs.truncateSync(db, 0);
  const { store, notes } = openStateStore(db, { fresh: true, now: Date.parse('2026-12-01T10:00:00Z') });
  const note = notes.find((n) => n.event === 'store.freshState');
  assert.ok(note, JSON.stringify(notes));
  assert.equal(note.detail['movedTo'], `${db}.old-2026-12-01T10-00-00-000Z`);
  assert.ok(fs.existsSync(`${db}.old-2026-12-01T10-00-00-000Z`));
  assert.notEqual(store.storeId, oldId);
  assert.equal(readMarker(db)?.storeId, store.storeId, 'the marker now names the new database');
  assert.deepEqual(store.activeBans(), []);
  store.close();

  // With a good database the flag changes nothing: it is not a way to wipe state.
  const id = withState(path.join(dir, 'again.sqlite'));
  const r = openStateStore(path.join(dir, 'again.sqlite'), { fresh: true });
  assert.equal(r.store.storeId, id);
  assert.equal(r.store.activeBans('mail').length, 1);
  assert.ok(r.notes.some((n) => n.event === 'store.freshStateUnused'));
  r.store.close();
});

test('a database that became unreadable while pban was stopped is refused when state existed', () => {
  const db = path.join(tempDir(), 'pban.sqlite');
  withState(db);
  for (const s of ['-wal', '-shm']) fs.rmSync(db + s, { force: true });
  fs.writeFileSync(db, 'garbage where the database was; '.repeat(100));
  assert.throws(() => openStateStore(db), refusal('store.stateLost', /the database cannot be read .*but pban had state here/));
});

test('an unreadable database is refused with what to do; --fresh-state sets it aside', () => {
  const db = path.join(tempDir(), 'pban.sqlite');
  fs.writeFileSync(db, 'this is not a database, just text that is long enough to have a header.'.repeat(20));
  assert.throws(() => openStateStore(db), (e: unknown) => e instanceof StoreError && /--fresh-state/.test(e.message));
  const { store, notes } = openStateStore(db, { fresh: true });
  assert.ok(notes.some((n) => n.event === 'store.freshState'));
  store.close();
});

test('a running store notices its file deleted or replaced, and can save a copy of its state', () => {
  const dir = tempDir();
  const db = path.join(dir, 'pban.sqlite');
  const { store } = openStateStore(db);
  const jail = new Jail(policy({ name: 'mail', maxretry: 1 }));
  jail.observe(failure('192.0.2.1', 0));
  store.commit({ jails: [jail.takeChanges()] });
  assert.equal(store.fileProblem(), null);

  fs.rmSync(db);
  assert.match(store.fileProblem() ?? '', /was deleted while pban was running/);
  // SQLite keeps writing to the deleted file: the state is still there, and can be saved.
  jail.observe(failure('192.0.2.2', 1));
  store.commit({ jails: [jail.takeChanges()] });
  store.copyTo(rescuePath(db));
  assert.equal(mode(rescuePath(db)), '600');
  const saved = openStore(rescuePath(db), { readonly: true });
  assert.deepEqual(saved.activeBans('mail').map((b) => b.target.addr), ['192.0.2.1', '192.0.2.2']);
  assert.equal(saved.storeId, store.storeId);
  saved.close();

  fs.writeFileSync(db, '');
  assert.match(store.fileProblem() ?? '', /was replaced while pban was running/);
  store.close();

  // The next start is refused, and says where the saved state is.
  assert.throws(() => openStateStore(db), refusal('store.stateLost', /saved a copy of its state in .*pban\.sqlite\.rescued/));
});
