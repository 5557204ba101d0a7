// The file follower: follows files named by paths or globs, across rename and copytruncate
// rotation, and yields batches of complete lines together with the position after them.
//
// Why our own and not the `tail` package: see bench/tail-rotation.bench.ts and src/sources/index.ts.
//
// I/O is synchronous on purpose: these are local regular files, each call is bounded
// (one read of at most maxBatchBytes), and a synchronous fstat+pread after an inotify event is
// the shortest path from a written line to the consumer.
import { closeSync, fstatSync, readSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { LogLine, SourcePosition } from '../../events.js';
import { FileProblem, openRegularFile } from '../../files.js';
import { expandGlob, globBase, hasGlob } from '../glob.js';
import { LineSplitter } from '../line-splitter.js';
import { FILE_SOURCE_DEFAULTS, type FileSourceOptions, type StartAt } from './config.js';
import { IDENTITY_MAX, hashIdentity, readIdentity, startsWith } from './identity.js';
import { isRotatedName, openRotatedCopy, type RotatedCopyQuery } from './rotated-copy.js';
import { DirWatchers, Wakeup } from './wakeup.js';

// A read sized for the lines a batch may hold: mail log lines are 100-250 bytes, so this reads
// a little more than one batch and the rest waits in the file, not in a split we must finish.
// Reads are never smaller than MIN_READ_BYTES (one syscall per handful of lines would cost more).
const READ_BYTES_PER_LINE = 256;
const MIN_READ_BYTES = 16 * 1024;

/** What the follower hands over: lines of one file and the position to commit with them. */
export interface LineBatch {
  readonly sourceId: string;
  /** The followed path (even when the bytes come from its rotated copy). */
  readonly path: string;
  /** Complete lines in file order. May be empty when only the position moved (start, rotation, skipped line). */
  readonly lines: readonly LogLine[];
  /** Where a restart must resume once these lines are committed. */
  readonly position: SourcePosition;
}

/** Counters for `pban status` and logs. */
export interface FileSourceStats {
  batches: number;
  lines: number;
  /** Lines longer than maxLineBytes, dropped. */
  oversizedLines: number;
  /** Unterminated last lines of a rotated-away file, dropped. */
  partialLinesDropped: number;
  /** Switches to a new file after a rename (or delete) and re-create. */
  rotations: number;
  /** Truncations seen (copytruncate, or `> file`). */
  truncations: number;
  /** Times the unread rest of a file was read from its rotated copy. */
  copiesRead: number;
  /** I/O errors (permission, EIO): logged, retried on the next wake-up. */
  errors: number;
}

interface OpenFile {
  /** The followed path that holds this file open (null: a rotated copy read in passing). */
  readonly owner: Tracked | null;
  readonly fd: number;
  readonly ino: number;
  readonly dev: number;
  /** First line (capped) once complete; null before. */
  identity: Buffer | null;
  hash: string;
  splitter: LineSplitter;
  /** Size at the last identity check: an unchanged size needs no re-check. */
  checkedSize: number;
}

interface Tracked {
  readonly path: string;
  /** The file being read: the live one, or the renamed-away one until its successor has data. */
  cur: OpenFile | null;
  /** The new file at `path` after a rename, held open (empty so far) until it gets data. */
  next: OpenFile | null;
  /** A stored position not yet applied: applied when the file is (re)opened. */
  resumeFrom: SourcePosition | null;
  /** Position of the last batch the consumer acknowledged by asking for the next one. */
  acked: SourcePosition | null;
  startAt: StartAt;
  lastPosition: SourcePosition | null;
  /** Last error code logged, so a persistent error is logged once, not every poll. */
  warned: string | null;
}

function sameFile(st: Stats, f: OpenFile): boolean {
  return st.ino === f.ino && st.dev === f.dev;
}

/** A file's identity on this machine while it exists: device and inode. */
function fileKey(dev: number, ino: number): string {
  return `${dev}:${ino}`;
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | null)?.code ?? String(err);
}

