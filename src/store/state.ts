// The daemon's database on disk: a private directory, a private file, and an identity marker.
//
// SQLite creates an empty database wherever it is pointed, so a database that was deleted,
// emptied or swapped for another would start pban from nothing without a word: every ban and
// every window gone. The marker (`<database>.identity`, next to it) holds the id written into
// the database when it was created (schema.ts, version 2). A start where the marker exists but
// the database is missing, empty, unreadable or has another id is refused; `--fresh-state` is
// the explicit way past it, and it moves the old files aside instead of deleting them.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { DATABASE_SUFFIXES, openStore, peekStoreId, type Store } from './store.js';

/** What the marker file holds. */
export interface StoreMarker {
  readonly storeId: string;
  /** When the marker was first written (ISO 8601); for the admin reading it. */
  readonly created: string;
}

export const markerPath = (database: string): string => `${database}.identity`;
/** Where a running daemon saves the state of a database deleted or replaced under it. */
export const rescuePath = (database: string): string => `${database}.rescued`;

export interface OpenStateOptions {
  /** Start with an empty database when the one pban had is gone (pban start --fresh-state). */
  readonly fresh?: boolean;
  /** For the moved-aside names; the daemon's clock. */
  readonly now?: number;
}

/** What happened while opening, for the daemon to log. */
export interface StateNote {
  readonly level: 'info' | 'warn';
  readonly event: string;
  readonly detail: Record<string, unknown>;
}

export interface OpenedState {
  readonly store: Store;
  readonly notes: readonly StateNote[];
}

/** Files of ours that may sit in the state directory (anything else means it is shared). */
function isOurs(database: string, name: string): boolean {
  const base = path.basename(database);
  return name === base || name.startsWith(`${base}-`) || name.startsWith(`${base}.`);
}

/**
 * The state directory is 0700. A new one is created so; an existing one is tightened only when it
 * is pban's own: owned by us, holding our database and nothing but pban's files (an empty
 * directory that happens to be there, like /srv, is not ours to close). A shared one (the
 * database put next to other files) is left alone with a warning: the files are 0600 anyway.
 */
export function prepareStateDir(database: string): StateNote[] {
  const dir = path.dirname(database);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if ((st.mode & 0o077) === 0) return [];
  const mode = (st.mode & 0o777).toString(8);
  const owned = typeof process.getuid !== 'function' || st.uid === process.getuid();
  const names = readdirSync(dir);
  if (owned && names.includes(path.basename(database)) && names.every((n) => isOurs(database, n))) {
    chmodSync(dir, 0o700);
    return [{ level: 'info', event: 'store.dirTightened', detail: { dir, was: mode, now: '700' } }];
  }
  return [{ level: 'warn', event: 'store.dirShared', detail: { dir, mode, note: 'the directory holds other files; pban\'s files in it are 0600, but a directory of its own (0700) is better' } }];
}

export function readMarker(database: string): StoreMarker | null {
  const file = markerPath(database);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StoreError('store.marker', `${file}: cannot read pban's state marker: ${(e as Error).message}`, { cause: e });
  }
  try {
    const m = JSON.parse(text) as Partial<StoreMarker>;
    if (typeof m.storeId === 'string' && m.storeId !== '') return { storeId: m.storeId, created: String(m.created ?? '') };
  } catch {
    // reported below
  }
  throw new StoreError('store.marker', `${file}: pban's state marker is damaged (expected {"storeId": …})`);
}

/** Written to a temporary name then renamed, so a crash never leaves half a marker. */
export function writeMarker(database: string, marker: StoreMarker): void {
  const file = markerPath(database);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, JSON.stringify(marker) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  } catch (e) {
    throw new StoreError('store.marker', `${file}: cannot write pban's state marker: ${(e as Error).message}`, { cause: e });
  }
}

