// The journald source: runs `journalctl --follow --output=json`, turns each entry into a
// syslog-like line, and yields batches with the cursor of their last entry as position.
//
// Why journalctl and not a binding to libsystemd: no native addon to build, and journalctl is on
// every systemd machine. It is run with an argument array, never through a shell.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogLine, SourcePosition } from '../../events.js';
import { LineSplitter } from '../line-splitter.js';
import { followArgs, tailArgs, type FollowFrom, type JournalSelection } from './args.js';
import { JOURNAL_SOURCE_DEFAULTS, cursorOf, journalPosition, type JournalSourceOptions, type JournalStart } from './config.js';
import { parseEntry } from './entry.js';
import { systemClock } from '../../clock.js';

export interface JournalBatch {
  readonly sourceId: string;
  /** One line per entry, in journal order. `end` is 0: a journal line has no byte offset. */
  readonly lines: readonly LogLine[];
  /** The cursor of the last entry (see config.ts for how a cursor sits in a SourcePosition). */
  readonly position: SourcePosition;
}

export interface JournalSourceStats {
  batches: number;
  lines: number;
  /** Entries whose JSON line was longer than the cap, or not an entry: dropped. */
  oversizedLines: number;
  badEntries: number;
  /** journalctl runs that ended while we still wanted to read (crash, kill, bad argument, missing). */
  restarts: number;
}

/** journalctl's JSON for one entry is bigger than its line: bytes as numbers take up to 4 bytes each. */
const JSON_PER_TEXT_BYTE = 5;
const STDERR_KEEP = 2000;
/** A run that lasted this long was healthy: the next restart waits the minimum again. */
const HEALTHY_RUN_MS = 10_000;

export class JournalSource {
  readonly stats: JournalSourceStats = { batches: 0, lines: 0, oversizedLines: 0, badEntries: 0, restarts: 0 };
  private readonly opts: Required<Omit<JournalSourceOptions, 'logger' | 'position' | 'directory' | 'files'>> &
    Pick<JournalSourceOptions, 'logger' | 'directory' | 'files'>;
  private readonly sel: JournalSelection;
  /** Cursor of the last batch the consumer asked past (or the stored one). */
  private acked: string | null;
  private running = false;
  private child: ChildProcess | null = null;
  private markReady!: () => void;
  /**
   * Resolves once the start point is fixed (the newest entry's cursor read, or journalctl started
   * after a cursor or time): an entry written after this is never missed. Also resolves when
   * journalctl cannot be run, so a daemon still starts (and keeps retrying).
   */
  readonly ready: Promise<void> = new Promise((resolve) => (this.markReady = resolve));

  constructor(options: JournalSourceOptions) {
    this.opts = {
      sourceId: options.sourceId,
      matches: options.matches,
      directory: options.directory,
      files: options.files,
      start: options.start ?? JOURNAL_SOURCE_DEFAULTS.start,
      journalctl: options.journalctl ?? JOURNAL_SOURCE_DEFAULTS.journalctl,
      maxLineBytes: options.maxLineBytes ?? JOURNAL_SOURCE_DEFAULTS.maxLineBytes,
      restartMinMs: options.restartMinMs ?? JOURNAL_SOURCE_DEFAULTS.restartMinMs,
      restartMaxMs: options.restartMaxMs ?? JOURNAL_SOURCE_DEFAULTS.restartMaxMs,
      logger: options.logger,
    };
    if (this.opts.maxLineBytes < 1 || this.opts.restartMinMs < 1 || this.opts.restartMaxMs < this.opts.restartMinMs) {
      throw new RangeError('journal source: maxLineBytes and restart delays must be positive, restartMaxMs >= restartMinMs');
    }
    this.sel = { matches: options.matches, directory: options.directory, files: options.files };
    this.acked = cursorOf(options.position?.sourceId === options.sourceId ? options.position : null);
  }

  /** What `pban status` shows as this source. */
  get files(): string[] {
    const where = this.opts.directory ?? (this.opts.files?.join(',') || 'system');
    return [`journal:${where}${this.opts.matches.length > 0 ? ` ${this.opts.matches.join(' ')}` : ''}`];
  }

