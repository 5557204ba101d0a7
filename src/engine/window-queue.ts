// Every counted failure of a jail, oldest first, in parallel typed arrays (a ring buffer):
// 24 bytes per failure and no object per failure. The jail pops the front as its clock moves
// past findtime; each entry names the address slot and network slot it counts for, and its
// arrival number (seq), which tells whether a later ban cleared it from a window.

const INITIAL = 1024;

export class WindowQueue {
  private times = new Float64Array(INITIAL);
  private seqs = new Float64Array(INITIAL);
  private addrs = new Int32Array(INITIAL);
  private nets = new Int32Array(INITIAL);
  private head = 0;
  private len = 0;
  private mask = INITIAL - 1;

  get length(): number {
    return this.len;
  }

  /**
   * Inserts in time order; an entry whose time equals existing ones goes after them, so
   * ties keep arrival order. In-order arrival is an append; a late one shifts the few newer
   * entries behind it.
   */
  insert(time: number, seq: number, addr: number, net: number): void {
    if (this.len === this.times.length) this.grow();
    let i = this.len;
    const m = this.mask;
    while (i > 0) {
      const prev = (this.head + i - 1) & m;
      if (this.times[prev]! <= time) break;
      const cur = (this.head + i) & m;
      this.times[cur] = this.times[prev]!;
      this.seqs[cur] = this.seqs[prev]!;
      this.addrs[cur] = this.addrs[prev]!;
      this.nets[cur] = this.nets[prev]!;
      i--;
    }
    const at = (this.head + i) & m;
    this.times[at] = time;
    this.seqs[at] = seq;
    this.addrs[at] = addr;
    this.nets[at] = net;
    this.len++;
  }

  /** Time of the oldest entry; only valid when length > 0. */
  frontTime(): number {
    return this.times[this.head]!;
  }
  frontSeq(): number {
    return this.seqs[this.head]!;
  }
  frontAddr(): number {
    return this.addrs[this.head]!;
  }
  frontNet(): number {
    return this.nets[this.head]!;
  }

  popFront(): void {
    this.head = (this.head + 1) & this.mask;
    this.len--;
  }

  /** Smallest seq still held (Infinity when empty): the store may drop every row below it. */
  minSeq(): number {
    let min = Infinity;
    const m = this.mask;
    for (let i = 0; i < this.len; i++) {
      const s = this.seqs[(this.head + i) & m]!;
      if (s < min) min = s;
    }
    return min;
  }

  private grow(): void {
    const cap = this.times.length * 2;
    const times = new Float64Array(cap);
    const seqs = new Float64Array(cap);
    const addrs = new Int32Array(cap);
    const nets = new Int32Array(cap);
    for (let i = 0; i < this.len; i++) {
      const j = (this.head + i) & this.mask;
      times[i] = this.times[j]!;
      seqs[i] = this.seqs[j]!;
      addrs[i] = this.addrs[j]!;
      nets[i] = this.nets[j]!;
    }
    this.times = times;
    this.seqs = seqs;
    this.addrs = addrs;
    this.nets = nets;
    this.head = 0;
    this.mask = cap - 1;
  }
}
