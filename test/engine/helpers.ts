import type { Address, Failure, Family, Target } from '../../src/events.js';
import type { JailPolicy } from '../../src/engine/policy.js';

type Over = Partial<Omit<JailPolicy, 'increment' | 'subnet'>> & {
  increment?: Partial<JailPolicy['increment']>;
  subnet?: Partial<JailPolicy['subnet']>;
};

/** A small policy: findtime 10, maxretry 3, bantime 100, increment and subnets off. */
export function policy(over: Over = {}): JailPolicy {
  return {
    name: over.name ?? 'test',
    findtime: over.findtime ?? 10,
    maxretry: over.maxretry ?? 3,
    bantime: over.bantime === undefined ? 100 : over.bantime,
    increment: { enabled: false, factor: 2, maxtime: null, remember: 1000, ...over.increment },
    subnet: { enabled: false, ipv4Prefix: 24, ipv6Prefix: 64, maxretry: 5, minAddresses: 2, bantime: 1000, ...over.subnet },
    ignore: over.ignore ?? [],
  };
}

export function failure(ip: string, time: number): Failure {
  const family: Family = ip.includes(':') ? 6 : 4;
  return { time, ip: ip as Address, family, filter: 'postfix', kind: 'sasl', fields: {} };
}

export function target(cidr: string): Target {
  const [addr, p] = cidr.split('/') as [string, string];
  return { addr: addr as Address, prefix: Number(p), family: addr.includes(':') ? 6 : 4 };
}
