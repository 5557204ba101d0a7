// The matched lines of a jail's most recent failures, by seq. Memory is fixed whatever the attack
// (an address-per-failure flood included): the lines' bytes go into one circular byte buffer, so
// keeping a line allocates nothing the garbage collector must trace or move (a string per line
// cost the engine a third of its speed, measured), and a slice of the read chunk is never kept.
// A ban finds each line behind it in O(1).
import type { MatchTrace } from '../events.js';

/** Lines indexed per jail: a busy MX's failures over a default findtime fit. */
export const TRACE_RING_SIZE = 65_536;
/** Bytes of line text kept per jail (about 55,000 typical Postfix lines). */
export const TRACE_BYTES = 8 * 1024 * 1024;
/** A longer line is kept cut to this many characters (it is evidence, not the log). */
export const TRACE_LINE_MAX = 2048;

export class TraceRing {
  // Allocated at the first line: a jail that never traces (tests, checks) costs nothing.
  private seqs = new Float64Array(0);
  private times = new Float64Array(0);
  /** Absolute byte position of each line (see `written`) and its length. */
  private starts = new Float64Array(0);
  private lengths = new Int32Array(0);
  private regexIndexes = new Int32Array(0);
  /** The filter's own kind and regex id strings: references, nothing copied. */
  private kinds: string[] = [];
  private regexIds: string[] = [];
  private bytes = Buffer.alloc(0);
  /** Bytes written since the start; byte A sits at A % byteSize and is intact while written <= A + byteSize. */
  private written = 0;

  constructor(
    private readonly size = TRACE_RING_SIZE,
    private readonly byteSize = TRACE_BYTES,
  ) {}

  /** Keeps the line of failure `seq`, replacing the line `size` failures older. */
  put(seq: number, time: number, kind: string, regexId: string, regexIndex: number, line: string): void {
    if (this.seqs.length === 0) this.allocate();
    const text = line.length > TRACE_LINE_MAX ? line.slice(0, TRACE_LINE_MAX) : line;
    // A line never wraps: if its worst-case UTF-8 length may not fit before the end, the tail is skipped.
    let pos = this.written % this.byteSize;
    if (pos + text.length * 3 > this.byteSize) {
      this.written += this.byteSize - pos;
      pos = 0;
    }
    const n = this.bytes.write(text, pos, 'utf8');
    const i = seq % this.size;
    this.seqs[i] = seq;
    this.times[i] = time;
    this.starts[i] = this.written;
    this.lengths[i] = n;
    this.kinds[i] = kind;
    this.regexIds[i] = regexId;
    this.regexIndexes[i] = regexIndex;
    this.written += n;
  }

  private allocate(): void {
    const size = this.size;
    this.seqs = new Float64Array(size).fill(-1);
    this.times = new Float64Array(size);
    this.starts = new Float64Array(size);
    this.lengths = new Int32Array(size);
    this.regexIndexes = new Int32Array(size);
    this.kinds = new Array<string>(size).fill('');
    this.regexIds = new Array<string>(size).fill('');
    this.bytes = Buffer.alloc(this.byteSize);
  }

  /** The line of failure `seq` if it is still kept. */
  get(seq: number, jail: string): MatchTrace | undefined {
    if (this.seqs.length === 0) return undefined;
    const i = seq % this.size;
    if (this.seqs[i] !== seq) return undefined;
    const start = this.starts[i]!;
    if (this.written > start + this.byteSize) return undefined; // its bytes were overwritten
    const pos = start % this.byteSize;
    const line = this.bytes.toString('utf8', pos, pos + this.lengths[i]!);
    return { time: this.times[i]!, jail, kind: this.kinds[i]!, regexId: this.regexIds[i]!, regexIndex: this.regexIndexes[i]!, line };
  }

  /** The kept lines of these failures, in the order given (failures whose line is gone are skipped). */
  many(seqs: readonly number[], jail: string): MatchTrace[] {
    const out: MatchTrace[] = [];
    for (const s of seqs) {
      const m = this.get(s, jail);
      if (m !== undefined) out.push(m);
    }
    return out;
  }
}
