// Cuts a byte stream into complete lines, remembering byte offsets so a position can be
// stored after any line. Pure: no I/O. A partial last line is held back until its newline;
// a line longer than the cap is dropped (and counted) instead of growing memory without bound.

const NEWLINE = 0x0a;
const CR = 0x0d;

/** One complete line cut from a chunk: its text and the byte offset just past its newline. */
export interface SplitLine {
  readonly text: string;
  readonly end: number;
}

export interface SplitResult {
  readonly lines: SplitLine[];
  /** Lines dropped because they were longer than the cap (each counted once, at its newline). */
  readonly oversized: number;
}

export class LineSplitter {
  /** Bytes after the last newline, not yet a line. Empty while skipping an oversized line. */
  private carry: Buffer = Buffer.alloc(0);
  /** True while the current line already exceeded the cap: its bytes are discarded up to its newline. */
  private skipping = false;
  /** File offset of the byte after the last complete (delivered or dropped) line. */
  private lineEnd: number;
  /** File offset of the next byte to be pushed. */
  private readEnd: number;

  constructor(
    start: number,
    private readonly maxLineBytes: number,
  ) {
    this.lineEnd = start;
    this.readEnd = start;
  }

  /** Offset just past the last complete line: where a restart must resume. */
  get offset(): number {
    return this.lineEnd;
  }

  /** Offset of the next byte the reader must read. */
  get readOffset(): number {
    return this.readEnd;
  }

  /** Bytes of an incomplete line are waiting for their newline. */
  get hasPartial(): boolean {
    return this.readEnd > this.lineEnd;
  }

  /** Feeds the bytes that follow `readOffset`; returns the lines they complete. */
  push(chunk: Buffer): SplitResult {
    const lines: SplitLine[] = [];
    let oversized = 0;
    const base = this.readEnd;
    this.readEnd += chunk.length;
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl === -1) break;
      if (this.skipping) {
        this.skipping = false;
        oversized++;
      } else {
        const len = this.carry.length + (nl - from);
        if (len > this.maxLineBytes) {
          oversized++;
        } else {
          const bytes = this.carry.length === 0 ? chunk.subarray(from, nl) : Buffer.concat([this.carry, chunk.subarray(from, nl)]);
          const textEnd = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
          lines.push({ text: bytes.toString('utf8', 0, textEnd), end: base + nl + 1 });
        }
      }
      this.carry = Buffer.alloc(0);
      this.lineEnd = base + nl + 1;
      from = nl + 1;
    }
    if (from < chunk.length && !this.skipping) {
      const rest = chunk.subarray(from);
      if (this.carry.length + rest.length > this.maxLineBytes) {
        this.carry = Buffer.alloc(0);
        this.skipping = true;
      } else {
        // Copy: the caller reuses its read buffer.
        this.carry = this.carry.length === 0 ? Buffer.from(rest) : Buffer.concat([this.carry, rest]);
      }
    }
    return { lines, oversized };
  }
}
