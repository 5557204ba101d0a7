// One daemon per state directory. Two daemons on one database would count every line twice and
// fight over the same firewall objects (the second one flushed the first one's sets at start
// and deleted its table at stop), so the second one must refuse before it touches anything.
//
// The lock is a kernel file lock (fcntl, through SQLite's exclusive locking mode) on a small
// file next to the database: the kernel drops it when the process dies, even by SIGKILL, so a
// crash never leaves a stale lock behind, unlike a PID file.
import BetterSqlite3 from 'better-sqlite3';
import path from 'node:path';
import { PbanError } from '../errors.js';

export interface InstanceLock {
  readonly file: string;
  release(): void;
}

/** Takes the state directory's lock, or throws `store.locked` naming the directory. */
export function lockStateDir(databaseFile: string): InstanceLock {
  const file = path.join(path.dirname(databaseFile), `${path.basename(databaseFile)}.lock`);
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(file, { timeout: 0 });
  } catch (e) {
    throw new PbanError('store.lockFailed', `${file}: cannot create the instance lock: ${(e as Error).message}`, { cause: e });
  }
  try {
    // Exclusive mode keeps the write lock after the first write commits, until close.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; COMMIT;');
    db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      throw new PbanError('store.locked', `another pban is running with the state in ${path.dirname(databaseFile)} (lock ${file} is held); stop it first, or give this one its own [pban] database`);
    }
    throw new PbanError('store.lockFailed', `${file}: cannot take the instance lock: ${(e as Error).message}`, { cause: e });
  }
  return { file, release: () => db.close() };
}
