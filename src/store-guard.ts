// What the daemon does when its database fails, so that pban is never silently unprotected.
//
// The store is the truth (DESIGN.md, round 2). A commit that fails writes nothing, so the
// decisions of its batch exist only in the jails' memory. Acting on them would put bans in the
// firewall that a restart forgets; keeping them and re-reading the batch would count its lines
// twice. So a failed commit rebuilds every jail's memory from the store, exactly as a start does,
// and reports false: the caller runs no action, and a source reads the batch again (FileSource
// and JournalSource deliver again a batch whose processing threw). When the fault clears, the
// re-read lines decide the same bans again, and these are stored, then applied.
//
// It also watches the file: SQLite keeps writing to a database that was deleted or replaced
// under it, and all of that is lost when the process ends. The guard compares the file at the
// path with the one open (device and inode) at every commit and every few seconds, reports it
// in `pban status`, and saves the state it still has to `<database>.rescued`.
import { Jail, type JailPolicy } from './engine/index.js';
import type { SourcePosition } from './events.js';
import type { Clock } from './clock.js';
import type { Logger } from './log.js';
import { StoreError } from './errors.js';
import { readMarker, rescuePath, writeMarker, type Store } from './store/index.js';
import type { StoreHealth } from './control/types.js';

/** A jail as the daemon holds it: the guard may replace its memory with one rebuilt from the store. */
export interface GuardedJail {
  readonly cfg: { readonly name: string; readonly policy: JailPolicy };
  /** Which stored failures count for their network (see CompiledFilter.countsForNetwork). */
  readonly filter?: { countsForNetwork(kind: string): boolean };
  jail: Jail;
}

/** Thrown into a source's loop when its batch could not be stored: the source reads it again. */
export class StoreUnavailableError extends StoreError {
  constructor(message: string) {
    super('store.unavailable', message);
  }
}

/** How soon a failed commit is tried again, at the least. */
export const STORE_RETRY_MS = 500;
/**
 * Each retry of a lasting fault costs a rebuild (about 4 s for a million stored failures, during
 * which the event loop is busy): retries wait at least this many times the last rebuild, so a
 * fault never takes more than a fifth of a core. With a small state that is the 1 s minimum.
 */
const RETRY_PER_REBUILD = 4;
const RETRY_MAX_MS = 60_000;
/** How often the database file is compared with the one open, besides at every commit. */
export const FILE_CHECK_MS = 5000;

interface Problem {
  readonly message: string;
  readonly at: number;
}

export interface StoreGuardOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly fileCheckMs?: number;
}