export class FileSource {
  readonly stats: FileSourceStats = {
    batches: 0,
    lines: 0,
    oversizedLines: 0,
    partialLinesDropped: 0,
    rotations: 0,
    truncations: 0,
    copiesRead: 0,
    errors: 0,
  };
  private readonly opts: Required<Omit<FileSourceOptions, 'logger' | 'positions'>> & Pick<FileSourceOptions, 'logger'>;
  private readonly positions: Map<string, SourcePosition>;
  private readonly tracked = new Map<string, Tracked>();
  /**
   * Several followed paths can meet the same file: a glob over a log and a name its rotation
   * moves it to. A file is read by one path at a time (its holder here, by device + inode) and
   * never from the start again: a path that finds a file another path finished (released, with
   * the offset read and the first-line hash) takes it over from that offset.
   */
  private readonly holders = new Map<string, Tracked>();
  private readonly released = new Map<string, { readonly hash: string; readonly offset: number }>();
  private readonly buf: Buffer;
  private lineBudget: number;
  private signal: AbortSignal | null = null;
  private running = false;
  private markReady!: () => void;
  /**
   * Resolves once follow() has opened every file matched at start and delivered what was there
   * (or, with start 'end', fixed its starting point). A line written after this is never missed,
   * so the daemon announces itself only then.
   */
  readonly ready: Promise<void> = new Promise((resolve) => (this.markReady = resolve));

  constructor(options: FileSourceOptions) {
    this.opts = {
      sourceId: options.sourceId,
      paths: options.paths,
      start: options.start ?? FILE_SOURCE_DEFAULTS.start,
      pollIntervalMs: options.pollIntervalMs ?? FILE_SOURCE_DEFAULTS.pollIntervalMs,
      maxLineBytes: options.maxLineBytes ?? FILE_SOURCE_DEFAULTS.maxLineBytes,
      maxBatchBytes: options.maxBatchBytes ?? FILE_SOURCE_DEFAULTS.maxBatchBytes,
      maxBatchLines: options.maxBatchLines ?? FILE_SOURCE_DEFAULTS.maxBatchLines,
      logger: options.logger,
    };
    if (this.opts.maxLineBytes < 1 || this.opts.maxBatchBytes < 1 || this.opts.maxBatchLines < 1 || this.opts.pollIntervalMs < 1) {
      throw new RangeError('file source: maxLineBytes, maxBatchBytes, maxBatchLines and pollIntervalMs must be positive');
    }
    this.positions = new Map(
      (options.positions ?? []).filter((p) => p.sourceId === options.sourceId).map((p) => [path.resolve(p.path), p]),
    );
    this.buf = Buffer.allocUnsafe(this.opts.maxBatchBytes);
    this.lineBudget = this.opts.maxBatchLines;
  }

  /**
   * Lines per batch from now on, at most maxBatchLines: a consumer that times its batches
   * (sources/pace.ts) sets it. Reads shrink with it (READ_BYTES_PER_LINE per line), so a small
   * batch never waits for a whole maxBatchBytes read to be cut into lines first.
   */
  get batchLines(): number {
    return this.lineBudget;
  }

  set batchLines(n: number) {
    this.lineBudget = Math.max(1, Math.min(this.opts.maxBatchLines, Math.floor(n)));
  }

  /** Paths currently followed (expanded globs). */
  get files(): string[] {
    return [...this.tracked.keys()];
  }

  /**
   * Follows until `signal` aborts, yielding batches. The next batch is read only when the consumer
   * asks for it, so a consumer that commits each batch before pulling the next bounds memory to one
   * batch and makes every yielded position safe to commit.
   *
   * One follow() at a time. After it ends (abort, or the consumer's loop threw), follow() may be
   * called again: it resumes each file after the last batch the consumer acknowledged, i.e. asked
   * past; a batch whose processing threw is delivered again.
   */
  async *follow(signal: AbortSignal): AsyncGenerator<LineBatch, void, undefined> {
    if (this.running) throw new Error('FileSource.follow() is already running');
    this.running = true;
    this.signal = signal;
    const wake = new Wakeup();
    let globDue = true;
    const watchers = new DirWatchers(
      () => wake.notify(),
      () => (globDue = true),
    );
    const onAbort = (): void => wake.notify();
    signal.addEventListener('abort', onAbort, { once: true });
    // The safety net: re-expands globs and re-reads every file even if inotify missed something.
    const timer = setInterval(() => {
      globDue = true;
      wake.notify();
    }, this.opts.pollIntervalMs);
    let initial = true;
    try {
      while (!signal.aborted) {
        if (globDue) {
          globDue = false;
          await this.refresh(initial, watchers);
          initial = false;
        }
        for (const t of this.tracked.values()) {
          if (signal.aborted) return;
          try {
            const errorsBefore = this.stats.errors;
            for (const b of this.drain(t)) {
              yield b;
              t.acked = b.position; // the consumer asked for more: it is done with b
            }
            // A pass without any error: a later error is news again. (A pass that read the old
            // file but could not open its successor, a FIFO say, is not.)
            if (this.stats.errors === errorsBefore) t.warned = null;
          } catch (err) {
            this.fail(t, err);
          }
        }
        this.markReady();
        await wake.wait();
      }
    } finally {
      this.markReady();
      clearInterval(timer);
      signal.removeEventListener('abort', onAbort);
      watchers.closeAll();
      for (const t of this.tracked.values()) {
        this.close(t.cur);
        this.close(t.next);
        t.cur = t.next = null;
        t.resumeFrom = t.acked ?? t.resumeFrom;
      }
      this.running = false;
    }
  }

