// The SQLite store: the source of truth for windows, bans, ban history and source positions.
// All writes go through commit(), one transaction per call, so the failures, the window
// clearing (carried by each ban's clear_seq), pruning, bans, lifts and source positions of a
// batch land together or not at all.
import { chmodSync, closeSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import { TRACE_LINES, type Address, type Ban, type BanKind, type Family, type LiftReason, type MatchTrace, type SourcePosition, type Target } from '../events.js';
import { StoreError } from '../errors.js';
import { migrate, SCHEMA_VERSION } from './schema.js';
import { runSteps, type Steps } from '../steps.js';
import type { CommitBatch, JailTotals, StoredBan, StoredSnapshot, StoreJailChanges } from './records.js';

export interface OpenStoreOptions {
  /** Open without creating or migrating; writes fail. */
  readonly readonly?: boolean;
  /**
   * "normal" (default): a commit survives a crash of pban; the last commits may be lost on a
   * power cut (WAL keeps the file consistent either way). "full": fsync at every commit.
   * "off": for throw-away replay databases.
   */
  readonly synchronous?: 'off' | 'normal' | 'full';
}

/** Rows per multi-row INSERT: fewer statement calls on the hot path. */
const CHUNK = 64;
/** Rows loadJailSteps() reads between two yields (about 10-30 ms of work). */
const LOAD_STEP = 5000;

interface BanRow {
  id: number;
  jail: string;
  address: string;
  prefix: number;
  family: number;
  kind: string;
  created: number;
  until: number | null;
  failures: number;
  ban_number: number;
  clear_seq: number;
  active: number;
  lift_reason: string | null;
  lifted_at: number | null;
}

const BAN_COLUMNS = `b.id, j.name AS jail, b.address, b.prefix, b.family, b.kind, b.created, b.until, b.failures,
  b.ban_number, b.clear_seq, b.active, b.lift_reason, b.lifted_at`;

function toBan(r: BanRow): StoredBan {
  return {
    id: r.id,
    target: { addr: r.address as Address, prefix: r.prefix, family: r.family as Family },
    jail: r.jail,
    kind: r.kind as BanKind,
    created: r.created,
    until: r.until,
    failures: r.failures,
    banNumber: r.ban_number,
    clearSeq: r.clear_seq,
    active: r.active === 1,
    liftReason: r.lift_reason as LiftReason | null,
    liftedAt: r.lifted_at,
  };
}

/** The files SQLite keeps for a database in WAL mode. */
export const DATABASE_SUFFIXES = ['', '-wal', '-shm'] as const;

/**
 * The database holds who attacked the server and what is banned: only root reads it. A new file
 * is created 0600 before SQLite opens it (SQLite gives -wal and -shm the mode of the database
 * file), and an existing one that others can read is tightened, with its -wal and -shm.
 */
function makePrivate(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return; // SQLite's open reports it
  }
  for (const suffix of DATABASE_SUFFIXES) {
    try {
      if ((statSync(file + suffix).mode & 0o077) !== 0) chmodSync(file + suffix, 0o600);
    } catch {
      // absent: nothing to tighten
    }
  }
}

/** Which file is open: a database deleted or replaced under a running pban is told by this. */
interface FileId {
  readonly dev: number;
  readonly ino: number;
}

