// The file follower: follows files named by paths or globs, across rename and copytruncate
// rotation, and yields batches of complete lines together with the position after them.
//
// Why our own and not the `tail` package: see bench/tail-rotation.bench.ts and src/sources/index.ts.
//
// I/O is synchronous on purpose: these are local regular files, each call is bounded
// (one read of at most maxBatchBytes), and a synchronous fstat+pread after an inotify event is
// the shortest path from a written line to the consumer.
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { LogLine, SourcePosition } from '../../events.js';
import { expandGlob, globBase } from '../glob.js';
import { LineSplitter } from '../line-splitter.js';
import { FILE_SOURCE_DEFAULTS, type FileSourceOptions, type StartAt } from './config.js';
import { IDENTITY_MAX, hashIdentity, readIdentity, startsWith } from './identity.js';
import { openRotatedCopy, type RotatedCopyQuery } from './rotated-copy.js';
import { DirWatchers, Wakeup } from './wakeup.js';

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
  private readonly buf: Buffer;
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
            for (const b of this.drain(t)) {
              yield b;
              t.acked = b.position; // the consumer asked for more: it is done with b
            }
            t.warned = null; // a later error is news again
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
      for (const p of await expandGlob(pattern)) {
        if (this.tracked.has(p)) continue;
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
      let fd: number;
      try {
        fd = openSync(t.path, 'r');
      } catch (err) {
        // Not fatal, and the old file stays open: it may still hold lines we have not read.
        if (errCode(err) !== 'ENOENT') this.warnOnce(t, err); // ENOENT: renamed again meanwhile
        return;
      }
      t.next = this.openFile(fd, fstatSync(fd), 0);
    }
  }

  /** First open of a tracked path: applies the stored position or the start policy. */
  private *open(t: Tracked): Generator<LineBatch> {
    let fd: number;
    try {
      fd = openSync(t.path, 'r');
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
    const st = fstatSync(fd);
    const p = t.resumeFrom;
    t.resumeFrom = null;
    let start = 0;
    if (p !== null) {
      const identity = p.offset > 0 ? readIdentity(fd, st.size) : null;
      const same =
        st.ino === p.inode && identity !== null && hashIdentity(identity) === p.firstLineHash && st.size >= p.offset;
      if (same) start = p.offset;
      else if (p.offset > 0) {
        // Rotated (renamed, or copied and truncated) while we were down: finish the old file from its
        // copy if one is still there, then read the new file from its beginning.
        yield* this.readRotatedCopy(t, {
          hash: p.firstLineHash,
          offset: p.offset,
          preferInode: p.inode,
          excludeInode: st.ino,
        });
      }
    } else if (t.startAt === 'end') {
      start = this.endOfLastLine(fd, st.size);
    }
    t.cur = this.openFile(fd, st, start);
    const was = t.lastPosition;
    // Report where we start, so it can be committed, unless it is where we already were (a retry).
    if (was === null || was.inode !== t.cur.ino || was.offset !== start) yield this.batch(t, t.cur, []);
  }

  private openFile(fd: number, st: Stats, start: number): OpenFile {
    const identity = start > 0 ? readIdentity(fd, st.size) : null;
    return {
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
    const len = Math.min(size, this.opts.maxLineBytes);
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
      const n = readSync(f.fd, this.buf, 0, Math.min(size - from, this.buf.length), from);
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
        // Slices of at most maxBatchLines; each but the last ends at its last line's end, which
        // is a safe place to resume (the last one ends where the splitter is, past any dropped line).
        const max = this.opts.maxBatchLines;
        for (let i = max; i < logLines.length; i += max) {
          yield this.batch(t, f, logLines.slice(i - max, i), logLines[i - 1]!.end);
          if (this.signal?.aborted) return;
        }
        yield this.batch(t, f, logLines.length > max ? logLines.slice(Math.floor((logLines.length - 1) / max) * max) : logLines);
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
    const f: OpenFile = {
      fd: copy.fd,
      ino: copy.ino,
      dev: copy.dev,
      identity: copy.identity,
      hash: q.hash,
      splitter: new LineSplitter(q.offset, this.opts.maxLineBytes),
      checkedSize: 0,
    };
    try {
      yield* this.readAvailable(t, f, false);
      if (f.splitter.hasPartial) this.stats.partialLinesDropped++;
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
      this.opts.logger?.warn({ path: t.path, err: code }, 'source.readFailed');
    }
  }

  private close(f: OpenFile | null): void {
    if (f === null) return;
    try {
      closeSync(f.fd);
    } catch {
      // already closed
    }
  }
}
