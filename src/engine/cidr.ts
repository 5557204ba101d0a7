// Address arithmetic the engine needs on its hot path: parse a normalised address, mask it to
// a prefix, and print the masked network back in canonical form. Written here (not with
// ipaddr.js) because the engine is pure and runs this once per failure: IPv4 stays a uint32.
import type { Address, Family, Target } from '../events.js';

/** Parses dotted-quad IPv4 into an unsigned 32-bit number. Input is already validated. */
export function parseIPv4(addr: string): number {
  let value = 0;
  let part = 0;
  for (let i = 0; i < addr.length; i++) {
    const c = addr.charCodeAt(i);
    if (c === 46 /* . */) {
      value = value * 256 + part;
      part = 0;
    } else {
      part = part * 10 + (c - 48);
    }
  }
  return value * 256 + part;
}

export function formatIPv4(value: number): string {
  return `${Math.floor(value / 16777216) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** Keeps the first `prefix` bits of an IPv4 value. */
export function maskIPv4(value: number, prefix: number): number {
  if (prefix <= 0) return 0;
  if (prefix >= 32) return value >>> 0;
  return (value & (0xffffffff << (32 - prefix))) >>> 0;
}

/** Parses an IPv6 address (compressed or not, optional dotted-quad tail) into 8 hextets. */
export function parseIPv6(addr: string): number[] {
  const words: number[] = [];
  let tail = addr;
  let v4: number | null = null;
  if (addr.indexOf('.') !== -1) {
    const cut = addr.lastIndexOf(':');
    v4 = parseIPv4(addr.slice(cut + 1));
    tail = addr.slice(0, cut);
    if (tail.endsWith(':')) tail += ':';
  }
  const want = v4 === null ? 8 : 6;
  const gap = tail.indexOf('::');
  const parseGroup = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  if (gap === -1) {
    words.push(...parseGroup(tail));
  } else {
    const head = parseGroup(tail.slice(0, gap));
    const rest = parseGroup(tail.slice(gap + 2));
    words.push(...head);
    for (let i = head.length + rest.length; i < want; i++) words.push(0);
    words.push(...rest);
  }
  if (v4 !== null) words.push(Math.floor(v4 / 65536), v4 & 0xffff);
  return words;
}

/** Clears every bit after `prefix` (returns a new array). */
export function maskIPv6(words: readonly number[], prefix: number): number[] {
  const out = new Array<number>(8);
  for (let i = 0; i < 8; i++) {
    const bits = Math.min(16, Math.max(0, prefix - i * 16));
    const w = words[i] ?? 0;
    out[i] = bits === 16 ? w : bits === 0 ? 0 : w & ((0xffff << (16 - bits)) & 0xffff);
  }
  return out;
}

/** RFC 5952 text: lowercase, no leading zeros, the longest (leftmost) run of ≥2 zero hextets as "::". */
export function formatIPv6(words: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    words
      .slice(from, to)
      .map((w) => w.toString(16))
      .join(':');
  if (bestStart === -1) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

export function familyOf(addr: string): Family {
  return addr.indexOf(':') === -1 ? 4 : 6;
}

/** The network of `addr` at `prefix`, as a Target. */
export function networkOf(addr: string, family: Family, prefix: number): Target {
  const net =
    family === 4 ? formatIPv4(maskIPv4(parseIPv4(addr), prefix)) : formatIPv6(maskIPv6(parseIPv6(addr), prefix));
  return { addr: net as Address, prefix, family };
}

export function addressTarget(addr: Address, family: Family): Target {
  return { addr, prefix: family === 4 ? 32 : 128, family };
}

/** Key used for maps of targets: the CIDR text. */
export function targetKey(t: Target): string {
  return `${t.addr}/${t.prefix}`;
}

/** True when `outer` contains `inner` (same family, outer's prefix no longer, same masked bits). */
export function contains(outer: Target, inner: Target): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  if (outer.family === 4) return maskIPv4(parseIPv4(inner.addr), outer.prefix) === maskIPv4(parseIPv4(outer.addr), outer.prefix);
  const a = maskIPv6(parseIPv6(inner.addr), outer.prefix);
  const b = maskIPv6(parseIPv6(outer.addr), outer.prefix);
  return a.every((w, i) => w === b[i]);
}

/** True when one target contains the other. */
export function overlaps(a: Target, b: Target): boolean {
  return contains(a, b) || contains(b, a);
}

/** Returns the target in canonical masked form (host bits cleared, canonical text). */
export function normaliseTarget(t: Target): Target {
  return networkOf(t.addr, t.family, t.prefix);
}
