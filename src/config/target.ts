// Strict parsing of the addresses and networks an admin writes in ignoreip.
// ipaddr.js alone is too lenient (it takes `0x7f.1` and `1.2.3` as IPv4), so we check the
// text shape ourselves and let ipaddr.js do the arithmetic.
import ipaddr from 'ipaddr.js';
import type { Address, Family, Target } from '../events.js';

// The filters module owns minting addresses from log lines; config mints its own from
// text it has just validated, through this one cast.
function asAddress(text: string): Address {
  return text as Address;
}

const PREFIX_RE = /^(?:0|[1-9]\d{0,2})$/;

/** Parses `ADDR` or `ADDR/PREFIX` into a masked Target, or returns why it is not one. */
export function parseTarget(text: string): Target | { error: string } {
  const slash = text.indexOf('/');
  const addrText = (slash === -1 ? text : text.slice(0, slash)).trim();
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1).trim();
  const parsed = parseStrictAddress(addrText);
  if ('error' in parsed) return { error: `invalid address "${text}": ${parsed.error}` };

  let { family } = parsed;
  let bytes = parsed.bytes;
  let prefix = family === 4 ? 32 : 128;
  if (prefixText !== undefined) {
    if (!PREFIX_RE.test(prefixText)) return { error: `invalid network "${text}": "/${prefixText}" is not a valid prefix length` };
    prefix = Number(prefixText);
    if (prefix > bytes.length * 8) {
      return { error: `invalid network "${text}": prefix /${prefix} is longer than ${bytes.length * 8} bits` };
    }
  }
  if (parsed.mapped) {
    // ::ffff:a.b.c.d/120 is the IPv4 network a.b.c.d/24; a shorter prefix spans non-mapped space.
    if (prefix < 96) return { error: `invalid network "${text}": an IPv4-mapped network needs a prefix of at least /96` };
    family = 4;
    bytes = bytes.slice(12);
    prefix -= 96;
  }
  return { addr: asAddress(formatBytes(maskBytes(bytes, prefix), family)), prefix, family };
}

type StrictAddress = { family: Family; bytes: number[]; mapped: boolean } | { error: string };

function parseStrictAddress(text: string): StrictAddress {
  if (text === '') return { error: 'empty' };
  if (text.includes(':')) {
    if (text.includes('%')) return { error: 'zone identifiers are not allowed' };
    // An embedded IPv4 tail (::ffff:192.0.2.1) must itself be four-part decimal.
    const lastColon = text.lastIndexOf(':');
    const tail = text.slice(lastColon + 1);
    if (tail.includes('.') && !ipaddr.IPv4.isValidFourPartDecimal(tail)) {
      return { error: 'embedded IPv4 part must be four decimal numbers' };
    }
    if (!ipaddr.IPv6.isValid(text)) return { error: 'not an IPv6 address' };
    const v6 = ipaddr.IPv6.parse(text);
    return { family: 6, bytes: v6.toByteArray(), mapped: v6.isIPv4MappedAddress() };
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return { error: /^[a-z][\w.-]*$/i.test(text)
      ? 'host names are not accepted, write an address or CIDR network'
      : 'IPv4 must be four decimal numbers 0-255 (like 192.0.2.1)' };
  }
  return { family: 4, bytes: ipaddr.IPv4.parse(text).toByteArray(), mapped: false };
}

function maskBytes(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
}

function formatBytes(bytes: number[], family: Family): string {
  return family === 4
    ? bytes.join('.')
    : new ipaddr.IPv6(bytes).toRFC5952String();
}
