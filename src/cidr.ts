// Ban targets: the one place that turns text into a Target, and the CIDR arithmetic every stage
// shares (masking, containment, overlap, formatting, map keys). A leaf like events.ts: config,
// control, actions and engine all import it, and it imports only events.ts and the strict
// address parser of the filters, so an ignoreip entry, a `pban ban` argument, a kernel listing
// and a log line all pass the same address check.
//
// The numeric helpers run on the engine's hot path (once per failure), so IPv4 stays a uint32
// and IPv6 eight 16-bit words; nothing here goes through ipaddr.js.
import type { Address, Family, Target } from './events.js';
import { isStrictIPv4, parseAddress } from './filters/address.js';

// ---------------------------------------------------------------------------------------------
// Text → Target

/** Why a text is not a target. The first six are about the address, the rest about the prefix. */
export type TargetProblem =
  | 'empty'
  | 'zone'
  | 'embeddedIPv4'
  | 'notIPv6'
  | 'hostName'
  | 'notIPv4'
  | 'prefixSyntax'
  | 'prefixTooLong'
  | 'mappedPrefix'
  | 'networkTooLarge';

export interface TargetError {
  /** One line for people, quoting the input: `invalid network "1.2.3.4/33": prefix /33 is longer than 32 bits`. */
  readonly error: string;
  readonly problem: TargetProblem;
  /** The part of `error` after the quoted input. */
  readonly detail: string;
  /** The longest prefix the address as written allows: 32, or 128 (also for IPv4-mapped IPv6 and for non-addresses). */
  readonly maxPrefix: number;
}

export interface TargetOptions {
  /** Refuse networks shorter than this, per family (after IPv4-mapped IPv6 became IPv4). */
  readonly minPrefix?: Readonly<Record<Family, number>>;
}

// No leading zeros: `/08` is a typo or an octal habit, never what an admin means.
const PREFIX_RE = /^(?:0|[1-9]\d{0,2})$/;
const HOST_NAME_RE = /^[a-z][\w.-]*$/i;

/**
 * Parses `ADDR` or `ADDR/PREFIX` (spaces around either part allowed) into a masked Target: host
 * bits cleared, canonical text, IPv4-mapped IPv6 turned into IPv4 (`::ffff:192.0.2.0/120` is
 * 192.0.2.0/24, as the filters report such clients). Addresses are as strict as the filters'
 * (four-part decimal IPv4, no zone ids). Anything else is a TargetError.
 */
export function parseTarget(text: string, opts: TargetOptions = {}): Target | TargetError {
  const slash = text.indexOf('/');
  const addrText = (slash === -1 ? text : text.slice(0, slash)).trim();
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1).trim();
  const parsed = parseAddress(addrText);
  if (parsed === null) {
    const [problem, detail] = whyNotAnAddress(addrText);
    return targetError(text, problem, detail, 128);
  }
  const mapped = parsed.family === 4 && addrText.includes(':');
  const width = parsed.family === 6 || mapped ? 128 : 32;
  let prefix = width;
  if (prefixText !== undefined) {
    if (!PREFIX_RE.test(prefixText)) {
      return targetError(text, 'prefixSyntax', `"/${prefixText}" is not a valid prefix length`, width);
    }
    prefix = Number(prefixText);
    if (prefix > width) return targetError(text, 'prefixTooLong', `prefix /${prefix} is longer than ${width} bits`, width);
  }
  if (mapped) {
    // A shorter prefix would span addresses outside ::ffff:0:0/96, which are not IPv4.
    if (prefix < 96) return targetError(text, 'mappedPrefix', 'an IPv4-mapped network needs a prefix of at least /96', width);
    prefix -= 96;
  }
  const min = opts.minPrefix?.[parsed.family];
  if (min !== undefined && prefix < min) {
    return targetError(text, 'networkTooLarge', `refusing a network larger than /${min}`, width);
  }
  return networkOf(parsed.address, parsed.family, prefix);
}

/** parseTarget for trusted text (tests, shipped data): throws on error. */
export function target(text: string): Target {
  const t = parseTarget(text);
  if ('error' in t) throw new Error(t.error);
  return t;
}

