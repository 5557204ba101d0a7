// The matched lines of a jail's most recent failures, by seq: a fixed ring, so memory stays
// bounded whatever the attack (an address-per-failure flood included), and a ban finds the
// lines behind it in O(1) each. A line is copied in: a slice would keep the whole read chunk it
// came from alive.
import type { MatchTrace } from '../events.js';

/** Lines kept per jail: a busy MX's failures over a default findtime fit (about 10 MB when full). */
export const TRACE_RING_SIZE = 65_536;

/** A copy of `s` that does not keep the string it was sliced from alive. */
function detach(s: string): string {
  // V8 copies substrings shorter than 13 characters; longer ones would be slices.
  return s.length < 13 ? ` ${s}`.slice(1) : Buffer.from(s, 'utf8').toString('utf8');
}

export class TraceRing {
  private readonly seqs: Float64Array;
  private readonly times: Float64Array;
  private readonly regexIndexes: Int32Array;
  private readonly kinds: string[];
  private readonly regexIds: string[];
  private readonly lines: string[];

  constructor(private readonly size = TRACE_RING_SIZE) {
    this.seqs = new Float64Array(size).fill(-1);
    this.times = new Float64Array(size);
    this.regexIndexes = new Int32Array(size);
    this.kinds = new Array<string>(size).fill('');
    this.regexIds = new Array<string>(size).fill('');
    this.lines = new Array<string>(size).fill('');
  }

  /** Keeps the line of failure `seq`, replacing the line `size` failures older. */
  put(seq: number, time: number, kind: string, regexId: string, regexIndex: number, line: string): void {
    const i = seq % this.size;
    this.seqs[i] = seq;
    this.times[i] = time;
    this.kinds[i] = kind;
    this.regexIds[i] = regexId;
    this.regexIndexes[i] = regexIndex;
    this.lines[i] = detach(line);
  }

  /** The line of failure `seq` if it is still kept. */
  get(seq: number, jail: string): MatchTrace | undefined {
    const i = seq % this.size;
    if (this.seqs[i] !== seq) return undefined;
    return { time: this.times[i]!, jail, kind: this.kinds[i]!, regexId: this.regexIds[i]!, regexIndex: this.regexIndexes[i]!, line: this.lines[i]! };
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
