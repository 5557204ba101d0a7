// A naive, obviously-correct model of the jail rules, for the randomized test. It keeps every
// failure and every ban in plain lists and recomputes each window from scratch. It shares no
// code with src/engine: address masking goes through ipaddr.js instead of src/cidr.ts.
import ipaddr from 'ipaddr.js';
import type { Ban, Family, LiftReason, Target } from '../../src/events.js';
import type { JailPolicy } from '../../src/engine/policy.js';

/**
 * The wall-clock tolerance of the rules (src/engine/wall-clock.ts). Written out here, not
 * imported: the model states the rule on its own, and a test checks the two agree.
 */
export const MODEL_CLOCK_TOLERANCE = 60_000;

interface RefFailure {
  seq: number;
  time: number;
  addr: string;
  family: Family;
  net: string | null;
  /** Left its window for good: the clock passed time + findtime, or the clock was set back. */
  dead: boolean;
}

interface RefBan extends Ban {
  clearSeq: number;
  /** Set when lifted by hand; expiry is computed from `until` and the clock. */
  manualLift: number | null;
  /** Ended by expiry: the clock (or an expire() call) reached `until`. A clock set back later does not revive it. */
  ended: boolean;
  reported: boolean;
  /** No longer counts for the increment: a later ban of the target came more than `remember` after it. */
  forgotten: boolean;
}

export interface RefDecision {
  reason: 'counted' | 'ignored' | 'already-banned' | 'ban';
  bans: Ban[];
}

export function maskText(addr: string, prefix: number): string {
  const bytes = ipaddr.parse(addr).toByteArray();
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    const i = bit >> 3;
    bytes[i] = bytes[i]! & ~(0x80 >> (bit & 7));
  }
  const ip = ipaddr.fromByteArray(bytes);
  return ip.kind() === 'ipv6' ? (ip as ipaddr.IPv6).toRFC5952String() : ip.toString();
}

function inside(addr: string, t: Target): boolean {
  const fam = addr.includes(':') ? 6 : 4;
  return fam === t.family && maskText(addr, t.prefix) === maskText(t.addr, t.prefix);
}

function overlapping(a: Target, b: Target): boolean {
  if (a.family !== b.family) return false;
  const p = Math.min(a.prefix, b.prefix);
  return maskText(a.addr, p) === maskText(b.addr, p);
}

const key = (t: Target): string => `${t.addr}/${t.prefix}`;

export class ReferenceJail {
  clock = -Infinity;
  seq = 0;
  totalFailed = 0;
  futureDated = 0;
  clockSetBack = 0;
  readonly failures: RefFailure[] = [];
  readonly bans: RefBan[] = [];
  readonly clears = new Map<string, number>();

  constructor(readonly policy: JailPolicy) {}

  private isActive(b: RefBan): boolean {
    return b.manualLift === null && !b.ended && (b.until === null || b.until > this.clock);
  }

  /** The clock moved to `c`: failures that leave their window, and bans that end, do so for good. */
  private setClock(c: number): void {
    this.clock = c;
    for (const f of this.failures) if (f.time <= c - this.policy.findtime) f.dead = true;
    for (const b of this.bans) if (b.until !== null && b.until <= c) b.ended = true;
  }

  /**
   * What a restart changes: the history is rebuilt from every stored ban (nothing forgotten),
   * and the clock counters start again (they count since the jail was built).
   */
  restarted(): void {
    for (const b of this.bans) b.forgotten = false;
    this.futureDated = 0;
    this.clockSetBack = 0;
  }

  private ignored(addr: string): boolean {
    return this.policy.ignore.some((t) => inside(addr, t));
  }

  private window(pred: (f: RefFailure) => boolean, k: string): RefFailure[] {
    const clear = this.clears.get(k) ?? 0;
    const cutoff = this.clock - this.policy.findtime;
    return this.failures.filter((f) => pred(f) && !f.dead && f.seq > clear && f.time > cutoff);
  }

  private netOf(addr: string, family: Family): string | null {
    const s = this.policy.subnet;
    if (!s.enabled) return null;
    const p = family === 4 ? s.ipv4Prefix : s.ipv6Prefix;
    return `${maskText(addr, p)}/${p}`;
  }

