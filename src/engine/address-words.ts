// Addresses as four 32-bit words (IPv4 in word 0), the key form of SlotIndex. The engine turns
// each failure's address into words once, without allocating: this is the per-failure path.
import type { Family } from '../events.js';
import { parseIPv4, parseIPv6 } from '../cidr.js';

const groups = new Int32Array(8);

/** Writes the value of a valid address into `out[0..3]`. */
export function addressWords(addr: string, family: Family, out: Uint32Array): void {
  if (family === 4) {
    out[0] = parseIPv4(addr);
    out[1] = 0;
    out[2] = 0;
    out[3] = 0;
    return;
  }
  if (addr.indexOf('.') !== -1) {
    // An embedded dotted quad: never in a normalised Address, so the general parser will do.
    const h = parseIPv6(addr);
    for (let i = 0; i < 8; i++) groups[i] = h[i] ?? 0;
  } else {
    parseHextets(addr);
  }
  for (let i = 0; i < 4; i++) out[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
}

/** Compressed or full IPv6 text (hex groups and at most one "::") into `groups`. */
function parseHextets(addr: string): void {
  let n = 0;
  let gap = -1;
  let cur = 0;
  let digits = 0;
  const len = addr.length;
  for (let i = 0; i < len; i++) {
    const c = addr.charCodeAt(i);
    if (c === 58 /* : */) {
      if (digits > 0) {
        groups[n++] = cur;
        cur = 0;
        digits = 0;
      }
      if (i + 1 < len && addr.charCodeAt(i + 1) === 58) {
        gap = n;
        i++;
      }
    } else {
      cur = cur * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
      digits++;
    }
  }
  if (digits > 0) groups[n++] = cur;
  if (gap >= 0 && n < 8) {
    const zeros = 8 - n;
    for (let i = n - 1; i >= gap; i--) groups[i + zeros] = groups[i]!;
    for (let i = gap; i < gap + zeros; i++) groups[i] = 0;
  }
}

/** `src` with every bit after the first `prefix` cleared, into `dst` (may be `src`). */
export function maskWords(src: Uint32Array, prefix: number, dst: Uint32Array): void {
  for (let i = 0; i < 4; i++) {
    const bits = prefix - i * 32;
    dst[i] = bits >= 32 ? src[i]! : bits <= 0 ? 0 : (src[i]! & (0xffffffff << (32 - bits))) >>> 0;
  }
}

/** The eight 16-bit groups of four words, for formatIPv6. */
export function wordsToHextets(w0: number, w1: number, w2: number, w3: number): number[] {
  return [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
}

/** True when `w` masked to `prefix` equals `net` (a value already masked to `prefix`). */
export function maskedEqual(w: Uint32Array, prefix: number, net: Uint32Array): boolean {
  for (let i = 0; i < 4; i++) {
    const bits = prefix - i * 32;
    const m = bits >= 32 ? w[i]! : bits <= 0 ? 0 : (w[i]! & (0xffffffff << (32 - bits))) >>> 0;
    if (m !== net[i]) return false;
  }
  return true;
}
