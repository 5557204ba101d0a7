// Adds up failures, bans and connections into a Report. Pure: it is fed plain data (from a
// replay, or from the store) and never reads a file or the clock.
import type { Family, Target } from '../events.js';
import { networkOf, targetKey } from '../cidr.js';
import type { AddressRow, BansPerHour, KindRow, NearRow, NetworkRow, Report, Timeline, Traffic, UserRow } from './model.js';
import { pickBucket } from './buckets.js';

export interface BuilderOptions {
  /** Count only what happened at or after this time (ms). */
  readonly since?: number | null;
  /** ... and before this one. */
  readonly until?: number | null;
  /** Network prefixes for the network tables. Default /24 and /64. */
  readonly prefixes?: { readonly ipv4: number; readonly ipv6: number };
  /** Rows per table. Default 10. */
  readonly top?: number;
  /** Buckets the timeline aims for (at most). Default 60. */
  readonly timelineBuckets?: number;
}

export interface FailureInput {
  readonly jail: string;
  readonly time: number;
  readonly address: string;
  readonly family: Family;
  readonly kind: string;
  /** Verified client name as logged (attacker-controlled). */
  readonly name?: string;
  /** A user name the client tried (attacker-controlled). */
  readonly user?: string;
  /** Its address or network was banned already when it came. */
  readonly whileBanned?: boolean;
}

export interface BanInput {
  readonly jail: string;
  readonly time: number;
  readonly target: Target;
  readonly kind: 'address' | 'network' | 'manual';
}

interface AddrAcc {
  failures: number;
  /** An address has few kinds: a list scanned by identity beats a map per address. */
  kinds: { readonly k: string; n: number }[];
  first: number;
  last: number;
  name: string | null;
  network: string;
}

