// Reads a whole file (or stdin) fast, for offline commands (test-filter, replay): large
// chunks into one reused Buffer, cut at the last newline so no UTF-8 character or line is
// split, decoded once per chunk. No readline, no per-line allocation here.
import { isAscii } from 'node:buffer';
import { readSync } from 'node:fs';

export interface ReadLinesOptions {
  /** Bytes read per call; default 120 KiB. */
  chunkSize?: number;
  /**
   * A line that does not fit in this many bytes is replaced by an empty line (so numbering
   * stays right) and counted: memory stays bounded whatever the input. Shorter lines are
   * passed on whole; the consumer decides what is too long for it.
   */
  maxLineLength?: number;
}

export interface ReadLinesStats {
  bytes: number;
  /** Lines longer than maxLineLength, replaced by empty lines. */
  tooLong: number;
}

// Below V8's large-object threshold (128 KiB): each chunk then decodes into the young
// generation and dies there, instead of costing a fresh mapping and its page faults.
const DEFAULT_CHUNK = 120 << 10;
const DEFAULT_MAX_LINE = 64 * 1024;
const NL = 10;

function readFully(fd: number, buf: Buffer, offset: number, length: number): number {
  for (;;) {
    try {
      return readSync(fd, buf, offset, length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // A non-blocking stdin with nothing yet: wait a little without spinning.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      if (code === 'EOF') return 0;
      throw err;
    }
  }
}

/**
 * Yields strings made of whole lines, each ending in "\n" (a final line without one gets
 * one). Split them with indexOf('\n'). `stats` is filled in as reading goes.
 */
export function* readLineChunks(fd: number, opts: ReadLinesOptions = {}, stats: ReadLinesStats = { bytes: 0, tooLong: 0 }): Generator<string, ReadLinesStats> {
  const maxLine = opts.maxLineLength ?? DEFAULT_MAX_LINE;
  const size = Math.max(opts.chunkSize ?? DEFAULT_CHUNK, maxLine + 1);
  const buf = Buffer.allocUnsafe(size);
  let used = 0; // bytes of an unfinished line kept at the start of buf
  let skipping = false; // inside a line that is too long: drop bytes until its newline
  for (;;) {
    const n = readFully(fd, buf, used, size - used);
    if (n === 0) break;
    stats.bytes += n;
    let end = used + n;
    let start = 0;
    if (skipping) {
      const nl = buf.indexOf(NL, 0);
      if (nl === -1 || nl >= end) {
        used = 0;
        continue;
      }
      skipping = false;
      start = nl + 1;
    }
    const last = buf.lastIndexOf(NL, end - 1);
    if (last < start) {
      // No newline in the buffer: keep the partial line unless it is already too long.
      if (end - start > maxLine) {
        stats.tooLong++;
        skipping = true;
        used = 0;
        yield '\n';
        continue;
      }
      buf.copy(buf, 0, start, end);
      used = end - start;
      continue;
    }
    yield decode(buf, start, last + 1);
    buf.copy(buf, 0, last + 1, end);
    used = end - (last + 1);
  }
  if (used > 0 && !skipping) yield `${decode(buf, 0, used)}\n`;
  return stats;
}

/** Mail logs are nearly always ASCII, and latin1 decoding skips UTF-8 validation. */
function decode(buf: Buffer, start: number, end: number): string {
  return buf.toString(isAscii(buf.subarray(start, end)) ? 'latin1' : 'utf8', start, end);
}
