// Numbered slots for addresses or networks, found by their 128-bit value. It replaces a
// Map<string, number>: a jail may hold a million addresses in its windows, and a string key
// costs a heap string, a Map entry and GC time each (about 150 bytes for an IPv6 address),
// where this costs 17 bytes of key and at most 32 of table, in typed arrays the GC never scans.
//
// A key is a small tag (0..255: the family, or a family and prefix) and four 32-bit words, most
// significant first; IPv4 uses word 0.
// The table is open addressing with linear probing and backward-shift deletion (no tombstones),
// kept at most half full. Each cell holds the slot and the key's hash side by side, so a probe
// compares hashes in the cell's cache line and reads a key only when the hash matches (with a
// million keys, every key read is a cache miss). Slot numbers are reused after release(), lowest-recently-freed first.

const INITIAL_SLOTS = 1024;

export class SlotIndex {
  private keys = new Uint32Array(INITIAL_SLOTS * 4);
  private fam = new Uint8Array(INITIAL_SLOTS);
  /** Cell i is table[2i] = slot + 1 (0: empty) and table[2i + 1] = the key's hash. */
  private table = new Int32Array(INITIAL_SLOTS * 4);
  private tmask = INITIAL_SLOTS * 2 - 1;
  private free: number[] = [];
  private used = 0;
  private count = 0;

  /** Slots in use. */
  get size(): number {
    return this.count;
  }

  /** The slot of this key, or -1. */
  find(family: number, w0: number, w1: number, w2: number, w3: number): number {
    const t = this.table;
    const k = this.keys;
    const m = this.tmask;
    const h = hash(family, w0, w1, w2, w3);
    for (let i = h & m; ; i = (i + 1) & m) {
      const c = t[2 * i]!;
      if (c === 0) return -1;
      if (t[2 * i + 1] !== h) continue;
      const s = c - 1;
      const o = s * 4;
      if (k[o] === w0 && k[o + 1] === w1 && k[o + 2] === w2 && k[o + 3] === w3 && this.fam[s] === family) return s;
    }
  }

  /**
   * Adds a key that find() does not hold and returns its new slot. The slot may be beyond the
   * caller's parallel arrays (grow them when slot ≥ their length; slots only grow by one at a time).
   */
  add(family: number, w0: number, w1: number, w2: number, w3: number): number {
    let s = this.free.pop();
    if (s === undefined) {
      s = this.used++;
      if (s === this.fam.length) this.growKeys();
    }
    const o = s * 4;
    this.keys[o] = w0;
    this.keys[o + 1] = w1;
    this.keys[o + 2] = w2;
    this.keys[o + 3] = w3;
    this.fam[s] = family;
    if (++this.count * 4 > this.table.length) this.growTable();
    this.place(s + 1, hash(family, w0, w1, w2, w3));
    return s;
  }

  /** Forgets the key of `slot` and frees the slot for reuse. */
  release(slot: number): void {
    const t = this.table;
    const m = this.tmask;
    const o = slot * 4;
    let i = hash(this.fam[slot]!, this.keys[o]!, this.keys[o + 1]!, this.keys[o + 2]!, this.keys[o + 3]!) & m;
    while (t[2 * i] !== slot + 1) i = (i + 1) & m;
    // Backward shift: pull later cells of the probe run into the hole when their home allows it.
    for (let j = (i + 1) & m; ; j = (j + 1) & m) {
      const c = t[2 * j]!;
      if (c === 0) break;
      const h = t[2 * j + 1]!;
      const home = h & m;
      // Move the cell into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        t[2 * i] = c;
        t[2 * i + 1] = h;
        i = j;
      }
    }
    t[2 * i] = 0;
    this.count--;
    this.free.push(slot);
  }

  family(slot: number): number {
    return this.fam[slot]!;
  }

  /** Word `i` (0..3) of the key of `slot`. */
  word(slot: number, i: number): number {
    return this.keys[slot * 4 + i]!;
  }

  private place(cell: number, h: number): void {
    const t = this.table;
    const m = this.tmask;
    let i = h & m;
    while (t[2 * i] !== 0) i = (i + 1) & m;
    t[2 * i] = cell;
    t[2 * i + 1] = h;
  }

  private growKeys(): void {
    const cap = this.fam.length * 2;
    const keys = new Uint32Array(cap * 4);
    keys.set(this.keys);
    this.keys = keys;
    const fam = new Uint8Array(cap);
    fam.set(this.fam);
    this.fam = fam;
  }

  private growTable(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.tmask = this.table.length / 2 - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.place(old[i]!, old[i + 1]!);
  }
}

/** A 32-bit mix of the key (murmur3's finaliser over the words); addresses differ in few bits. */
function hash(family: number, w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(family, 0x9e3779b1);
  h = Math.imul(h ^ w0, 0x85ebca6b);
  h = Math.imul((h ^ (h >>> 13)) ^ w1, 0xc2b2ae35);
  h = Math.imul((h ^ (h >>> 16)) ^ w2, 0x85ebca6b);
  h = Math.imul((h ^ (h >>> 13)) ^ w3, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}