  /** Expands the globs, starts tracking new matches, and watches their directories. */
  private async refresh(initial: boolean, watchers: DirWatchers): Promise<void> {
    const dirs = new Set<string>();
    for (const pattern of this.opts.paths) {
      dirs.add(globBase(pattern));
      const matches = await expandGlob(pattern);
      for (const p of matches) {
        if (this.tracked.has(p)) continue;
        // `mail.log*` also matches mail.log.1, mail.log.2.gz: those hold lines read from mail.log
        // before it was rotated (its rotation handling reads whatever was left in them), so a
        // glob never follows them as files of their own.
        if (hasGlob(pattern) && this.isRotatedCopyName(p, matches)) continue;
        this.tracked.set(p, {
          path: p,
          cur: null,
          next: null,
          resumeFrom: this.positions.get(p) ?? null,
          acked: null,
          // A file first seen after we started is new: all of it is unread.
          startAt: initial ? this.opts.start : 'beginning',
          lastPosition: null,
          warned: null,
        });
      }
    }
    for (const p of this.tracked.keys()) dirs.add(path.dirname(p));
    watchers.sync(dirs);
  }

  /** Records a finished file. The oldest records go first past a bound: one is made per rotation. */
  private release(key: string, r: { readonly hash: string; readonly offset: number }): void {
    this.released.delete(key);
    this.released.set(key, r);
    if (this.released.size > 1000) this.released.delete(this.released.keys().next().value!);
  }

  /** Whether `p` is named as a rotated copy of another followed or matched file in its directory. */
  private isRotatedCopyName(p: string, matches: readonly string[]): boolean {
    const dir = path.dirname(p);
    const name = path.basename(p);
    const live = (q: string): boolean => q !== p && path.dirname(q) === dir && isRotatedName(path.basename(q), name);
    return matches.some(live) || [...this.tracked.keys()].some(live);
  }

  /**
   * Whether `t` may read the file open as fd: not while another followed path holds it. Returns
   * where to start if another path finished it (released), else undefined.
   */
  private claim(t: Tracked, fd: number, st: Stats): { ok: false } | { ok: true; from: number | undefined } {
    const key = fileKey(st.dev, st.ino);
    const holder = this.holders.get(key);
    if (holder !== undefined && holder !== t) return { ok: false };
    const rel = this.released.get(key);
    if (rel === undefined) return { ok: true, from: undefined };
    const identity = readIdentity(fd, st.size);
    // The inode was reused by a new file (another first line, or shorter): start as usual.
    if (identity === null || hashIdentity(identity) !== rel.hash || st.size < rel.offset) {
      this.released.delete(key);
      return { ok: true, from: undefined };
    }
    return { ok: true, from: rel.offset };
  }

