// A jail's ban policy, as the engine consumes it. All durations are milliseconds;
// `null` means permanent. src/config builds these from the TOML file.
import type { Target } from '../events.js';

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
}