  /**
   * `wall`: the wall clock. A failure dated after it counts at it (and as future-dated beyond
   * the tolerance); a clock more than the tolerance ahead of it is set back to it, and every
   * failure then leaves its window.
   */
  observe(addr: string, family: Family, time: number, wall = Infinity): RefDecision {
    if (time > wall) {
      if (time - wall > MODEL_CLOCK_TOLERANCE) this.futureDated++;
      time = wall;
    }
    if (this.clock - wall > MODEL_CLOCK_TOLERANCE) {
      this.clockSetBack++;
      for (const f of this.failures) f.dead = true;
      this.setClock(wall);
    }
    this.setClock(Math.max(this.clock, time));
    if (this.ignored(addr)) return { reason: 'ignored', bans: [] };
    if (time <= this.clock - this.policy.findtime) return { reason: 'ignored', bans: [] };
    const banned = this.bans.some((b) => this.isActive(b) && inside(addr, b.target));
    if (banned) return { reason: 'already-banned', bans: [] };
    const seq = ++this.seq;
    this.totalFailed++;
    const net = this.netOf(addr, family);
    this.failures.push({ seq, time, addr, family, net, dead: false });
    const out: Ban[] = [];
    const addrTarget: Target = { addr: addr as Target['addr'], prefix: family === 4 ? 32 : 128, family };
    const aw = this.window((f) => f.addr === addr, key(addrTarget));
    if (aw.length >= this.policy.maxretry) {
      out.push(this.makeBan(addrTarget, 'address', aw.length, this.clock, this.policy.bantime, false));
    }
    if (net !== null) {
      const s = this.policy.subnet;
      const nw = this.window((f) => f.net === net, net);
      const distinct = new Set(nw.map((f) => f.addr)).size;
      const [naddr, np] = net.split('/') as [string, string];
      const netTarget: Target = { addr: naddr as Target['addr'], prefix: Number(np), family };
      const nearIgnore = this.policy.ignore.some((t) => overlapping(t, netTarget));
      if (nw.length >= s.maxretry && distinct >= s.minAddresses && !nearIgnore) {
        out.push(this.makeBan(netTarget, 'network', nw.length, this.clock, s.bantime, false));
      }
    }
    return out.length === 0 ? { reason: 'counted', bans: [] } : { reason: 'ban', bans: out };
  }

  makeBan(target: Target, kind: Ban['kind'], failures: number, created: number, base: number | null, exact: boolean): Ban {
    const inc = this.policy.increment;
    // A manual unban resets the count: only bans after the target's last manual lift count.
    const all = this.bans.filter((b) => key(b.target) === key(target));
    let last = -1;
    all.forEach((b, i) => { if (b.manualLift !== null) last = i; });
    const mine = all.slice(last + 1).filter((b) => !b.forgotten);
    for (const b of mine) if (b.created <= created - inc.remember) b.forgotten = true;
    const n = 1 + mine.filter((b) => !b.forgotten).length;
    let duration: number | null = base;
    if (!exact && base !== null && inc.enabled) {
      duration = Math.min(base * inc.factor ** (n - 1), inc.maxtime ?? Infinity);
      if (!Number.isFinite(duration)) duration = null;
    }
    const ban: RefBan = {
      target,
      jail: this.policy.name,
      kind,
      created,
      until: duration === null ? null : created + duration,
      failures,
      banNumber: n,
      clearSeq: this.seq,
      manualLift: null,
      ended: false,
      reported: false,
      forgotten: false,
    };
    this.bans.push(ban);
    this.clears.set(key(target), this.seq);
    const { clearSeq: _c, manualLift: _m, ended: _e, reported: _r, forgotten: _f, ...plain } = ban;
    return plain;
  }

  /** Manual ban; returns an error code string when the engine must refuse. */
  manualBan(target: Target, now: number, duration: number | null | undefined): Ban | string {
    if (this.policy.ignore.some((t) => overlapping(t, target))) return 'engine.ignoredTarget';
    if (this.bans.some((b) => this.isActive(b) && key(b.target) === key(target))) return 'engine.alreadyBanned';
    const isAddr = target.prefix === (target.family === 4 ? 32 : 128);
    if (duration === undefined) {
      return this.makeBan(target, 'manual', 0, now, isAddr ? this.policy.bantime : this.policy.subnet.bantime, false);
    }
    return this.makeBan(target, 'manual', 0, now, duration, true);
  }

  manualUnban(target: Target, now: number): string | null {
    const b = this.bans.find((x) => this.isActive(x) && key(x.target) === key(target));
    if (b === undefined) return 'engine.notBanned';
    b.manualLift = now;
    b.reported = true;
    return null;
  }

  /** Bans that ended by expiry (the clock reached them, or `until` ≤ t), not reported yet. */
  expire(t: number): { target: string; reason: LiftReason; time: number }[] {
    const out: { target: string; reason: LiftReason; time: number }[] = [];
    for (const b of this.bans) {
      if (b.manualLift === null && b.until !== null && b.until <= t) b.ended = true;
      if (!b.reported && b.manualLift === null && b.ended) {
        b.reported = true;
        out.push({ target: key(b.target), reason: 'expired', time: b.until! });
      }
    }
    return out;
  }

  status(): { failing: number; totalFailed: number; bannedAddresses: number; bannedNetworks: number; totalBanned: number; futureDated: number; clockSetBack: number } {
    const failing = new Set<string>();
    for (const f of this.failures) {
      const k = `${f.addr}/${f.family === 4 ? 32 : 128}`;
      if (this.window((x) => x === f, k).length > 0) failing.add(f.addr);
    }
    const active = this.bans.filter((b) => this.isActive(b));
    const addrs = active.filter((b) => b.target.prefix === (b.target.family === 4 ? 32 : 128)).length;
    return {
      failing: failing.size,
      totalFailed: this.totalFailed,
      bannedAddresses: addrs,
      bannedNetworks: active.length - addrs,
      totalBanned: this.bans.length,
      futureDated: this.futureDated,
      clockSetBack: this.clockSetBack,
    };
  }
}