function fileIdOf(file: string): FileId | null {
  if (file === '' || file === ':memory:') return null;
  try {
    const st = statSync(file);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/** Opens (creating and migrating if needed) the database at `file`. ":memory:" works too. */
export function openStore(file: string, opts: OpenStoreOptions = {}): Store {
  let db: Database;
  if (!opts.readonly && file !== '' && file !== ':memory:') makePrivate(file);
  try {
    db = new BetterSqlite3(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (e) {
    throw new StoreError('store.open', `${file}: cannot open database: ${(e as Error).message}`, { cause: e });
  }
  try {
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${(opts.synchronous ?? 'normal').toUpperCase()}`);
    }
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    if (opts.readonly) checkVersion(db, file);
    else migrate(db, file);
    return new Store(db, file);
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError('store.open', `${file}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The schema version and identity of the database at `file`, read without writing anything (so
 * a database that is not ours is never migrated into one). Throws if it cannot be read.
 */
export function peekStoreId(file: string): { version: number; id: string | null } {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
    const row = hasMeta ? (db.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: string } | undefined) : undefined;
    return { version, id: row?.value ?? null };
  } finally {
    db.close();
  }
}

/** A read-only open cannot migrate: the version must be exactly ours. */
function checkVersion(db: Database, file: string): void {
  const v = db.pragma('user_version', { simple: true }) as number;
  if (v > SCHEMA_VERSION) migrate(db, file);
  if (v < SCHEMA_VERSION) {
    throw new StoreError('store.needsMigration', `${file}: database schema version ${v} is older than ${SCHEMA_VERSION}; start pban once to upgrade it`);
  }
}

export class Store {
  /** Row ids of jails, cached: valid only for rows that are committed (cleared on a rollback). */
  private readonly jailIds = new Map<string, number>();
  /** The file opened (taken right after the open), compared with what is at the path later. */
  private readonly fileId: FileId | null;
  private readonly insertChunk: Statement;
  private readonly insertOne: Statement;
  private readonly pruneStmt: Statement;
  private readonly insertBan: Statement;
  private readonly liftBan: Statement;
  private readonly updateJail: Statement;
  private readonly upsertPosition: Statement;
  private readonly insertBanLine: Statement;
  private readonly commitTx: (batch: CommitBatch) => void;

  constructor(
    private readonly db: Database,
    readonly file: string,
  ) {
    this.fileId = fileIdOf(file);
    const rows = Array.from({ length: CHUNK }, () => '(?, ?, ?, ?, ?)').join(', ');
    const ro = db.readonly;
    // Statements that write cannot be prepared on a read-only connection; use a harmless one.
    const prep = (sql: string): Statement => (ro ? db.prepare('SELECT 1') : db.prepare(sql));
    this.insertChunk = prep(`INSERT INTO failures (jail_id, seq, time, address, kind) VALUES ${rows}`);
    this.insertOne = prep('INSERT INTO failures (jail_id, seq, time, address, kind) VALUES (?, ?, ?, ?, ?)');
    this.pruneStmt = prep('DELETE FROM failures WHERE jail_id = ? AND seq < ?');
    this.insertBan = prep(`INSERT INTO bans (jail_id, address, prefix, family, kind, created, until, failures, ban_number, clear_seq)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.liftBan = prep(`UPDATE bans SET active = 0, lift_reason = ?, lifted_at = ?
      WHERE jail_id = ? AND address = ? AND prefix = ? AND created = ? AND active = 1`);
    this.insertBanLine = prep('INSERT OR REPLACE INTO ban_lines (ban_id, seq, time, kind, regex_id, regex_index, line) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.updateJail = prep('UPDATE jails SET clock = ?, seq = ?, total_failed = ?, total_banned = ? WHERE id = ?');
    this.upsertPosition = prep(`INSERT INTO positions (source_id, path, inode, byte_offset, first_line_hash) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (source_id) DO UPDATE SET path = excluded.path, inode = excluded.inode,
        byte_offset = excluded.byte_offset, first_line_hash = excluded.first_line_hash`);
    this.commitTx = db.transaction((batch: CommitBatch) => {
      for (const c of batch.jails) this.writeJail(c);
      for (const p of batch.positions ?? []) {
        this.upsertPosition.run(p.sourceId, p.path, p.inode, p.offset, p.firstLineHash);
      }
    });
  }

  /**
   * Writes one batch in one transaction: each jail's new failures, pruning, new bans, lifts and
   * counters, then the source positions. Throws StoreError and writes nothing on any failure.
   */
  commit(batch: CommitBatch): void {
    try {
      this.commitTx(batch);
    } catch (e) {
      // A jail row inserted by this transaction was rolled back with it: a cached id for it
      // would point at nothing, and every later ban of that jail would fail its foreign key.
      this.jailIds.clear();
      if (e instanceof StoreError) throw e;
      throw new StoreError('store.commit', `${this.file}: commit failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * What a jail needs to rebuild (pass to Jail.restore): the failures still inside findtime of
   * the stored clock, in arrival order, and every ban that is active, inside `remember`, or
   * that cleared a window holding stored failures. A jail never seen gives an empty snapshot.
   */
  loadJail(name: string, window: { readonly findtime: number; readonly remember: number }): StoredSnapshot {
    return runSteps(this.loadJailSteps(name, window));
  }

  /**
   * The active bans of one jail as the firewall needs them (no row id, no history, no failure),
   * in steps of LOAD_STEP rows like loadJailSteps(). A start re-applies these before the jail's
   * history and windows load: with 100,000 bans the firewall had them all about 0.3 s sooner
   * than when they came out of the full load (bench/startup.bench.ts).
   */
  *activeBanSteps(name: string): Steps<Ban[]> {
    const bans: Ban[] = [];
    const stmt = this.db
      .prepare(
        `SELECT b.address, b.prefix, b.family, b.kind, b.created, b.until, b.failures, b.ban_number
         FROM bans b JOIN jails j ON j.id = b.jail_id WHERE j.name = ? AND b.active = 1`,
      )
      .raw(true);
    type Row = [string, number, number, string, number, number | null, number, number];
    for (const r of stmt.iterate(name) as IterableIterator<Row>) {
      bans.push({
        target: { addr: r[0] as Address, prefix: r[1], family: r[2] as Family },
        jail: name,
        kind: r[3] as BanKind,
        created: r[4],
        until: r[5],
        failures: r[6],
        banNumber: r[7],
      });
      if (bans.length % LOAD_STEP === 0) yield;
    }
    return bans;
  }

  /**
   * loadJail() in steps: it yields after every LOAD_STEP rows, so a caller can let other work
   * run in between (the daemon answers its control socket while 100,000 bans load). No other
   * statement may run on this store until the generator is done: a read is in progress.
   */
  *loadJailSteps(name: string, window: { readonly findtime: number; readonly remember: number }): Steps<StoredSnapshot> {
    const row = this.db
      .prepare('SELECT id, clock, seq, total_failed, total_banned FROM jails WHERE name = ?')
      .get(name) as { id: number; clock: number | null; seq: number; total_failed: number; total_banned: number } | undefined;
    const failures = { seq: [] as number[], time: [] as number[], address: [] as string[], kind: [] as string[] };
    if (row === undefined) {
      return { clock: null, seq: 0, totalFailed: 0, totalBanned: 0, failures, bans: [] };
    }
    const cutoff = row.clock === null ? null : row.clock - window.findtime;
    // The oldest failure still in the window: bans that clear it are kept (see clear_seq).
    const minSeq = (this.db.prepare('SELECT MIN(seq) AS m FROM failures WHERE jail_id = ? AND (? IS NULL OR time > ?)').get(row.id, cutoff, cutoff) as { m: number | null }).m;
    const since = row.clock === null || !Number.isFinite(window.remember) ? null : row.clock - window.remember;
    // Raw rows, no join (the jail is known): with 100,000 bans a row object per ban, then a ban
    // object from it, cost a restart about a second of CPU, most of it garbage collection.
    const bans: StoredBan[] = [];
    const stmt2 = this.db
      .prepare(
        `SELECT b.id, b.address, b.prefix, b.family, b.kind, b.created, b.until, b.failures, b.ban_number, b.clear_seq, b.active, b.lift_reason, b.lifted_at
         FROM bans b WHERE b.jail_id = ? AND (b.active = 1 OR ? IS NULL OR b.created > ? OR b.clear_seq >= ?)
         ORDER BY b.created, b.id`,
      )
      .raw(true);
    type RawBan = [number, string, number, number, string, number, number | null, number, number, number, number, string | null, number | null];
    for (const r of stmt2.iterate(row.id, since, since, minSeq ?? row.seq + 1) as IterableIterator<RawBan>) {
      bans.push({
        id: r[0],
        target: { addr: r[1] as Address, prefix: r[2], family: r[3] as Family },
        jail: name,
        kind: r[4] as BanKind,
        created: r[5],
        until: r[6],
        failures: r[7],
        banNumber: r[8],
        clearSeq: r[9],
        active: r[10] === 1,
        liftReason: r[11] as LiftReason | null,
        liftedAt: r[12],
      });
      if (bans.length % LOAD_STEP === 0) yield;
    }
    const stmt = this.db.prepare('SELECT seq, time, address, kind FROM failures WHERE jail_id = ? ORDER BY seq').raw(true);
    for (const r of stmt.iterate(row.id) as IterableIterator<[number, number, string, string]>) {
      if (cutoff !== null && r[1] <= cutoff) continue;
      failures.seq.push(r[0]);
      failures.time.push(r[1]);
      failures.address.push(r[2]);
      failures.kind.push(r[3]);
      if (failures.seq.length % LOAD_STEP === 0) yield;
    }
    return { clock: row.clock, seq: row.seq, totalFailed: row.total_failed, totalBanned: row.total_banned, failures, bans };
  }

  /**
   * Deletes lifted bans that can no longer matter: older than `remember` before the jail's clock
   * (so they no longer count towards ban numbers) and not clearing any stored failure. These are
   * exactly the rows loadJail() would skip, so a rebuild after pruning is the same. Returns how
   * many rows went. Without this the history of a server under constant attack grows forever.
   */
  pruneHistory(name: string, remember: number): number {
    const row = this.db.prepare('SELECT id, clock, seq FROM jails WHERE name = ?').get(name) as { id: number; clock: number | null; seq: number } | undefined;
    if (row === undefined || row.clock === null || !Number.isFinite(remember) || remember >= Number.MAX_SAFE_INTEGER) return 0;
    const minSeq = (this.db.prepare('SELECT MIN(seq) AS m FROM failures WHERE jail_id = ?').get(row.id) as { m: number | null }).m ?? row.seq + 1;
    return this.db
      .prepare('DELETE FROM bans WHERE jail_id = ? AND active = 0 AND created <= ? AND clear_seq < ?')
      .run(row.id, row.clock - remember, minSeq).changes;
  }

  /** Active bans, oldest first, of one jail or of all. */
  activeBans(jail?: string): StoredBan[] {
    const rows =
      jail === undefined
        ? this.db.prepare(`SELECT ${BAN_COLUMNS} FROM bans b JOIN jails j ON j.id = b.jail_id WHERE b.active = 1 ORDER BY b.created, b.id`).all()
        : this.db
            .prepare(`SELECT ${BAN_COLUMNS} FROM bans b JOIN jails j ON j.id = b.jail_id WHERE b.active = 1 AND j.name = ? ORDER BY b.created, b.id`)
            .all(jail);
    return (rows as BanRow[]).map(toBan);
  }

  /**
   * Automatic address bans of every jail created after `since` (ms), oldest first: what a bans
   * jail counts when it starts with no state of its own (recidive.ts). Read once per such start,
   * so a scan of the bans table is acceptable.
   */
  addressBansSince(since: number): StoredBan[] {
    return (
      this.db
        .prepare(`SELECT ${BAN_COLUMNS} FROM bans b JOIN jails j ON j.id = b.jail_id WHERE b.kind = 'address' AND b.created > ? ORDER BY b.created, b.id`)
        .all(since) as BanRow[]
    ).map(toBan);
  }

  /** Every ban kept (active and lifted) created in [since, until), oldest first: for `pban report`. */
  bansCreated(since = -Infinity, until = Infinity): StoredBan[] {
    const lo = Number.isFinite(since) ? since : Number.MIN_SAFE_INTEGER;
    const hi = Number.isFinite(until) ? until : Number.MAX_SAFE_INTEGER;
    return (
      this.db
        .prepare(`SELECT ${BAN_COLUMNS} FROM bans b JOIN jails j ON j.id = b.jail_id WHERE b.created >= ? AND b.created < ? ORDER BY b.created, b.id`)
        .all(lo, hi) as BanRow[]
    ).map(toBan);
  }

  /** Every ban of `target` in `jail` (active and lifted), oldest first: its ban history. */
  banHistory(jail: string, target: Target): StoredBan[] {
    return (
      this.db
        .prepare(
          `SELECT ${BAN_COLUMNS} FROM bans b JOIN jails j ON j.id = b.jail_id
           WHERE j.name = ? AND b.address = ? AND b.prefix = ? ORDER BY b.created, b.id`,
        )
        .all(jail, target.addr, target.prefix) as BanRow[]
    ).map(toBan);
  }

  /**
   * How many bans `target` had in `jail` created after `since` (ms) that still count towards its
   * ban number: a manual lift resets the count, so only bans after the last one count.
   */
  banCount(jail: string, target: Target, since = -Infinity): number {
    const h = this.banHistory(jail, target);
    let from = 0;
    for (let i = 0; i < h.length; i++) if (h[i]!.liftReason === 'manual') from = i + 1;
    return h.slice(from).filter((b) => b.created > since).length;
  }

  position(sourceId: string): SourcePosition | null {
    const r = this.db
      .prepare('SELECT source_id, path, inode, byte_offset, first_line_hash FROM positions WHERE source_id = ?')
      .get(sourceId) as PositionRow | undefined;
    return r === undefined ? null : toPosition(r);
  }

  positions(): SourcePosition[] {
    return (this.db.prepare('SELECT source_id, path, inode, byte_offset, first_line_hash FROM positions ORDER BY source_id').all() as PositionRow[]).map(
      toPosition,
    );
  }

  /** Per-jail counters as last committed. */
  totals(): JailTotals[] {
    const rows = this.db
      .prepare(
        `SELECT j.name, j.clock, j.total_failed, j.total_banned,
           (SELECT count(*) FROM bans b WHERE b.jail_id = j.id AND b.active = 1) AS active_bans,
           (SELECT count(*) FROM failures f WHERE f.jail_id = j.id) AS stored_failures
         FROM jails j ORDER BY j.name`,
      )
      .all() as { name: string; clock: number | null; total_failed: number; total_banned: number; active_bans: number; stored_failures: number }[];
    return rows.map((r) => ({
      jail: r.name,
      clock: r.clock,
      totalFailed: r.total_failed,
      totalBanned: r.total_banned,
      activeBans: r.active_bans,
      storedFailures: r.stored_failures,
    }));
  }

  /** Records how a jail drives the firewall (see retired-jails.ts); creates the jail's row if needed. */
  saveJailFirewall(name: string, firewall: string): void {
    const id = this.jailId(name);
    this.db.prepare('UPDATE jails SET firewall = ? WHERE id = ?').run(firewall, id);
  }

  /** What saveJailFirewall() recorded for a jail, or null. */
  jailFirewall(name: string): string | null {
    const r = this.db.prepare('SELECT firewall FROM jails WHERE name = ?').get(name) as { firewall: string | null } | undefined;
    return r?.firewall ?? null;
  }

  /** Names of the jails the store has seen. */
  jails(): string[] {
    return (this.db.prepare('SELECT name FROM jails ORDER BY name').all() as { name: string }[]).map((r) => r.name);
  }

  /** The schema version of the open database. */
  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** The database's identity (see schema.ts, version 2); null for a read-only old database. */
  get storeId(): string | null {
    try {
      const r = this.db.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: string } | undefined;
      return r?.value ?? null;
    } catch {
      return null;
    }
  }

  /**
   * Whether the file at our path is still the database we have open. SQLite keeps writing to an
   * open file that was deleted or renamed away, without a word, and all of it is gone when the
   * process ends; so the daemon asks this periodically and at commits. Null: all is well.
   */
  fileProblem(): string | null {
    if (this.fileId === null) return null;
    let st;
    try {
      st = statSync(this.file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return `${this.file}: the database file was deleted while pban was running`;
      return `${this.file}: cannot check the database file: ${code ?? (e as Error).message}`;
    }
    if (st.dev !== this.fileId.dev || st.ino !== this.fileId.ino) {
      return `${this.file}: the database file was replaced while pban was running (a different file is at its path)`;
    }
    return null;
  }

  /**
   * Writes a consistent copy of the open database to `dest` (private, replacing an older copy
   * atomically): how the state of a database deleted under a running pban is saved.
   */
  copyTo(dest: string): void {
    const tmp = `${dest}.tmp-${process.pid}`;
    rmSync(tmp, { force: true });
    try {
      // VACUUM INTO creates the file with the default mode; the state directory (0700) covers
      // the moment before the chmod.
      this.db.prepare('VACUUM INTO ?').run(tmp);
      chmodSync(tmp, 0o600);
      renameSync(tmp, dest);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new StoreError('store.copy', `${dest}: cannot save a copy of the database: ${(e as Error).message}`, { cause: e });
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private jailId(name: string): number {
    let id = this.jailIds.get(name);
    if (id === undefined) {
      this.db.prepare('INSERT INTO jails (name) VALUES (?) ON CONFLICT (name) DO NOTHING').run(name);
      id = (this.db.prepare('SELECT id FROM jails WHERE name = ?').get(name) as { id: number }).id;
      this.jailIds.set(name, id);
    }
    return id;
  }

  /** The lines kept for the ban of `target` in `jail` made at `created`, oldest first. */
  banLines(jail: string, target: Target, created: number): MatchTrace[] {
    const rows = this.cached(
      `SELECT l.time, l.kind, l.regex_id, l.regex_index, l.line FROM ban_lines l
       JOIN bans b ON b.id = l.ban_id JOIN jails j ON j.id = b.jail_id
       WHERE j.name = ? AND b.address = ? AND b.prefix = ? AND b.created = ? ORDER BY l.ban_id, l.seq`,
    )
      .raw(true)
      .all(jail, target.addr, target.prefix, created) as [number, string, string, number, string][];
    return rows.map((r) => ({ time: r[0], jail, kind: r[1], regexId: r[2], regexIndex: r[3], line: r[4] }));
  }

  /** Deletes the lines of lifted bans (only active bans keep theirs). Returns how many rows went. */
  pruneBanLines(): number {
    return this.db.prepare('DELETE FROM ban_lines WHERE ban_id IN (SELECT id FROM bans WHERE active = 0)').run().changes;
  }

  /** Reading statements used once per ban or request: prepared once. */
  private readonly statements = new Map<string, Statement>();
  private cached(sql: string): Statement {
    let st = this.statements.get(sql);
    if (st === undefined) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  private writeJail(c: StoreJailChanges): void {
    const id = this.jailId(c.jail);
    const f = c.failures;
    const n = f.seq.length;
    let i = 0;
    if (n >= CHUNK) {
      const args = new Array<unknown>(CHUNK * 5);
      for (; i + CHUNK <= n; i += CHUNK) {
        for (let k = 0; k < CHUNK; k++) {
          const o = k * 5;
          args[o] = id;
          args[o + 1] = f.seq[i + k];
          args[o + 2] = f.time[i + k];
          args[o + 3] = f.address[i + k];
          args[o + 4] = f.kind[i + k];
        }
        this.insertChunk.run(args);
      }
    }
    for (; i < n; i++) this.insertOne.run(id, f.seq[i], f.time[i], f.address[i], f.kind[i]);
    this.pruneStmt.run(id, c.pruneBelowSeq);
    for (const b of c.bans) {
      const t = b.target;
      const r = this.insertBan.run(id, t.addr, t.prefix, t.family, b.kind, b.created, b.until, b.failures, b.banNumber, b.clearSeq);
      const lines = b.matches;
      if (lines !== undefined) {
        // seq only orders a ban's lines: their position in it.
        for (let k = Math.max(0, lines.length - TRACE_LINES); k < lines.length; k++) {
          const m = lines[k]!;
          this.insertBanLine.run(r.lastInsertRowid, k, m.time, m.kind, m.regexId, m.regexIndex, m.line);
        }
      }
    }
    for (const l of c.lifts) {
      const t = l.ban.target;
      const r = this.liftBan.run(l.reason, l.time, id, t.addr, t.prefix, l.ban.created);
      if (r.changes !== 1) {
        throw new StoreError('store.unknownBan', `${this.file}: jail ${c.jail}: lift of ${t.addr}/${t.prefix} matches no active ban`);
      }
    }
    this.updateJail.run(c.clock, c.seq, c.totalFailed, c.totalBanned, id);
  }
}

interface PositionRow {
  source_id: string;
  path: string;
  inode: number;
  byte_offset: number;
  first_line_hash: string;
}

function toPosition(r: PositionRow): SourcePosition {
  return { sourceId: r.source_id, path: r.path, inode: r.inode, offset: r.byte_offset, firstLineHash: r.first_line_hash };
}