/** Why the database at `database` is not the state the marker describes, or null if it is. */
function mismatch(database: string, marker: StoreMarker): string | null {
  let size: number;
  try {
    size = statSync(database).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'the database is missing';
    return `the database cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (size === 0) return 'the database is empty';
  let peek: { version: number; id: string | null };
  try {
    peek = peekStoreId(database);
  } catch (e) {
    return `the database cannot be read (${(e as Error).message})`;
  }
  if (peek.version === 0) return 'the database is empty (it holds no pban state)';
  // A database from before identities (a restored old backup) cannot be compared: it is pban's.
  const id = peek.id;
  if (id !== null && id !== marker.storeId) return `the database is a different one (identity ${id}, expected ${marker.storeId})`;
  return null;
}

/** Moves the database files aside (never deletes them): NAME.old-<time>[-wal|-shm]. */
function moveAside(database: string, now: number): string | null {
  if (!DATABASE_SUFFIXES.some((s) => existsSync(database + s))) return null;
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  const dest = `${database}.old-${stamp}`;
  try {
    for (const s of DATABASE_SUFFIXES) if (existsSync(database + s)) renameSync(database + s, dest + s);
  } catch (e) {
    throw new StoreError('store.moveAside', `${database}: cannot move the old database aside to ${dest}: ${(e as Error).message}`, { cause: e });
  }
  return dest;
}

/**
 * Opens the daemon's database: directory 0700, files 0600, and the identity check. Refuses, with a
 * StoreError that says what to do, a database that is not the state pban had; with `fresh`, moves
 * it aside and starts empty. A database without a marker (first start, or a pban from before
 * markers) is adopted and the marker written.
 */
export function openStateStore(database: string, opts: OpenStateOptions = {}): OpenedState {
  if (database === '' || database === ':memory:') return { store: openStore(database), notes: [] };
  const notes = prepareStateDir(database);
  let marker: StoreMarker | null;
  try {
    marker = readMarker(database);
  } catch (e) {
    if (!opts.fresh) throw new StoreError('store.marker', `${(e as Error).message}; fix or remove it, or start with --fresh-state`, { cause: e });
    marker = null;
  }
  const problem = marker === null ? null : mismatch(database, marker);
  if (problem !== null && marker !== null) {
    if (!opts.fresh) {
      const rescued = existsSync(rescuePath(database)) ? `; pban saved a copy of its state in ${rescuePath(database)}: move it to ${database} to continue from it` : '';
      throw new StoreError(
        'store.stateLost',
        `${database}: ${problem}, but pban had state here (${markerPath(database)}, created ${marker.created || 'at an unknown time'})${rescued}. ` +
          `Restore the database from a backup, or start once with --fresh-state to begin with no bans and no windows`,
      );
    }
    const movedTo = moveAside(database, opts.now ?? Date.now());
    notes.push({ level: 'warn', event: 'store.freshState', detail: { database, problem, movedTo } });
  }
  let store: Store;
  try {
    store = openStore(database);
  } catch (e) {
    if (!(e instanceof StoreError) || e.code === 'store.tooNew') throw e;
    if (!opts.fresh) {
      throw new StoreError(e.code, `${e.message}; restore it from a backup, or start once with --fresh-state to begin with no bans and no windows`, { cause: e });
    }
    // Unreadable, with no marker to compare with: --fresh-state sets it aside as well.
    const movedTo = moveAside(database, opts.now ?? Date.now());
    notes.push({ level: 'warn', event: 'store.freshState', detail: { database, problem: e.message, movedTo } });
    store = openStore(database);
  }
  const id = store.storeId;
  if (id !== null && (marker === null || marker.storeId !== id)) {
    writeMarker(database, { storeId: id, created: new Date(opts.now ?? Date.now()).toISOString() });
    notes.push({ level: 'info', event: 'store.markerWritten', detail: { marker: markerPath(database), storeId: id } });
  }
  if (opts.fresh && problem === null) {
    notes.push({ level: 'info', event: 'store.freshStateUnused', detail: { database, note: 'the database is the one pban had: it was kept' } });
  }
  return { store, notes };
}
