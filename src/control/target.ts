// Parses a ban target typed by an admin (CLI argument, control request): an address or a CIDR
// network, normalised and masked into a Target. Both the CLI (to fail fast with exit 2) and the
// server (the request is untrusted) use it.
import ipaddr from 'ipaddr.js';
import type { Address, Family, Target } from '../events.js';

/** Shorter prefixes would ban a large part of the Internet, admins' own access included. */
export const MIN_PREFIX: Readonly<Record<Family, number>> = { 4: 8, 6: 16 };

export type TargetParse = { readonly ok: true; readonly target: Target } | { readonly ok: false; readonly error: string };

function maskedBytes(bytes: number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
}

export function parseTarget(text: string): TargetParse {
  const fail = (why: string): TargetParse => ({ ok: false, error: `invalid target "${text}": ${why}` });
  const s = text.trim();
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const prefixText = slash < 0 ? undefined : s.slice(slash + 1);
  if (addrText.includes('%')) return fail('zone ids are not allowed');
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(addrText)) ip = ipaddr.IPv4.parse(addrText);
  else if (addrText.includes(':') && ipaddr.IPv6.isValid(addrText)) ip = ipaddr.IPv6.parse(addrText);
  else return fail('expected an IPv4 or IPv6 address, or a CIDR network such as 198.51.100.0/24');

  let family: Family = ip.kind() === 'ipv4' ? 4 : 6;
  let prefix = family === 4 ? 32 : 128;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > prefix) return fail(`prefix must be 0 to ${prefix}`);
    prefix = Number(prefixText);
  }
  // An IPv4-mapped IPv6 target is the IPv4 one: that is how the filters report such clients.
  if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress() && prefix >= 96) {
    ip = ip.toIPv4Address();
    prefix -= 96;
    family = 4;
  }
  if (prefix < MIN_PREFIX[family]) return fail(`refusing a network larger than /${MIN_PREFIX[family]}`);
  const masked = ipaddr.fromByteArray(maskedBytes(ip.toByteArray(), prefix));
  const addr = (masked instanceof ipaddr.IPv6 ? masked.toRFC5952String() : masked.toString()) as Address;
  return { ok: true, target: { addr, prefix, family } };
}
