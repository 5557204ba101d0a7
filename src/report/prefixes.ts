// Which network sizes the report groups addresses by: the subnet rule's of the first jail that
// has one on (what pban would ban), else /24 and /64.
import type { JailPolicy } from '../engine/index.js';

export function reportPrefixes(policies: readonly JailPolicy[]): { ipv4: number; ipv6: number } {
  const p = policies.find((x) => x.subnet.enabled) ?? policies[0];
  return p === undefined ? { ipv4: 24, ipv6: 64 } : { ipv4: p.subnet.ipv4Prefix, ipv6: p.subnet.ipv6Prefix };
}