export class StoreGuard {
  private commitProblem: Problem | null = null;
  /** The refused commit carried counted failures, bans or lifts (see commit()). */
  private refusedChanges = false;
  private fileProblem: Problem | null = null;
  /** Memory holds decisions the store lacks and could not be rebuilt yet: take no more lines. */
  private stale = false;
  /** When the last commit (or rebuild) failed: retries are paced from here. */
  private lastFailureAt = 0;
  /** How long the last rebuild from the store took. */
  private lastRebuildMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly opts: StoreGuardOptions,
  ) {}

  /** Starts the periodic file check. */
  start(): void {
    this.timer = setInterval(() => this.checkFile(), this.opts.fileCheckMs ?? FILE_CHECK_MS);
    this.timer.unref();
  }

  /** Stops the check; a database that vanished gets its last state saved before pban closes it. */
  stop(): void {
    clearInterval(this.timer);
    this.checkFile();
    if (this.fileProblem !== null) this.rescue();
  }

  health(): StoreHealth {
    const p = this.fileProblem ?? this.commitProblem;
    return { path: this.store.file, ok: p === null, lastError: p?.message ?? null, lastErrorAt: p?.at ?? null };
  }

  /** The last commit failed (or memory is stale): the next one is due for a retry. */
  get failing(): boolean {
    return this.commitProblem !== null || this.stale;
  }

  /** How long to wait before trying again after a failure (sources and the expiry timer). */
  retryDelayMs(): number {
    return Math.min(RETRY_MAX_MS, Math.max(STORE_RETRY_MS, RETRY_PER_REBUILD * this.lastRebuildMs));
  }

  /**
   * When the expiry timer may fire next: `at`, but not sooner than a retry delay after a failed
   * commit, so a store that keeps failing is not retried in a tight loop.
   */
  holdUntil(at: number | null): number | null {
    if (at === null || !this.failing) return at;
    return Math.max(at, this.lastFailureAt + this.retryDelayMs());
  }

  /**
   * Before taking more lines: true when memory matches the store (rebuilding it first if a
   * failed commit left it stale). False: the store cannot be read, take nothing.
   */
  ready(jails: Iterable<GuardedJail>): boolean {
    return !this.stale || this.rebuild([...jails]);
  }

  /**
   * Commits every jail's pending changes and `positions` in one transaction. True: stored, act
   * on the decisions. False: nothing was stored, every jail was rebuilt from the store (the
   * decisions are gone from memory too), and the caller must not act on them; a source must
   * deliver its batch again.
   */
  commit(jails: Iterable<GuardedJail>, positions: readonly SourcePosition[] = []): boolean {
    const list = [...jails];
    this.checkFile();
    if (this.stale) {
      // These changes were made on memory that never matched the store: drop them.
      this.rebuild(list);
      return false;
    }
    const changes = list.map((j) => j.jail.takeChanges());
    const substantive = changes.some((c) => c.failures.seq.length > 0 || c.bans.length > 0 || c.lifts.length > 0);
    try {
      this.store.commit({ jails: changes, positions });
    } catch (err) {
      const fresh = this.noteCommitFailure(err);
      this.refusedChanges ||= substantive;
      this.rebuild(list, fresh);
      return false;
    }
    // Healthy again once what was refused could be stored. A commit of a source position alone
    // proves little: on a full disk SQLite still rewrites the WAL pages it already has, so status
    // went from FAILING to ok and back while no failure or ban could be stored.
    if (this.commitProblem !== null && (substantive || !this.refusedChanges)) {
      this.refusedChanges = false;
      this.opts.logger.info({ database: this.store.file, failingSince: new Date(this.commitProblem.at).toISOString() }, 'store.recovered');
      this.commitProblem = null;
    }
    return true;
  }

  /** Each jail's memory, as the store has it (as at start and reload). */
  private rebuild(list: readonly GuardedJail[], loud = true): boolean {
    let restored: Jail[];
    const started = performance.now();
    try {
      restored = list.map((j) =>
        Jail.restore(j.cfg.policy, this.store.loadJail(j.cfg.name, { findtime: j.cfg.policy.findtime, remember: j.cfg.policy.increment.remember }), j.filter?.countsForNetwork),
      );
    } catch (err) {
      // Memory keeps decisions the store lacks: no more lines until a rebuild works.
      this.stale = true;
      this.noteCommitFailure(err);
      return false;
    }
    list.forEach((j, i) => (j.jail = restored[i]!));
    this.stale = false;
    this.lastRebuildMs = performance.now() - started;
    // At each retry of a lasting fault this is routine: logged loudly once.
    this.opts.logger[loud ? 'warn' : 'debug'](
      { database: this.store.file, jails: list.map((j) => j.cfg.name), ms: Math.round(this.lastRebuildMs), retryInMs: Math.round(this.retryDelayMs()) },
      'store.memoryRebuilt',
    );
    return true;
  }

  /** Records a failure; true when it is news (first, or a different error). */
  private noteCommitFailure(err: unknown): boolean {
    const message = err instanceof Error ? err.message : String(err);
    this.lastFailureAt = this.opts.clock.now();
    const fresh = this.commitProblem === null || this.commitProblem.message !== message;
    // Logged when it starts or changes, not at every retry of a disk that stays full.
    if (fresh) {
      this.opts.logger.error({ database: this.store.file, err: message }, 'store.commitFailed');
      this.commitProblem = { message, at: this.commitProblem?.at ?? this.opts.clock.now() };
    } else {
      this.opts.logger.debug({ database: this.store.file, err: message }, 'store.commitFailed');
    }
    return fresh;
  }

  /** Compares the file at the path with the open one; a change is reported once, and rescued. */
  private checkFile(): void {
    let problem: string | null;
    try {
      problem = this.store.fileProblem();
    } catch (err) {
      problem = `${this.store.file}: cannot check the database file: ${(err as Error).message}`;
    }
    if (problem === null || this.fileProblem !== null) return;
    const saved = rescuePath(this.store.file);
    this.fileProblem = {
      message: `${problem}; pban keeps protecting from the open copy and saves it to ${saved} (move that back to ${this.store.file} after stopping pban)`,
      at: this.opts.clock.now(),
    };
    this.opts.logger.error({ database: this.store.file, problem, rescue: saved }, 'store.fileLost');
    this.rescue();
  }

  /** Saves the open database's state next to its path, with a marker so a start asks about it. */
  private rescue(): void {
    const saved = rescuePath(this.store.file);
    try {
      const id = this.store.storeId;
      // The marker may have gone with the directory: without it, a start would begin from nothing.
      if (id !== null && markerMissing(this.store.file)) writeMarker(this.store.file, { storeId: id, created: new Date(this.opts.clock.now()).toISOString() });
      this.store.copyTo(saved);
      this.opts.logger.warn({ database: this.store.file, savedTo: saved }, 'store.rescued');
    } catch (err) {
      this.opts.logger.error({ database: this.store.file, err: (err as Error).message }, 'store.rescueFailed');
    }
  }
}

function markerMissing(database: string): boolean {
  try {
    return readMarker(database) === null;
  } catch {
    return false; // there, if damaged: a start reports it
  }
}
