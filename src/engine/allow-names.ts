// Allow lists by verified client name. Postfix logs a client as `name[addr]` only when the
// name's forward lookup gives the address back (`unknown[addr]` otherwise), so a name under a
// big sender's domain cannot be claimed by anyone else's address. This module is the one owner
// of what an allow pattern is and what it matches; the config loader validates with it and
// the jail matches with it.

/** One DNS label: letters, digits and inner hyphens. */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const NAME_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);
const MAX_NAME = 253;

/** A compiled pattern: an exact name, or `*.domain` for every name under the domain. */
export interface AllowName {
  readonly pattern: string;
  /** For `*.domain`: ".domain"; for an exact name: the name itself. */
  readonly tail: string;
  readonly wildcard: boolean;
}

/**
 * Reads a pattern as written in a config: `mail.example.net` or `*.outbound.protection.outlook.com`.
 * Returns a problem to report (with the config line) or the compiled pattern.
 */
export function parseAllowName(text: string): AllowName | { error: string } {
  const p = text.trim().toLowerCase();
  const wildcard = p.startsWith('*.');
  const domain = wildcard ? p.slice(2) : p;
  // `*.com` would allow anyone who controls a .com name's reverse and forward DNS: everyone.
  if (wildcard && new RegExp(`^${LABEL}$`).test(domain)) return { error: `allow_names: "${text}" covers a whole top-level domain` };
  if (domain === 'unknown' || !NAME_RE.test(domain) || domain.length > MAX_NAME) {
    return { error: `allow_names: "${text}" is not a host name or "*." and a domain (letters, digits, "-" and dots, at least two labels; "*" only as the whole first label)` };
  }
  return { pattern: p, tail: wildcard ? `.${domain}` : domain, wildcard };
}

/**
 * Whether a client name as captured from a log line is allowed. Anything that is not a
 * plain host name (`unknown`, brackets, spaces, empty labels) is never allowed, whatever the
 * patterns say: the name comes from the line, and a line is attacker-controlled text.
 */
export function nameAllowed(patterns: readonly AllowName[], name: string | undefined): boolean {
  if (name === undefined || patterns.length === 0 || name.length > MAX_NAME) return false;
  const n = name.toLowerCase();
  if (!NAME_RE.test(n)) return false;
  for (const p of patterns) {
    if (p.wildcard ? n.endsWith(p.tail) && n.length > p.tail.length : n === p.tail) return true;
  }
  return false;
}
