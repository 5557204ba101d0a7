// Strict address validation. The only place that mints the `Address` brand: holding one
// proves the text was a real IPv4 or IPv6 address, normalised so equal hosts compare equal.
//
// Parsed by hand rather than with ipaddr.js: this runs for every matched line, and the
// generic parser cost a fifth of test-filter's time on a log with IPv6 attackers. The unit
// tests cross-check the results against ipaddr.js.
import type { Address, Family } from '../events.js';

export interface ParsedAddress {
  readonly address: Address;
  readonly family: Family;
}

/**
 * Four-part decimal only, each part 0–255 without leading zeros. ipaddr.js alone would
 * accept `0x7f.1` and `1.2.3`, forms no mail server logs and an attacker could use to
 * make one host look like another.
 */
export function isStrictIPv4(text: string): boolean {
  return ipv4Value(text, 0, text.length) >= 0;
}

/** The 32-bit value of a strict dotted quad in text[start, end), or -1. */
function ipv4Value(text: string, start: number, end: number): number {
  let parts = 0;
  let value = 0;
  let i = start;
  for (;;) {
    const s = i;
    let part = 0;
    while (i < end) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      part = part * 10 + c;
      i++;
    }
    const len = i - s;
    if (len === 0 || len > 3 || part > 255 || (len > 1 && text.charCodeAt(s) === 48)) return -1;
    value = value * 256 + part;
    parts++;
    if (i === end) return parts === 4 ? value : -1;
    if (text.charCodeAt(i) !== 46 || parts === 4) return -1;
    i++;
  }
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The eight 16-bit groups of an IPv6 address, or null. Accepts a trailing dotted quad. */
function ipv6Groups(text: string): number[] | null {
  const n = text.length;
  if (n < 2 || n > 45) return null;
  const head: number[] = [];
  const tail: number[] = [];
  let cur = head;
  let compressed = false;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return null;
    compressed = true;
    cur = tail;
    i = 2;
    if (i === n) return [0, 0, 0, 0, 0, 0, 0, 0];
  }
  for (;;) {
    const s = i;
    let g = 0;
    while (i < n && i - s < 5) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) break;
      g = g * 16 + d;
      i++;
    }
    if (i < n && text.charCodeAt(i) === 46) {
      // Embedded IPv4: must be the last 32 bits.
      const v4 = ipv4Value(text, s, n);
      if (v4 < 0) return null;
      cur.push(Math.floor(v4 / 65536), v4 % 65536);
      break;
    }
    if (i === s || i - s > 4) return null;
    cur.push(g);
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return null;
    i++;
    if (text.charCodeAt(i) === 58) {
      if (compressed) return null;
      compressed = true;
      cur = tail;
      i++;
      if (i === n) break;
    } else if (i === n) return null;
  }
  const explicit = head.length + tail.length;
  if (compressed ? explicit > 7 : explicit !== 8) return null;
  const groups = head;
  for (let k = explicit; k < 8; k++) groups.push(0);
  for (const g of tail) groups.push(g);
  return groups;
}

/** RFC 5952: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
function formatIPv6(g: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    out += (g[i] as number).toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

// Attackers repeat themselves: small direct-mapped memos of recent answers. The IPv4 one is
// keyed by the numeric value, the IPv6 one by a copy of the text, so neither holds on to the
// text it was given (a slice of a line, or of a whole read buffer).
// 16384 slots each: a busy attack log has some ten thousand addresses of each family.
const SLOT_BITS = 14;
const V4_SLOTS = 1 << SLOT_BITS;
const v4keys = new Uint32Array(V4_SLOTS);
const v4answers: (ParsedAddress | undefined)[] = new Array<ParsedAddress | undefined>(V4_SLOTS).fill(undefined);
const V6_SLOTS = 1 << SLOT_BITS;
const v6keys: string[] = new Array<string>(V6_SLOTS).fill('');
const v6answers: (ParsedAddress | undefined)[] = new Array<ParsedAddress | undefined>(V6_SLOTS).fill(undefined);

/**
 * Validates and normalises an address; null for anything that is not exactly one. The
 * result is always a new string, never a slice of `text`: failures are kept for a while and
 * must not pin the line or buffer they came from.
 */
export function parseAddress(text: string): ParsedAddress | null {
  const v4 = ipv4Value(text, 0, text.length);
  if (v4 >= 0) {
    const slot = Math.imul(v4 | 0, 0x9e3779b1) >>> (32 - SLOT_BITS);
    const hit = v4answers[slot];
    if (hit !== undefined && v4keys[slot] === v4) return hit;
    const r: ParsedAddress = { address: dotted(v4) as Address, family: 4 };
    v4keys[slot] = v4;
    v4answers[slot] = r;
    return r;
  }
  const n = text.length;
  if (n < 2 || n > 45) return null;
  let h = n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  const slot = h >>> (32 - SLOT_BITS);
  const hit = v6answers[slot];
  if (hit !== undefined && v6keys[slot] === text) return hit;
  const r = parseIPv6(text);
  if (r !== null) {
    // A fresh copy of the key: the text itself may be a slice that keeps a line alive.
    v6keys[slot] = Buffer.from(text, 'latin1').toString('latin1');
    v6answers[slot] = r;
  }
  return r;
}

function parseIPv6(text: string): ParsedAddress | null {
  const g = ipv6Groups(text);
  if (g === null) return null;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return { address: dotted((g[6] ?? 0) * 65536 + (g[7] ?? 0)) as Address, family: 4 };
  }
  return { address: formatIPv6(g) as Address, family: 6 };
}

function dotted(v: number): string {
  return `${Math.floor(v / 16777216)}.${Math.floor(v / 65536) % 256}.${Math.floor(v / 256) % 256}.${v % 256}`;
}
