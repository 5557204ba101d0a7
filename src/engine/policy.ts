// A jail's ban policy, as the engine consumes it. All durations are milliseconds;
// `null` means permanent. src/config builds these from the TOML file.
import type { Target } from '../events.js';
import type { AllowName } from './allow-names.js';

export interface IncrementPolicy {
  readonly enabled: boolean;
  /** The n-th ban lasts bantime * factor^(n-1) ... */
  readonly factor: number;
  /** ... capped at maxtime (null: no cap). */
  readonly maxtime: number | null;
  /** How long an earlier ban still counts towards n. */
  readonly remember: number;
}

export interface SubnetPolicy {
  readonly enabled: boolean;
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  /** Failures from the network within findtime that trigger a network ban. */
  readonly maxretry: number;
  /** Distinct addresses required among those failures. */
  readonly minAddresses: number;
  readonly bantime: number | null;
}

export interface JailPolicy {
  readonly name: string;
  readonly findtime: number;
  readonly maxretry: number;
  readonly bantime: number | null;
  readonly increment: IncrementPolicy;
  readonly subnet: SubnetPolicy;
  /** Addresses and networks that never count and are never banned. */
  readonly ignore: readonly Target[];
  /** Verified client names whose failures never count (allow-names.ts). Left out: none. */
  readonly allowNames?: readonly AllowName[];
  /**
   * The machine's own addresses (`ignoreself`): never counted, so never banned by a failure.
   * Unlike `ignore`, they do not stop a network ban that covers them: a server shares its
   * /24 with hosts it does not own. Left out: none.
   */
  readonly self?: readonly Target[];
}

/** Which policy key is wrong, and why: the config loader turns `key` into a file line. */
export interface PolicyProblem {
  readonly key: 'findtime' | 'maxretry' | 'bantime' | 'bantime_increment.factor' | 'subnet.ipv4_prefix' | 'subnet.ipv6_prefix' | 'subnet.maxretry' | 'subnet.min_addresses' | 'subnet.bantime';
  readonly message: string;
}

/** Network prefixes a subnet rule may use. A /32 or /128 "network" is one address (the
 * address rule already covers it); shorter than /8 or /16 would block a continent's mail. */
export const SUBNET_PREFIX_RANGE = { 4: { min: 8, max: 31 }, 6: { min: 16, max: 127 } } as const;

/**
 * The one owner of what a valid policy is. The engine refuses a policy with a problem; the
 * config loader calls this too, so `pban check` refuses exactly what the engine would.
 */
export function policyProblems(p: JailPolicy): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const positiveMs = (v: number | null): boolean => v === null || (Number.isInteger(v) && v >= 1);
  // Durations are whole milliseconds: "0.1ms" rounds to 0, which is no window at all.
  if (!(Number.isInteger(p.findtime) && p.findtime >= 1)) out.push({ key: 'findtime', message: 'must be at least 1ms' });
  if (!(Number.isInteger(p.maxretry) && p.maxretry >= 1)) out.push({ key: 'maxretry', message: 'must be an integer ≥ 1' });
  if (!positiveMs(p.bantime)) out.push({ key: 'bantime', message: 'must be at least 1ms, or -1 for permanent' });
  if (p.increment.enabled && !(p.increment.factor >= 1)) out.push({ key: 'bantime_increment.factor', message: 'must be ≥ 1' });
  const s = p.subnet;
  // Checked even while the rule is off, so turning it on later cannot reveal an old mistake.
  for (const [fam, key, v] of [[4, 'subnet.ipv4_prefix', s.ipv4Prefix], [6, 'subnet.ipv6_prefix', s.ipv6Prefix]] as const) {
    const r = SUBNET_PREFIX_RANGE[fam];
    if (!(Number.isInteger(v) && v >= r.min && v <= r.max)) {
      out.push({ key, message: `must be between ${r.min} and ${r.max}, got ${v} (a longer prefix is a single address, which the address rule already bans)` });
    }
  }
  if (s.enabled) {
    if (!(Number.isInteger(s.maxretry) && s.maxretry >= 1)) out.push({ key: 'subnet.maxretry', message: 'must be an integer ≥ 1' });
    if (!(Number.isInteger(s.minAddresses) && s.minAddresses >= 1)) out.push({ key: 'subnet.min_addresses', message: 'must be an integer ≥ 1' });
    if (!positiveMs(s.bantime)) out.push({ key: 'subnet.bantime', message: 'must be at least 1ms, or -1 for permanent' });
  }
  return out;
}