  /** Reads everything available for one followed path, across rotations. */
  private *drain(t: Tracked): Generator<LineBatch> {
    if (t.cur === null) {
      yield* this.open(t);
      if (t.cur === null) return;
    }
    for (;;) {
      const cur: OpenFile = t.cur;
      yield* this.readAvailable(t, cur);
      if (this.signal?.aborted) return;
      // Switch only once the successor has data: the writer has reopened by then, so nothing more
      // will land in the old file, and reading it to its end now loses nothing.
      if (t.next !== null && fstatSync(t.next.fd).size > 0) {
        yield* this.readAvailable(t, cur);
        if (cur.splitter.hasPartial) this.stats.partialLinesDropped++;
        // Finished: another followed path that finds it under its rotated name starts at its end.
        if (cur.identity !== null) this.release(fileKey(cur.dev, cur.ino), { hash: cur.hash, offset: cur.splitter.offset });
        this.close(cur);
        t.cur = t.next;
        t.next = null;
        this.stats.rotations++;
        this.opts.logger?.info({ path: t.path }, 'source.rotated');
        yield this.batch(t, t.cur, []);
        continue;
      }
      let st: Stats;
      try {
        st = statSync(t.path);
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw err;
        // Renamed or deleted, no successor yet: keep reading the old file, unless it was deleted
        // (no name left) and read to its end. Then nobody can read what may still land in it, and
        // holding it would pin its disk space; a file re-created at the path is read from 0.
        const fst = fstatSync(cur.fd);
        if (t.next === null && fst.nlink === 0 && fst.size <= cur.splitter.readOffset) {
          if (cur.splitter.hasPartial) this.stats.partialLinesDropped++;
          this.close(cur);
          t.cur = null;
          t.resumeFrom = null;
          t.startAt = 'beginning';
        }
        return;
      }
      if (sameFile(st, cur) || (t.next !== null && sameFile(st, t.next))) return;
      // A new file at the path. Any earlier successor was empty (else we had switched): drop it.
      this.close(t.next);
      t.next = null;
      let opened: { fd: number; st: Stats };
      try {
        // Never blocks: a FIFO put at the path is refused, not waited on (files.ts).
        opened = openRegularFile(t.path);
      } catch (err) {
        // Not fatal, and the old file stays open: it may still hold lines we have not read.
        if (errCode(err) !== 'ENOENT') this.warnOnce(t, err); // ENOENT: renamed again meanwhile
        return;
      }
      const c = this.claim(t, opened.fd, opened.st);
      if (!c.ok) {
        // Another followed path is reading it (a glob matched the name it was rotated to, say):
        // it stays with that path, which reads it to its end. Checked again at the next wake-up.
        closeSync(opened.fd);
        return;
      }
      t.next = this.openFile(t, opened.fd, opened.st, c.from ?? 0);
    }
  }

  /** First open of a tracked path: applies the stored position or the start policy. */
  private *open(t: Tracked): Generator<LineBatch> {
    let fd: number;
    let st: Stats;
    try {
      // Never blocks: a FIFO, a device or a directory at the path is an error for this path
      // (logged once, retried every poll), and the other files keep flowing.
      ({ fd, st } = openRegularFile(t.path));
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
      const p = t.resumeFrom;
      if (p !== null && p.offset > 0) {
        // Rotated while we were down and not re-created yet: read the rest from the rotated copy.
        t.resumeFrom = null;
        yield* this.readRotatedCopy(t, { hash: p.firstLineHash, offset: p.offset, preferInode: p.inode });
      }
      t.startAt = 'beginning'; // when it appears, all of it is new
      return;
    }
    const c = this.claim(t, fd, st);
    if (!c.ok) {
      closeSync(fd);
      return; // another followed path reads it; checked again at the next wake-up
    }
    const p = t.resumeFrom;
    t.resumeFrom = null;
    let start = 0;
    if (p !== null) {
      const identity = p.offset > 0 ? readIdentity(fd, st.size) : null;
      const same =
        st.ino === p.inode && identity !== null && hashIdentity(identity) === p.firstLineHash && st.size >= p.offset;
      if (same) start = p.offset;
      else {
        // Rotated (renamed, or copied and truncated) while we were down: finish the old file from its
        // copy if one is still there, then read the new file from its beginning (or from where
        // another followed path stored it was).
        if (p.offset > 0) {
          yield* this.readRotatedCopy(t, {
            hash: p.firstLineHash,
            offset: p.offset,
            preferInode: p.inode,
            excludeInode: st.ino,
          });
        }
        start = this.storedElsewhere(fd, st);
      }
    } else if (t.startAt === 'end') {
      start = this.endOfLastLine(fd, st.size);
    } else start = this.storedElsewhere(fd, st);
    // Another followed path finished this file: never read what it read again.
    if (c.from !== undefined) start = Math.max(start, c.from);
    t.cur = this.openFile(t, fd, st, start);
    const was = t.lastPosition;
    // Report where we start, so it can be committed, unless it is where we already were (a retry).
    if (was === null || was.inode !== t.cur.ino || was.offset !== start) yield this.batch(t, t.cur, []);
  }

