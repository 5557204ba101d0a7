// Address arithmetic for ban targets: a target is a masked CIDR, and the kernel view needs to
// know when one target contains another. Numbers are bigints so IPv4 and IPv6 share one path.
import ipaddr from 'ipaddr.js';
import type { Address, Family, Target } from '../events.js';

const WIDTH: Record<Family, number> = { 4: 32, 6: 128 };

/** The numeric value of a target's network address. */
export function targetValue(t: Target): bigint {
  let v = 0n;
  for (const byte of ipaddr.parse(t.addr).toByteArray()) v = (v << 8n) | BigInt(byte);
  return v;
}

/** `value` with every bit after the first `prefix` bits cleared. */
export function maskValue(value: bigint, family: Family, prefix: number): bigint {
  const width = BigInt(WIDTH[family]);
  const hostBits = width - BigInt(prefix);
  return (value >> hostBits) << hostBits;
}

/** A map key that is equal for equal targets. */
export function keyOf(family: Family, value: bigint, prefix: number): string {
  return `${family}:${value.toString(16)}/${prefix}`;
}

export function targetKey(t: Target): string {
  return keyOf(t.family, targetValue(t), t.prefix);
}

export function maxPrefix(family: Family): number {
  return WIDTH[family];
}

/** True when `outer` contains `inner` (a target contains itself). */
export function contains(outer: Target, inner: Target): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  return maskValue(targetValue(inner), inner.family, outer.prefix) === targetValue(outer);
}

/**
 * Parses `192.0.2.1`, `192.0.2.0/24`, `2001:db8::/64` into a masked target. Host bits are
 * cleared (so `192.0.2.7/24` becomes `192.0.2.0/24`), IPv4-mapped IPv6 becomes IPv4.
 * Returns an error string for anything else.
 */
export function parseTarget(text: string): Target | { error: string } {
  const s = text.trim();
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  if (!ipaddr.isValid(addrText)) return { error: `invalid address "${text}"` };
  let addr = ipaddr.parse(addrText);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  const family: Family = addr.kind() === 'ipv4' ? 4 : 6;
  let prefix = WIDTH[family];
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return { error: `invalid prefix in "${text}"` };
    prefix = Number(p);
    // a mapped address (::ffff:a.b.c.d/104) keeps its meaning as an IPv4 prefix
    if (family === 4 && addrText.includes(':')) prefix -= 96;
    if (prefix < 0 || prefix > WIDTH[family]) return { error: `prefix out of range in "${text}"` };
  }
  const bytes = addr.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  const masked = ipaddr.fromByteArray(bytes);
  const addrOut = family === 6 ? (masked as ipaddr.IPv6).toRFC5952String() : masked.toString();
  return { addr: addrOut as Address, prefix, family };
}

/** parseTarget for trusted input (tests, shipped data): throws on error. */
export function target(text: string): Target {
  const t = parseTarget(text);
  if ('error' in t) throw new Error(t.error);
  return t;
}