  /** pid of the running journalctl, if any (tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Follows until `signal` aborts. The next batch is read only when the consumer asks for it
   * (journalctl blocks on its full pipe meanwhile), so every yielded position is safe to commit
   * once the batch is. A journalctl that ends is run again after a pause (1 s doubling to 30 s),
   * from the cursor of the last batch asked past: nothing lost, nothing read twice.
   *
   * One follow() at a time; after it ended (abort, or the consumer threw) it may be called again
   * and resumes after the last acknowledged batch (a batch whose processing threw comes again).
   */
  async *follow(signal: AbortSignal): AsyncGenerator<JournalBatch, void, undefined> {
    if (this.running) throw new Error('JournalSource.follow() is already running');
    this.running = true;
    let delay = this.opts.restartMinMs;
    try {
      while (!signal.aborted) {
        const startedAt = systemClock.now();
        let from: FollowFrom;
        try {
          from = await this.startPoint(signal);
        } catch (err) {
          this.markReady();
          if (signal.aborted) return;
          this.stats.restarts++;
          this.opts.logger?.warn({ source: this.opts.sourceId, err: String((err as Error).message ?? err), retryInMs: delay }, 'source.journalUnreadable');
          await pause(delay, signal);
          delay = Math.min(delay * 2, this.opts.restartMaxMs);
          continue;
        }
        if (from.type === 'cursor' && from.cursor !== this.acked) {
          // "The end" is now a cursor: hand it over, so a restart resumes exactly here.
          const position = journalPosition(this.opts.sourceId, from.cursor);
          this.stats.batches++;
          yield { sourceId: this.opts.sourceId, lines: [], position };
          this.acked = from.cursor;
        }
        const run = yield* this.run(from, signal);
        if (signal.aborted) return;
        if (run.badCursor && this.acked !== null) {
          this.opts.logger?.error({ source: this.opts.sourceId, cursor: this.acked, stderr: run.stderr }, 'source.journalBadCursor');
          this.acked = null; // start over by the start policy rather than fail forever
        }
        this.stats.restarts++;
        if (run.delivered || systemClock.now() - startedAt >= HEALTHY_RUN_MS) delay = this.opts.restartMinMs;
        this.opts.logger?.warn(
          { source: this.opts.sourceId, exitCode: run.code, signal: run.signal, err: run.error, stderr: run.stderr, retryInMs: delay },
          'source.journalctlExited',
        );
        await pause(delay, signal);
        delay = Math.min(delay * 2, this.opts.restartMaxMs);
      }
    } finally {
      this.kill();
      this.markReady();
      this.running = false;
    }
  }

  /** Where the next journalctl run starts: after the acked cursor, or by the start policy. */
  private async startPoint(signal: AbortSignal): Promise<FollowFrom> {
    if (this.acked !== null) return { type: 'cursor', cursor: this.acked };
    const start: JournalStart = this.opts.start;
    if (start === 'beginning') return { type: 'all' };
    if (start !== 'end') return { type: 'since', sinceMs: start.sinceMs };
    const cursor = await this.newestCursor(signal);
    // An empty journal (for these matches): every entry that comes is new.
    return cursor === null ? { type: 'all' } : { type: 'cursor', cursor };
  }

  /** The cursor of the newest matching entry, or null when there is none. */
  private newestCursor(signal: AbortSignal): Promise<string | null> {
    return new Promise((resolve, reject) => {
      execFile(this.opts.journalctl, tailArgs(this.sel), { signal, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`${this.opts.journalctl} ${(err as NodeJS.ErrnoException).code ?? ''} ${stderr.trim().slice(0, STDERR_KEEP)}`.trim()));
          return;
        }
        const line = stdout.split('\n').filter((l) => l.startsWith('{')).pop();
        resolve(line === undefined ? null : (parseEntry(line, systemClock.now())?.cursor ?? null));
      });
    });
  }

  /** One journalctl run: yields its batches until it ends or `signal` aborts. */
  private async *run(from: FollowFrom, signal: AbortSignal): AsyncGenerator<JournalBatch, RunEnd, undefined> {
    const child = spawn(this.opts.journalctl, followArgs(this.sel, from), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    let spawnError: string | undefined;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      stderr = (stderr + s).slice(-STDERR_KEEP);
    });
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('error', (err) => {
        spawnError = (err as NodeJS.ErrnoException).code ?? err.message;
        resolve({ code: null, signal: null });
      });
      child.once('close', (code, sig) => resolve({ code, signal: sig }));
    });
    child.once('spawn', () => this.markReady());
    const onAbort = (): void => this.kill();
    signal.addEventListener('abort', onAbort, { once: true });
    const splitter = new LineSplitter(0, this.opts.maxLineBytes * JSON_PER_TEXT_BYTE);
    let delivered = false;
    try {
      // Pulling the stream only when the consumer asks for a batch is the back-pressure.
      for await (const chunk of child.stdout!) {
        const { lines, oversized } = splitter.push(chunk as Buffer);
        this.stats.oversizedLines += oversized;
        const out: LogLine[] = [];
        let last: string | null = null;
        const now = systemClock.now();
        for (const l of lines) {
          const e = parseEntry(l.text, now);
          if (e === null) {
            this.stats.badEntries++;
            continue;
          }
          last = e.cursor;
          if (Buffer.byteLength(e.text) > this.opts.maxLineBytes) {
            this.stats.oversizedLines++;
            continue;
          }
          out.push({ text: e.text, sourceId: this.opts.sourceId, end: 0 });
        }
        if (last === null) continue;
        this.stats.batches++;
        this.stats.lines += out.length;
        yield { sourceId: this.opts.sourceId, lines: out, position: journalPosition(this.opts.sourceId, last) };
        this.acked = last; // the consumer asked for more: it is done with that batch
        delivered = true;
      }
    } catch (err) {
      if (!signal.aborted) spawnError ??= String(err);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.kill(); // a no-op when journalctl ended by itself
    }
    const end = await closed;
    this.child = null;
    this.markReady();
    const badCursor = from.type === 'cursor' && !delivered && /cursor/i.test(stderr) && end.code !== 0;
    return { ...end, error: spawnError, stderr: stderr.trim(), delivered, badCursor };
  }

  /** Ends the running journalctl (by its pid), if any. */
  private kill(): void {
    const c = this.child;
    if (c !== null && c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      try {
        process.kill(c.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
}

interface RunEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error: string | undefined;
  readonly stderr: string;
  readonly delivered: boolean;
  readonly badCursor: boolean;
}

/** Waits `ms`, or less if `signal` aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}