  /**
   * Where to start a file this path has no position for: if another path of this source stored a
   * position in this very file (same inode and first line: it was renamed to our name while pban
   * was down), after what that path read; else at 0.
   */
  private storedElsewhere(fd: number, st: Stats): number {
    let best = 0;
    let identity: string | null | undefined;
    for (const q of this.positions.values()) {
      if (q.inode !== st.ino || q.offset <= best || q.offset > st.size || q.firstLineHash === '') continue;
      if (identity === undefined) {
        const id = readIdentity(fd, st.size);
        identity = id === null ? null : hashIdentity(id);
      }
      if (identity === q.firstLineHash) best = q.offset;
    }
    return best;
  }

  private openFile(owner: Tracked | null, fd: number, st: Stats, start: number): OpenFile {
    const identity = start > 0 ? readIdentity(fd, st.size) : null;
    if (owner !== null) this.holders.set(fileKey(st.dev, st.ino), owner);
    return {
      owner,
      fd,
      ino: st.ino,
      dev: st.dev,
      identity,
      hash: identity === null ? '' : hashIdentity(identity),
      splitter: new LineSplitter(start, this.opts.maxLineBytes),
      checkedSize: st.size,
    };
  }

  /** Offset just past the last newline, so a line being written when we start is read whole. */
  private endOfLastLine(fd: number, size: number): number {
    // (The read buffer may be smaller than a line when maxBatchBytes < maxLineBytes.)
    const len = Math.min(size, this.opts.maxLineBytes, this.buf.length);
    const n = readSync(fd, this.buf, 0, len, size - len);
    const nl = this.buf.subarray(0, n).lastIndexOf(0x0a);
    return nl === -1 ? (size > len ? size : 0) : size - n + nl + 1;
  }

  /**
   * Reads `f` from its read offset to its end in bounded chunks, yielding a batch per chunk.
   * `live`: the file may be truncated under us (copytruncate); a rotated copy may not.
   */
  private *readAvailable(t: Tracked, f: OpenFile, live = true): Generator<LineBatch> {
    for (;;) {
      if (this.signal?.aborted) return;
      const size = fstatSync(f.fd).size;
      const from = f.splitter.readOffset;
      if (live && this.wasTruncated(f, size)) {
        yield* this.truncated(t, f);
        continue;
      }
      if (size <= from) return;
      if (f.identity === null && from > 0) {
        // The first line was incomplete at the last read. Read it again from 0 rather than trust a
        // later pread of it: the file may have been truncated and rewritten in between.
        f.splitter = new LineSplitter(0, this.opts.maxLineBytes);
        continue;
      }
      const want = Math.max(MIN_READ_BYTES, this.lineBudget * READ_BYTES_PER_LINE);
      const n = readSync(f.fd, this.buf, 0, Math.min(size - from, this.buf.length, want), from);
      if (n === 0) return;
      if (f.identity === null) this.takeIdentity(f, n);
      // Re-check after the read: a truncate-and-regrow between the check and the read would
      // otherwise hand us the middle of some other line.
      if (live && f.identity !== null && !startsWith(f.fd, f.identity)) {
        yield* this.truncated(t, f);
        continue;
      }
      const before = f.splitter.offset;
      const { lines, oversized } = f.splitter.push(this.buf.subarray(0, n));
      if (oversized > 0) {
        this.stats.oversizedLines += oversized;
        this.opts.logger?.warn({ path: t.path, count: oversized, max: this.opts.maxLineBytes }, 'source.lineTooLong');
      }
      if (f.splitter.offset !== before) {
        const logLines = lines.map((l): LogLine => ({ text: l.text, sourceId: this.opts.sourceId, end: l.end }));
        // Slices of at most batchLines (read again before each: the consumer may change it
        // between two); each but the last ends at its last line's end, which is a safe place to
        // resume (the last one ends where the splitter is, past any dropped line).
        let i = 0;
        while (logLines.length - i > this.lineBudget) {
          const j = i + this.lineBudget;
          yield this.batch(t, f, logLines.slice(i, j), logLines[j - 1]!.end);
          if (this.signal?.aborted) return;
          i = j;
        }
        yield this.batch(t, f, i === 0 ? logLines : logLines.slice(i));
      }
    }
  }

  /** Takes the identity from the n bytes just read at offset 0, the same bytes the lines come from. */
  private takeIdentity(f: OpenFile, n: number): void {
    const head = this.buf.subarray(0, Math.min(n, IDENTITY_MAX + 1));
    const nl = head.indexOf(0x0a);
    if (nl !== -1) f.identity = Buffer.from(head.subarray(0, nl));
    else if (n > IDENTITY_MAX) f.identity = Buffer.from(head.subarray(0, IDENTITY_MAX));
    if (f.identity !== null) {
      f.hash = hashIdentity(f.identity);
      f.checkedSize = 0;
    }
  }