function targetError(text: string, problem: TargetProblem, detail: string, maxPrefix: number): TargetError {
  const what = problem === 'prefixSyntax' || problem === 'prefixTooLong' || problem === 'mappedPrefix' || problem === 'networkTooLarge'
    ? 'network'
    : 'address';
  return { error: `invalid ${what} ${JSON.stringify(text)}: ${detail}`, problem, detail, maxPrefix };
}

/** Names the mistake in text that parseAddress refused. Error path only. */
function whyNotAnAddress(text: string): [TargetProblem, string] {
  if (text === '') return ['empty', 'empty'];
  if (text.includes('%')) return ['zone', 'zone identifiers are not allowed'];
  if (text.includes(':')) {
    const tail = text.slice(text.lastIndexOf(':') + 1);
    if (tail.includes('.') && !isStrictIPv4(tail)) return ['embeddedIPv4', 'embedded IPv4 part must be four decimal numbers'];
    return ['notIPv6', 'not an IPv6 address'];
  }
  if (HOST_NAME_RE.test(text)) return ['hostName', 'host names are not accepted, write an address or CIDR network'];
  return ['notIPv4', 'IPv4 must be four decimal numbers 0-255 (like 192.0.2.1)'];
}

// ---------------------------------------------------------------------------------------------
// Numbers: IPv4 as a uint32, IPv6 as eight 16-bit words. Inputs are normalised Addresses.

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

/** Parses an IPv6 address (compressed or not, optional dotted-quad tail) into 8 hextets. Input is already validated. */
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

/** 32 or 128: the prefix of a single address. */
export function maxPrefix(family: Family): number {
  return family === 4 ? 32 : 128;
}

// ---------------------------------------------------------------------------------------------
// Targets

/** The network of `addr` at `prefix`, as a Target. */
export function networkOf(addr: string, family: Family, prefix: number): Target {
  const net =
    family === 4 ? formatIPv4(maskIPv4(parseIPv4(addr), prefix)) : formatIPv6(maskIPv6(parseIPv6(addr), prefix));
  return { addr: net as Address, prefix, family };
}

export function addressTarget(addr: Address, family: Family): Target {
  return { addr, prefix: family === 4 ? 32 : 128, family };
}

/**
 * Map key for targets: the CIDR text. Equal targets have equal keys because a Target is always
 * masked and canonical (parseTarget and networkOf make sure of it).
 */
export function targetKey(t: Target): string {
  return `${t.addr}/${t.prefix}`;
}

/** True when `outer` contains `inner` (same family, outer's prefix no longer, same masked bits). A target contains itself. */
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

// ---------------------------------------------------------------------------------------------
// One number per target, for code that compares IPv4 and IPv6 networks on one path (the kernel
// view of the actions). Keys made from a value equal targetKey of the same target.

/** The numeric value of a target's network address. */
export function targetValue(t: Target): bigint {
  if (t.family === 4) return BigInt(parseIPv4(t.addr));
  // four 32-bit halves rather than eight 16-bit steps: half the BigInt operations (100,000 at start)
  const w = parseIPv6(t.addr);
  const word = (i: number): bigint => BigInt(w[i]! * 65536 + w[i + 1]!);
  return (word(0) << 96n) | (word(2) << 64n) | (word(4) << 32n) | word(6);
}

/** `value` with every bit after the first `prefix` bits cleared. */
export function maskValue(value: bigint, family: Family, prefix: number): bigint {
  const hostBits = BigInt(maxPrefix(family) - prefix);
  return (value >> hostBits) << hostBits;
}

/** targetKey of the target whose (masked) network address is `value`. */
export function valueKey(family: Family, value: bigint, prefix: number): string {
  if (family === 4) return `${formatIPv4(Number(value))}/${prefix}`;
  const words = new Array<number>(8);
  for (let i = 7; i >= 0; i--) {
    words[i] = Number(value & 0xffffn);
    value >>= 16n;
  }
  return `${formatIPv6(words)}/${prefix}`;
}
