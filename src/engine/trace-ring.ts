// The matched lines of a jail's most recent failures, by seq. Memory is fixed whatever the attack
// (an address-per-failure flood included): the lines' bytes go into one circular byte buffer, so
// keeping a line allocates nothing the garbage collector must trace or move (a string per line
// cost the engine a third of its speed, measured), and a slice of the read chunk is never kept.
// Each line links to the previous line of its address and of its network, so a ban walks back
// through its own lines only (O(TRACE_LINES), however large the window).
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
  /** The seq of the previous traced failure of the same address, and of the same network (0: none). */
  private prevAddr = new Float64Array(0);
  private prevNet = new Float64Array(0);
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

  /**
   * Keeps the line of failure `seq`, replacing the line `size` failures older. `prevAddr` and
   * `prevNet`: the seqs of the previous traced failures of its address and network (0: none).
   */
  put(seq: number, time: number, kind: string, regexId: string, regexIndex: number, line: string, prevAddr = 0, prevNet = 0): void {
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
    this.prevAddr[i] = prevAddr;
    this.prevNet[i] = prevNet;
    this.written += n;
  }

  /**
   * Walks back from failure `last` along its address's links (its network's, when `net`): the
   * lines of failures with seq above `afterSeq` and time above `afterTime`, at most `max`,
   * oldest first. Stops where a line is no longer kept.
   */
  chain(last: number, afterSeq: number, afterTime: number, max: number, net: boolean, jail: string): MatchTrace[] {
    const out: MatchTrace[] = [];
    if (this.seqs.length === 0) return out;
    const links = net ? this.prevNet : this.prevAddr;
    for (let seq = last; seq > afterSeq && out.length < max; ) {
      const m = this.get(seq, jail);
      if (m === undefined || m.time <= afterTime) break;
      out.push(m);
      seq = links[seq % this.size]!;
    }
    return out.reverse();
  }

  private allocate(): void {
    const size = this.size;
    this.seqs = new Float64Array(size).fill(-1);
    this.times = new Float64Array(size);
    this.starts = new Float64Array(size);
    this.lengths = new Int32Array(size);
    this.regexIndexes = new Int32Array(size);
    this.prevAddr = new Float64Array(size);
    this.prevNet = new Float64Array(size);
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