  private wasTruncated(f: OpenFile, size: number): boolean {
    if (size < f.splitter.readOffset) return true;
    if (f.identity === null || size === f.checkedSize) return false;
    f.checkedSize = size;
    return !startsWith(f.fd, f.identity);
  }

  /** The live file was truncated: read what we missed from its copy, then restart at 0. */
  private *truncated(t: Tracked, f: OpenFile): Generator<LineBatch> {
    this.stats.truncations++;
    this.opts.logger?.info({ path: t.path }, 'source.truncated');
    const q: RotatedCopyQuery = { hash: f.hash, offset: f.splitter.offset, excludeInode: f.ino };
    const hadData = f.identity !== null && f.splitter.offset > 0;
    f.splitter = new LineSplitter(0, this.opts.maxLineBytes);
    f.identity = null;
    f.hash = '';
    f.checkedSize = 0;
    if (hadData) yield* this.readRotatedCopy(t, q);
    yield this.batch(t, f, []);
  }

  /** Reads the unread rest of a rotated copy, if one matches. Positions name the copy's inode. */
  private *readRotatedCopy(t: Tracked, q: RotatedCopyQuery): Generator<LineBatch> {
    const copy = openRotatedCopy(t.path, q);
    if (copy === null) {
      this.opts.logger?.info({ path: t.path, offset: q.offset }, 'source.copyNotFound');
      return;
    }
    this.stats.copiesRead++;
    this.opts.logger?.info({ path: t.path, copy: copy.path, offset: q.offset }, 'source.copyRead');
    const key = fileKey(copy.dev, copy.ino);
    const holder = this.holders.get(key);
    if (holder !== undefined && holder !== t) {
      // Another followed path is reading the copy (a glob matches its name): it reads the rest.
      closeSync(copy.fd);
      return;
    }
    const rel = this.released.get(key);
    const f: OpenFile = {
      owner: null,
      fd: copy.fd,
      ino: copy.ino,
      dev: copy.dev,
      identity: copy.identity,
      hash: q.hash,
      splitter: new LineSplitter(rel !== undefined && rel.hash === q.hash ? Math.max(rel.offset, q.offset) : q.offset, this.opts.maxLineBytes),
      checkedSize: 0,
    };
    try {
      yield* this.readAvailable(t, f, false);
      if (f.splitter.hasPartial) this.stats.partialLinesDropped++;
      this.release(key, { hash: q.hash, offset: f.splitter.offset });
    } finally {
      this.close(f);
    }
  }

  /** `offset`: where these lines end, when not where the splitter is (a slice of a read). */
  private batch(t: Tracked, f: OpenFile, lines: readonly LogLine[], offset = f.splitter.offset): LineBatch {
    const position: SourcePosition = {
      sourceId: this.opts.sourceId,
      path: t.path,
      inode: f.ino,
      offset,
      firstLineHash: f.hash,
    };
    t.lastPosition = position;
    this.stats.batches++;
    this.stats.lines += lines.length;
    return { sourceId: this.opts.sourceId, path: t.path, lines, position };
  }

  /** An I/O error is logged once per kind and retried from the last position on the next wake-up. */
  private fail(t: Tracked, err: unknown): void {
    this.warnOnce(t, err);
    if (t.cur !== null) {
      this.close(t.cur);
      this.close(t.next);
      t.cur = t.next = null;
      t.resumeFrom = t.acked ?? t.resumeFrom;
    }
  }

  private warnOnce(t: Tracked, err: unknown): void {
    this.stats.errors++;
    const code = errCode(err);
    if (t.warned !== code) {
      t.warned = code;
      if (err instanceof FileProblem) this.opts.logger?.error({ path: t.path, err: code, why: err.message }, 'source.notRegularFile');
      else this.opts.logger?.warn({ path: t.path, err: code }, 'source.readFailed');
    }
  }

  private close(f: OpenFile | null): void {
    if (f === null) return;
    const key = fileKey(f.dev, f.ino);
    if (f.owner !== null && this.holders.get(key) === f.owner) this.holders.delete(key);
    try {
      closeSync(f.fd);
    } catch {
      // already closed
    }
  }
}
