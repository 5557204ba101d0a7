// A ban target typed by an admin (CLI argument, control request), parsed by src/cidr.ts with a
// floor on the network size. Both the CLI (to fail fast with exit 2) and the server (the request
// is untrusted) use it; the wording here is what `pban ban` users see.
import type { Family, Target } from '../events.js';
import { parseTarget as parseCidr, type TargetError } from '../cidr.js';

/** Shorter prefixes would ban a large part of the Internet, admins' own access included. */
export const MIN_PREFIX: Readonly<Record<Family, number>> = { 4: 8, 6: 16 };

export type TargetParse = { readonly ok: true; readonly target: Target } | { readonly ok: false; readonly error: string };

export function parseTarget(text: string): TargetParse {
  const r = parseCidr(text.trim(), { minPrefix: MIN_PREFIX });
  if (!('error' in r)) return { ok: true, target: r };
  return { ok: false, error: `invalid target ${JSON.stringify(text)}: ${why(r)}` };
}

function why(e: TargetError): string {
  switch (e.problem) {
    case 'zone':
      return 'zone ids are not allowed';
    case 'prefixSyntax':
    case 'prefixTooLong':
      return `prefix must be 0 to ${e.maxPrefix}`;
    case 'mappedPrefix':
    case 'networkTooLarge':
      return e.detail;
    default:
      return 'expected an IPv4 or IPv6 address, or a CIDR network such as 198.51.100.0/24';
  }
}
