// The one owner of the ports rule. A jail's `ports` and an action's port list both go through
// parsePort, so `pban check`, the config loader and every firewall backend agree on what a
// port is: round 1 accepted "smtp" in the config and refused it in the actions, so a config
// that checked fine could not start.
//
// Service names are resolved here, once, to numbers: the kernel tables (nft sets, iptables
// multiport, ipset) all take numbers, and a name that only some backends know would make the
// same config mean different things per backend.
import { readFileSync } from 'node:fs';

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/**
 * The services a mail or web host blocks, for a machine without /etc/services (netbase is
 * not always installed in containers). /etc/services wins where both know a name.
 */
const BUILTIN_SERVICES: Readonly<Record<string, number>> = {
  ssh: 22, smtp: 25, http: 80, pop3: 110, imap: 143, imap2: 143, https: 443,
  submissions: 465, smtps: 465, ssmtp: 465, submission: 587, imaps: 993, pop3s: 995,
  sieve: 4190, 'managesieve': 4190,
};

let services: ReadonlyMap<string, number> | undefined;

/** TCP service names from /etc/services, read once per process. */
function serviceTable(): ReadonlyMap<string, number> {
  if (services) return services;
  const table = new Map<string, number>(Object.entries(BUILTIN_SERVICES));
  let text = '';
  try {
    text = readFileSync('/etc/services', 'utf8');
  } catch {
    // no netbase: the built-in names still work
  }
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9][a-z0-9-]*)\s+(\d{1,5})\/tcp\b([^#]*)/i.exec(line);
    if (!m) continue;
    const port = Number(m[2]);
    for (const name of [m[1]!, ...(m[3] ?? '').trim().split(/\s+/).filter(Boolean)]) table.set(name.toLowerCase(), port);
  }
  services = table;
  return table;
}

export const PORT_HINT = 'expected a number 1-65535, a range like "8000-8080", a service name like "submission", or "all"';

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;

/**
 * `25`, `"465"`, `"8000-8080"`, `"8000:8080"` or a TCP service name (`"submission"`) → a range;
 * an error message for anything else. `lookup` is for tests; the default reads /etc/services.
 */
export function parsePort(value: unknown, lookup: (name: string) => number | undefined = (n) => serviceTable().get(n)): PortRange | { error: string } {
  const bad = { error: `invalid port ${JSON.stringify(value)} (${PORT_HINT})` };
  if (typeof value === 'number') return isPort(value) ? { from: value, to: value } : bad;
  if (typeof value !== 'string') return bad;
  const text = value.trim().toLowerCase();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return isPort(n) ? { from: n, to: n } : bad;
  }
  const range = /^(\d+)\s*[-:]\s*(\d+)$/.exec(text);
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    return isPort(from) && isPort(to) && from < to ? { from, to } : bad;
  }
  if (!/^[a-z][a-z0-9-]*$/.test(text)) return bad;
  const n = lookup(text);
  if (n === undefined) return { error: `unknown service name "${value}" (not in /etc/services; write the port number)` };
  return { from: n, to: n };
}

/** The canonical text of a range: "25" or "8000-8080". */
export function formatPortRange(r: PortRange): string {
  return r.from === r.to ? String(r.from) : `${r.from}-${r.to}`;
}

/** A list of ports → ranges, or the first error. */
export function parsePorts(values: readonly unknown[]): PortRange[] | { error: string } {
  const out: PortRange[] = [];
  for (const v of values) {
    const r = parsePort(v);
    if ('error' in r) return r;
    out.push(r);
  }
  return out;
}