interface NetAcc {
  failures: number;
  addresses: number;
  kinds: Map<string, number>;
  first: number;
  last: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

function bump(m: Map<string, number>, k: string, by = 1): number {
  const v = (m.get(k) ?? 0) + by;
  m.set(k, v);
  return v;
}

function record(m: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

export class ReportBuilder {
  private readonly since: number;
  private readonly until: number;
  private readonly prefixes: { readonly ipv4: number; readonly ipv6: number };
  private readonly top: number;
  private readonly timelineBuckets: number;

  private readonly addrs = new Map<string, AddrAcc>();
  private readonly users = new Map<string, { failures: number; addresses: Set<string> }>();
  private readonly jailFailures = new Map<string, { n: number }>();
  /** The last jail's counter: consecutive failures mostly come from the same jail. */
  private lastJail: { name: string; counter: { n: number } } | null = null;
  private readonly jailBans = new Map<string, number>();
  /**
   * Failures per kind per minute (minute number since the epoch). The current minute of each
   * kind is counted apart and added when the kind's next failure falls in another minute: the
   * per-failure cost is a comparison, not two map operations.
   */
  private readonly perMinute = new Map<string, { failures: number; map: Map<number, number>; minute: number; n: number }>();
  private readonly bans: BanInput[] = [];
  private readonly connects = new Map<string, { n: number }>();
  private connections = 0;
  private failures = 0;
  private whileBanned = 0;
  private first = Infinity;
  private last = -Infinity;
  private near: { networks: NearRow[]; addresses: NearRow[] } = { networks: [], addresses: [] };
  private connectionsKnown = true;

  constructor(opts: BuilderOptions = {}) {
    this.since = opts.since ?? -Infinity;
    this.until = opts.until ?? Infinity;
    this.prefixes = opts.prefixes ?? { ipv4: 24, ipv6: 64 };
    this.top = opts.top ?? 10;
    this.timelineBuckets = opts.timelineBuckets ?? 60;
  }

  private inPeriod(t: number): boolean {
    return t >= this.since && t < this.until;
  }

  addFailure(f: FailureInput): void {
    if (!this.inPeriod(f.time)) return;
    this.failures++;
    if (f.whileBanned) this.whileBanned++;
    if (f.time < this.first) this.first = f.time;
    if (f.time > this.last) this.last = f.time;
    const lj = this.lastJail;
    if (lj !== null && lj.name === f.jail) lj.counter.n++;
    else {
      let counter = this.jailFailures.get(f.jail);
      if (counter === undefined) {
        counter = { n: 0 };
        this.jailFailures.set(f.jail, counter);
      }
      counter.n++;
      this.lastJail = { name: f.jail, counter };
    }

    let a = this.addrs.get(f.address);
    if (a === undefined) {
      const network = targetKey(networkOf(f.address, f.family, f.family === 4 ? this.prefixes.ipv4 : this.prefixes.ipv6));
      a = { failures: 0, kinds: [], first: f.time, last: f.time, name: null, network };
      this.addrs.set(f.address, a);
    }
    a.failures++;
    let ki = 0;
    const ks = a.kinds;
    while (ki < ks.length && ks[ki]!.k !== f.kind) ki++;
    if (ki < ks.length) ks[ki]!.n++;
    else ks.push({ k: f.kind, n: 1 });
    if (f.time < a.first) a.first = f.time;
    if (f.time > a.last) a.last = f.time;
    if (f.name !== undefined) a.name = f.name;


    if (f.user !== undefined) {
      let u = this.users.get(f.user);
      if (u === undefined) {
        u = { failures: 0, addresses: new Set() };
        this.users.set(f.user, u);
      }
      u.failures++;
      u.addresses.add(f.address);
    }

    const minute = Math.floor(f.time / MINUTE);
    // Also the kind's failures: its addresses and networks are derived from `addrs` at build().
    const pm = this.perMinute.get(f.kind);
    if (pm === undefined) this.perMinute.set(f.kind, { failures: 1, map: new Map(), minute, n: 1 });
    else if ((pm.failures++, pm.minute === minute)) pm.n++;
    else {
      if (pm.n > 0) pm.map.set(pm.minute, (pm.map.get(pm.minute) ?? 0) + pm.n);
      pm.minute = minute;
      pm.n = 1;
    }
  }

  addBan(b: BanInput): void {
    if (!this.inPeriod(b.time)) return;
    this.bans.push(b);
    bump(this.jailBans, b.jail);
  }

  /** One smtpd session opened by `address` at `time`. */
  addConnect(time: number, address: string): void {
    if (!this.inPeriod(time)) return;
    this.connections++;
    const c = this.connects.get(address);
    if (c === undefined) this.connects.set(address, { n: 1 });
    else c.n++;
  }

  /** This source cannot see connections (the store): the traffic share is not known. */
  connectionsUnknown(): void {
    this.connectionsKnown = false;
  }

  /** Jails present even without failures (so an empty report still lists them). */
  addJail(name: string): void {
    if (!this.jailFailures.has(name)) this.jailFailures.set(name, { n: 0 });
  }

  setNearThreshold(near: { networks: NearRow[]; addresses: NearRow[] }): void {
    this.near = near;
  }

  build(meta: { source: Report['source']; generatedAt: number }): Report {
    const top = this.top;
    const bansOf = new Map<string, number>();
    const banTotals = { address: 0, network: 0, manual: 0 };
    for (const b of this.bans) {
      banTotals[b.kind]++;
      bump(bansOf, targetKey(b.target));
    }
    const full = (addr: string): string => (addr.includes(':') ? `${addr}/128` : `${addr}/32`);

    const addresses: AddressRow[] = [...this.addrs]
      .sort((x, y) => y[1].failures - x[1].failures || (x[0] < y[0] ? -1 : 1))
      .slice(0, top)
      .map(([address, a]) => ({
        address,
        network: a.network,
        failures: a.failures,
        kinds: record(new Map(a.kinds.map((x) => [x.k, x.n]))),
        first: a.first,
        last: a.last,
        bans: bansOf.get(full(address)) ?? 0,
        name: a.name,
      }));
    // Networks are added up from their addresses (each address is in one network).
    const nets = new Map<string, NetAcc>();
    for (const a of this.addrs.values()) {
      let n = nets.get(a.network);
      if (n === undefined) {
        n = { failures: 0, addresses: 0, kinds: new Map(), first: a.first, last: a.last };
        nets.set(a.network, n);
      }
      n.failures += a.failures;
      n.addresses++;
      for (const x of a.kinds) bump(n.kinds, x.k, x.n);
      if (a.first < n.first) n.first = a.first;
      if (a.last > n.last) n.last = a.last;
    }
    const networks: NetworkRow[] = [...nets]
      .sort((x, y) => y[1].failures - x[1].failures || (x[0] < y[0] ? -1 : 1))
      .slice(0, top)
      .map(([network, n]) => ({
        network,
        failures: n.failures,
        addresses: n.addresses,
        kinds: record(n.kinds),
        first: n.first,
        last: n.last,
        bans: bansOf.get(network) ?? 0,
      }));
    const perKind = new Map<string, { addresses: [string, number][]; networks: Set<string> }>();
    for (const [address, a] of this.addrs) {
      for (const { k: kind, n } of a.kinds) {
        let k = perKind.get(kind);
        if (k === undefined) {
          k = { addresses: [], networks: new Set() };
          perKind.set(kind, k);
        }
        k.addresses.push([address, n]);
        k.networks.add(a.network);
      }
    }
    const kinds: KindRow[] = [...this.perMinute].map(([kind, pm]): [string, number] => [kind, pm.failures])
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .map(([kind, failures]) => {
        const k = perKind.get(kind)!;
        return {
          kind,
          failures,
          addresses: k.addresses.length,
          networks: k.networks.size,
          top: k.addresses
            .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
            .slice(0, 3)
            .map(([address, n]) => ({ address, failures: n })),
        };
      });
    const users: UserRow[] = [...this.users]
      .sort((x, y) => y[1].failures - x[1].failures || (x[0] < y[0] ? -1 : 1))
      .slice(0, top)
      .map(([user, u]) => ({ user, failures: u.failures, addresses: u.addresses.size }));

    return {
      source: meta.source,
      generatedAt: meta.generatedAt,
      since: Number.isFinite(this.since) ? this.since : null,
      until: Number.isFinite(this.until) ? this.until : null,
      first: this.failures > 0 ? this.first : null,
      last: this.failures > 0 ? this.last : null,
      prefixes: this.prefixes,
      totals: { failures: this.failures, addresses: this.addrs.size, networks: nets.size, whileBanned: this.whileBanned, bans: banTotals },
      jails: [...this.jailFailures.keys(), ...[...this.jailBans.keys()].filter((j) => !this.jailFailures.has(j))].map((name) => ({
        name,
        failures: this.jailFailures.get(name)?.n ?? 0,
        bans: this.jailBans.get(name) ?? 0,
      })),
      kinds,
      addresses,
      networks,
      users,
      timeline: this.timeline(),
      bansPerHour: this.bansPerHour(),
      traffic: this.traffic(),
      nearThreshold: { networks: this.near.networks.slice(0, top), addresses: this.near.addresses.slice(0, top) },
    };
  }

  private timeline(): Timeline | null {
    if (this.failures === 0) return null;
    const lo = Number.isFinite(this.since) ? this.since : this.first;
    const hi = Number.isFinite(this.until) ? this.until : this.last + 1;
    const { start, bucketMs, buckets } = pickBucket(lo, hi, this.timelineBuckets);
    const series = [...this.perMinute.keys()]
      .sort((x, y) => this.perMinute.get(y)!.failures - this.perMinute.get(x)!.failures || (x < y ? -1 : 1))
      .map((kind) => {
        const counts = new Array<number>(buckets).fill(0);
        const pm = this.perMinute.get(kind)!;
        const add = (minute: number, c: number): void => {
          const i = Math.floor((minute * MINUTE - start) / bucketMs);
          if (i >= 0 && i < buckets) counts[i]! += c;
        };
        for (const [minute, c] of pm.map) add(minute, c);
        add(pm.minute, pm.n);
        return { kind, counts };
      });
    return { start, bucketMs, buckets, series };
  }

  private bansPerHour(): BansPerHour | null {
    // A loop, not Math.min(...times): a spread of 100,000 bans overflows the stack.
    let lo = Number.isFinite(this.since) ? this.since : this.first;
    let hi = Number.isFinite(this.until) ? this.until - 1 : this.last;
    for (const b of this.bans) {
      if (!Number.isFinite(this.since) && b.time < lo) lo = b.time;
      if (!Number.isFinite(this.until) && b.time > hi) hi = b.time;
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
    const start = Math.floor(lo / HOUR) * HOUR;
    const n = Math.floor((hi - start) / HOUR) + 1;
    const hours = Array.from({ length: n }, (_, i) => ({ time: start + i * HOUR, address: 0, network: 0, manual: 0 }));
    for (const b of this.bans) {
      const h = hours[Math.floor((b.time - start) / HOUR)];
      if (h !== undefined) h[b.kind]++;
    }
    return { start, hours };
  }

  private traffic(): Traffic {
    let clients = this.addrs.size;
    for (const a of this.connects.keys()) if (!this.addrs.has(a)) clients++;
    let hostileConnections = 0;
    for (const [a, c] of this.connects) if (this.addrs.has(a)) hostileConnections += c.n;
    const known = this.connectionsKnown;
    return {
      clients,
      hostileClients: this.addrs.size,
      connections: known ? this.connections : null,
      hostileConnections: known ? hostileConnections : null,
      hostileClientShare: clients > 0 ? this.addrs.size / clients : null,
      hostileConnectionShare: known && this.connections > 0 ? hostileConnections / this.connections : null,
    };
  }
}

/**
 * The windows at or past half their jail's threshold that are not banned: who a ban is about
 * to hit at the current settings. `windows` is what Jail.windows() returned for each jail.
 */
export interface JailWindows {
  readonly name: string;
  readonly maxretry: number;
  readonly subnet: { readonly enabled: boolean; readonly maxretry: number; readonly minAddresses: number };
  readonly windows: { readonly networks: readonly WindowLike[]; readonly addresses: readonly WindowLike[] };
  readonly isBanned: (t: Target) => boolean;
}

export function nearThreshold(jails: readonly JailWindows[]): { networks: NearRow[]; addresses: NearRow[] } {
  const networks: NearRow[] = [];
  const addresses: NearRow[] = [];
  for (const j of jails) {
    if (j.subnet.enabled) {
      const s = j.subnet;
      for (const w of j.windows.networks) {
        const enough = w.failures >= s.maxretry && w.addresses >= s.minAddresses;
        // A full window that is not banned overlaps ignoreip: it never will be.
        if (enough || w.failures * 2 < s.maxretry || j.isBanned(w.target)) continue;
        networks.push({ jail: j.name, target: targetKey(w.target), failures: w.failures, threshold: s.maxretry, addresses: w.addresses, minAddresses: s.minAddresses, missing: Math.max(0, s.maxretry - w.failures) });
      }
    }
    for (const w of j.windows.addresses) {
      if (w.failures >= j.maxretry || w.failures * 2 < j.maxretry || j.isBanned(w.target)) continue;
      addresses.push({ jail: j.name, target: targetKey(w.target), failures: w.failures, threshold: j.maxretry, addresses: 1, minAddresses: 1, missing: j.maxretry - w.failures });
    }
  }
  const order = (x: NearRow, y: NearRow): number => y.failures / y.threshold - x.failures / x.threshold || y.failures - x.failures || (x.target < y.target ? -1 : 1);
  return { networks: networks.sort(order), addresses: addresses.sort(order) };
}

interface WindowLike {
  readonly target: Target;
  readonly failures: number;
  readonly addresses: number;
}
