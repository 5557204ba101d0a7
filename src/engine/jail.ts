// One jail's decisions: exact sliding windows per address and per network, the ban policy,
// active bans and ban history. Pure: no I/O and no clock reads. The jail's clock is the newest
// failure time it has seen, bounded by the wall clock the caller passes (wall-clock.ts); manual
// operations and expiry take `now` as an argument.
//
// Memory: an address or network in a window costs a slot in parallel typed arrays, found by its
// numeric value through a SlotIndex (no string, no Map entry); a failure costs 24 bytes in the
// WindowQueue. Nothing is allocated per failure.
import { TRACE_LINES, kindsOf, type Address, type Ban, type BanKind, type Decision, type Failure, type Family, type LiftReason, type MatchTrace, type Target } from '../events.js';
import { TraceRing } from './trace-ring.js';
import { PbanError } from '../errors.js';
import { policyProblems, type JailPolicy } from './policy.js';
import type { FailureColumns, JailChanges, JailSnapshot, Lift, RecordedBan } from './changes.js';
import { banDuration, banEnd } from './ban-duration.js';
import { WindowQueue } from './window-queue.js';
import { BanHeap, type ActiveBan } from './ban-heap.js';
import { SlotIndex } from './slot-index.js';
import { runSteps, type Steps } from '../steps.js';
import { nameAllowed } from './allow-names.js';
import { CLOCK_TOLERANCE_MS } from './wall-clock.js';
import { addressWords, maskedEqual, maskWords, wordsToHextets } from './address-words.js';
import {
  addressTarget,
  familyOf,
  formatIPv4,
  formatIPv6,
  maskIPv4,
  normaliseTarget,
  overlaps,
  parseIPv4,
  targetKey,
} from '../cidr.js';

/** Counters for `pban status`. */
export interface JailStatus {
  /** Addresses with at least one failure in their window now. */
  readonly failing: number;
  /** Failures counted in a window since the jail's store was created. */
  readonly totalFailed: number;
  readonly bannedAddresses: number;
  readonly bannedNetworks: number;
  /** Bans made since the jail's store was created (automatic and manual). */
  readonly totalBanned: number;
  /** Failures dated more than CLOCK_TOLERANCE_MS after the wall clock, since the jail was built. */
  readonly futureDated: number;
  /** Times the wall clock was found behind the jail's clock and the windows were emptied. */
  readonly clockSetBack: number;
}

/** A window's content: failures counted in it now and the distinct addresses among them. */
export interface WindowCount {
  readonly target: Target;
  readonly failures: number;
  readonly addresses: number;
}

const COUNTED: Decision = { type: 'none', reason: 'counted' };
const IGNORED: Decision = { type: 'none', reason: 'ignored' };
const ALREADY_BANNED: Decision = { type: 'none', reason: 'already-banned' };
const INITIAL_SLOTS = 1024;
/** Bans or failures restoreSteps() handles between two yields (about 10-30 ms of work). */
const RESTORE_STEP = 5000;

function newColumns(): FailureColumns {
  return { seq: [], time: [], address: [], kind: [] };
}



export class Jail {
  readonly policy: JailPolicy;

  // The clock: newest failure time seen (never more than CLOCK_TOLERANCE_MS past the wall clock
  // given to observe). Windows are evaluated at this time.
  private clock = -Infinity;
  private seq = 0;
  private totalFailed = 0;
  private totalBanned = 0;
  private failing = 0;
  private futureDated = 0;
  private clockSetBack = 0;
  /** Network slot of the failure count() just added (-1: subnets off). */
  private lastNet = -1;

  private readonly queue = new WindowQueue();
  /** Matched lines of the latest failures, by seq (see trace-ring.ts). */
  private readonly traces = new TraceRing();

  /** Scratch: the value of the address being handled, and of its network (see address-words.ts). */
  private readonly w = new Uint32Array(4);
  private readonly nw = new Uint32Array(4);

  // Address slots (struct of arrays), found by the address's value.
  private readonly addrIndex = new SlotIndex();
  private aCount = new Int32Array(INITIAL_SLOTS);
  private aRefs = new Int32Array(INITIAL_SLOTS);
  private aClear = new Float64Array(INITIAL_SLOTS);
  /** Failures of this address live in its network's window, valid while aNetEpoch === nClear. */
  private aNetCount = new Int32Array(INITIAL_SLOTS);
  private aNetEpoch = new Float64Array(INITIAL_SLOTS);
  /** Kinds (bits, see kindBit) of the failures counted in the address's window since its slot was made or last cleared. */
  private aKinds = new Int32Array(INITIAL_SLOTS);
  /** The seq of the address's latest traced failure (0: none): where its trace chain starts. */
  private aLastSeq = new Float64Array(INITIAL_SLOTS);

  // Network slots, found by the masked network value.
  private readonly netIndex = new SlotIndex();
  private nCount = new Int32Array(INITIAL_SLOTS);
  private nDistinct = new Int32Array(INITIAL_SLOTS);
  private nRefs = new Int32Array(INITIAL_SLOTS);
  private nClear = new Float64Array(INITIAL_SLOTS);
  private nKinds = new Int32Array(INITIAL_SLOTS);

  /**
   * Failure kinds by bit, for a ban's `kinds`: a bit per slot costs 4 bytes per address
   * instead of a list per failure. A bit is not taken back when its failures leave the window,
   * so a ban may name a kind whose failures just left it. Past 31 kinds, a kind goes unnamed.
   */
  private readonly kindBits = new Map<string, number>();
  private readonly kindNames: string[] = [];
  private nLastSeq = new Float64Array(INITIAL_SLOTS);

  // Active bans.
  private readonly active = new Map<string, ActiveBan>();
  /**
   * Active bans by target value, for the per-failure "is it banned?" test without strings:
   * the tag is the prefix for IPv4 and 64 + the prefix for IPv6 (see banTag).
   */
  private readonly bannedIndex = new SlotIndex();
  /** Prefixes that have active bans, per family, and how many bans each (by tag). */
  private banPrefixes4: number[] = [];
  private banPrefixes6: number[] = [];
  private readonly banPrefixCount = new Map<number, number>();
  private bannedAddrCount = 0;
  /** Scratch for bannedIndex keys. */
  private readonly bw = new Uint32Array(4);
  private readonly heap = new BanHeap();
  private pendingLifts: Lift[] = [];

  /** target key → creation times of its bans, oldest first (pruned to increment.remember). */
  private readonly history = new Map<string, number[]>();
  private historySweepAt = 1024;

  private readonly ignore4: { net: number; prefix: number }[] = [];
  private readonly ignore6: { words: Uint32Array; prefix: number }[] = [];

  /** Set only while restore() runs: the clearSeq of each stored target. */
  private restoreClears: Map<string, number> | null = null;

  // Changes since the last takeChanges().
  private newFailures = newColumns();
  private newBans: RecordedBan[] = [];
  private newLifts: Lift[] = [];

  constructor(policy: JailPolicy) {
    checkPolicy(policy);
    this.policy = policy;
    // ignore4/ignore6 decide what is counted: ignored targets and the machine's own addresses.
    for (const t of [...policy.ignore, ...(policy.self ?? [])]) {
      const n = normaliseTarget(t);
      if (n.family === 4) this.ignore4.push({ net: parseIPv4(n.addr), prefix: n.prefix });
      else {
        const words = new Uint32Array(4);
        addressWords(n.addr, 6, words);
        maskWords(words, n.prefix, words);
        this.ignore6.push({ words, prefix: n.prefix });
      }
    }
  }

  /**
   * Rebuilds a jail from what the store kept: same windows, bans, history and counters.
   * `countsForNetwork`: the jail's filter's rule for a stored failure's kind (see
   * CompiledFilter.countsForNetwork); left out, every failure counts for its network.
   */
  static restore(policy: JailPolicy, snap: JailSnapshot, countsForNetwork?: (kind: string) => boolean): Jail {
    return runSteps(Jail.restoreSteps(policy, snap, countsForNetwork));
  }

  /**
   * restore() in steps: yields after every RESTORE_STEP bans or failures, so the caller can let
   * other work run in between (the daemon answers its control socket while 100,000 bans are
   * restored). The jail exists only once the generator is done.
   */
  static *restoreSteps(policy: JailPolicy, snap: JailSnapshot, countsForNetwork?: (kind: string) => boolean): Steps<Jail> {
    const jail = new Jail(policy);
    jail.clock = snap.clock ?? -Infinity;
    jail.seq = snap.seq;
    jail.totalFailed = snap.totalFailed;
    jail.totalBanned = snap.totalBanned;
    const clears = new Map<string, number>();
    let done = 0;
    for (const b of snap.bans) {
      const key = targetKey(b.target);
      if ((clears.get(key) ?? 0) < b.clearSeq) clears.set(key, b.clearSeq);
      jail.remember(key, b.created);
      // A manual lift is a verdict on the target: the bans before it stop counting (see unban).
      if (b.liftReason === 'manual') jail.history.delete(key);
      if (b.active) jail.activate(b);
      if (++done % RESTORE_STEP === 0) yield;
    }
    jail.restoreClears = clears;
    const f = snap.failures;
    const cutoff = jail.clock - policy.findtime;
    for (let i = 0; i < f.seq.length; i++) {
      const time = f.time[i]!;
      const addr = f.address[i]!;
      if (time <= cutoff) continue;
      const family = familyOf(addr);
      addressWords(addr, family, jail.w);
      if (jail.isIgnored(family, jail.w)) continue;
      jail.count(addr, family, time, f.seq[i]!, countsForNetwork === undefined || countsForNetwork(f.kind[i]!), f.kind[i]!);
      if (++done % RESTORE_STEP === 0) yield;
    }
    jail.restoreClears = null;
    return jail;
  }

  get name(): string {
    return this.policy.name;
  }

  /**
   * Counts one failure and decides. Bans whose `until` is at or before the clock are lifted
   * first (collect them with expire()). One failure can give two bans: the address ban comes
   * first, then its network's ban.
   *
   * `wall`: the wall clock when the line was read. It bounds the jail's clock (see
   * wall-clock.ts): a failure dated after it counts at `wall`, and a jail clock more than
   * CLOCK_TOLERANCE_MS ahead of it is set back. The daemon and replay always pass it; leaving it
   * out trusts the line's date entirely (tests that drive time themselves).
   *
   * `line`, `regexIndex`, `regexId`: the matched line and the filter regex that matched it. The
   * jail keeps the lines of its latest failures in memory; a ban made here carries the last
   * TRACE_LINES lines behind it (RecordedBan.matches), which the store keeps with the ban.
   * Left out: nothing traced.
   */
  observe(f: Failure, wall = Infinity, line?: string, regexIndex = -1, regexId = ''): Decision {
    let t = f.time;
    if (t > wall) {
      if (t > wall + CLOCK_TOLERANCE_MS) this.futureDated++;
      t = wall;
    }
    if (this.clock > wall + CLOCK_TOLERANCE_MS) this.setBack(wall);
    if (t > this.clock) this.advance(t);
    const addr = f.ip;
    addressWords(addr, f.family, this.w);
    if (this.isIgnored(f.family, this.w)) return IGNORED;
    // An allowed sender is never counted, so it is never one of a network's distinct addresses.
    if (f.client !== undefined && nameAllowed(this.policy.allowNames ?? [], f.client)) return IGNORED;
    // Late beyond findtime: it would already have left every window.
    if (t <= this.clock - this.policy.findtime) return IGNORED;
    if (this.isBanned(f.family, this.w)) return ALREADY_BANNED;

    const seq = ++this.seq;
    this.totalFailed++;
    const cols = this.newFailures;
    cols.seq.push(seq);
    cols.time.push(t);
    cols.address.push(addr);
    cols.kind.push(f.kind);
    const a = this.count(addr, f.family, t, seq, f.network !== false, f.kind);
    const n = this.lastNet;
    if (line !== undefined) {
      this.traces.put(seq, t, f.kind, regexId, regexIndex, line, this.aLastSeq[a]!, n >= 0 ? this.nLastSeq[n]! : 0);
      this.aLastSeq[a] = seq;
      if (n >= 0) this.nLastSeq[n] = seq;
    }

    let bans: RecordedBan[] | null = null;
    const p = this.policy;
    if (this.aCount[a]! >= p.maxretry) {
      const failures = this.aCount[a]!;
      const kinds = this.kindsOf(this.aKinds[a]!);
      const traces = line === undefined ? undefined : this.traces.chain(seq, this.aClear[a]!, this.clock - p.findtime, TRACE_LINES, false, this.name);
      this.clearAddr(a, seq);
      bans = [this.makeBan(addressTarget(addr, f.family), 'address', failures, this.clock, p.bantime, false, kinds, traces)];
    }
    if (n >= 0) {
      if (
        this.nCount[n]! >= p.subnet.maxretry &&
        this.nDistinct[n]! >= p.subnet.minAddresses
      ) {
        const target = this.netTarget(n);
        // A network that holds an ignored address is never banned: the ban would block it.
        if (!this.touchesIgnore(target)) {
          const failures = this.nCount[n]!;
          const kinds = this.kindsOf(this.nKinds[n]!);
          const traces = line === undefined ? undefined : this.traces.chain(seq, this.nClear[n]!, this.clock - p.findtime, TRACE_LINES, true, this.name);
          this.clearNet(n, seq);
          const ban = this.makeBan(target, 'network', failures, this.clock, p.subnet.bantime, false, kinds, traces);
          if (bans === null) bans = [ban];
          else bans.push(ban);
        }
      }
    }
    return bans === null ? COUNTED : { type: 'ban', bans };
  }

  /**
   * Whether observe() could count this failure: false for an ignored or allowed client and for
   * an address already banned. The daemon asks before it runs a jail's ignore command, so
   * no program starts for an address the jail would not count anyway.
   */
  wouldCount(f: Failure): boolean {
    addressWords(f.ip, f.family, this.w);
    if (this.isIgnored(f.family, this.w)) return false;
    if (f.client !== undefined && nameAllowed(this.policy.allowNames ?? [], f.client)) return false;
    return !this.isBanned(f.family, this.w);
  }

  /**
   * Lifts every ban whose `until` ≤ now (reason "expired", time = its until) and returns
   * them in expiry order, together with bans observe() already lifted as its clock moved.
   */
  expire(now: number): Lift[] {
    const out = this.pendingLifts;
    this.pendingLifts = [];
    this.liftDue(now, out);
    if (out.length > 1) out.sort((x, y) => x.time - y.time);
    return out;
  }

  /** Whether expire(now) has anything to return: lets a caller skip it on the per-failure path. */
  hasExpiries(now: number): boolean {
    if (this.pendingLifts.length > 0) return true;
    const top = this.heap.peek();
    return top !== null && top.ban.until !== null && top.ban.until <= now;
  }

  /** When the next ban ends (ms), or null if none will: arm one timer for it. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const l of this.pendingLifts) if (next === null || l.time < next) next = l.time;
    const top = this.heap.peek();
    if (top !== null && top.ban.until !== null && (next === null || top.ban.until < next)) next = top.ban.until;
    return next;
  }

  /**
   * A manual ban. `duration` undefined: the policy's ban time for that kind of target (the
   * subnet ban time for a network), with the increment rule; null: permanent.
   * Throws PbanError for an ignored target or one already banned.
   */
  ban(target: Target, now: number, duration?: number | null): Ban {
    const t = normaliseTarget(target);
    const key = targetKey(t);
    if (this.touchesIgnore(t)) {
      throw new PbanError('engine.ignoredTarget', `${this.name}: refusing to ban ${key}: it overlaps ignoreip`);
    }
    if (this.active.has(key)) {
      throw new PbanError('engine.alreadyBanned', `${this.name}: ${key} is already banned; unban it first`);
    }
    this.clearTarget(t);
    const isAddress = t.prefix === (t.family === 4 ? 32 : 128);
    if (duration === undefined) {
      return this.makeBan(t, 'manual', 0, now, isAddress ? this.policy.bantime : this.policy.subnet.bantime);
    }
    return this.makeBan(t, 'manual', 0, now, duration, true);
  }

  /**
   * Lifts an active ban now (reason "manual"). Throws PbanError if the target is not banned.
   * A manual lift is the admin's verdict that the ban was wrong: the target's ban history is
   * forgotten, so its next ban starts again at ban number 1 (not doubled by the increment).
   * The store keeps the lift with reason "manual", and restore() forgets the same history.
   */
  unban(target: Target, now: number): Lift {
    const key = targetKey(normaliseTarget(target));
    const ab = this.active.get(key);
    if (ab === undefined) throw new PbanError('engine.notBanned', `${this.name}: ${key} is not banned`);
    return this.lift(ab, 'manual', now);
  }

  /**
   * Lifts every active ban (a flush, or a jail removed from the config). With reason "manual"
   * each target's history is forgotten, as for unban().
   */
  liftAll(reason: LiftReason, now: number): Lift[] {
    const out: Lift[] = [];
    for (const ab of [...this.active.values()]) out.push(this.lift(ab, reason, now));
    return out;
  }

  /** Lifts the active bans `which` selects (reason as for liftAll), oldest first. */
  liftWhere(which: (ban: RecordedBan) => boolean, reason: LiftReason, now: number): Lift[] {
    const out: Lift[] = [];
    for (const ab of [...this.active.values()]) if (which(ab.ban)) out.push(this.lift(ab, reason, now));
    return out;
  }

  activeBans(): RecordedBan[] {
    return [...this.active.values()].map((ab) => ab.ban);
  }

  isTargetBanned(target: Target): boolean {
    return this.active.has(targetKey(normaliseTarget(target)));
  }

  /**
   * The lines of the address's failures still counting in its window (the last TRACE_LINES
   * the jail still has in memory), oldest first.
   */
  linesOf(addr: Address): MatchTrace[] {
    const w = this.w;
    const family = familyOf(addr);
    addressWords(addr, family, w);
    const a = this.addrIndex.find(family, w[0]!, w[1]!, w[2]!, w[3]!);
    if (a < 0 || this.aCount[a] === 0) return [];
    return this.traces.chain(this.aLastSeq[a]!, this.aClear[a]!, this.clock - this.policy.findtime, TRACE_LINES, false, this.name);
  }

  /** Live failures in the window of an address (0 when it has none). */
  failuresOf(addr: Address): number {
    const w = this.w;
    const family = familyOf(addr);
    addressWords(addr, family, w);
    const a = this.addrIndex.find(family, w[0]!, w[1]!, w[2]!, w[3]!);
    return a < 0 ? 0 : this.aCount[a]!;
  }

  /**
   * Every network window that holds failures now, with its counts, and every address window
   * holding at least `minAddressFailures`: what `pban report` compares with the thresholds to show
   * who is near a ban. Reads only; the order is the slots' (callers sort).
   */
  windows(minAddressFailures = 1): { networks: WindowCount[]; addresses: WindowCount[] } {
    const networks: WindowCount[] = [];
    const x = this.netIndex;
    for (let n = 0, seen = 0; seen < x.size && n < this.nRefs.length; n++) {
      if (this.nRefs[n]! <= 0) continue;
      seen++;
      if (this.nCount[n]! > 0) networks.push({ target: this.netTarget(n), failures: this.nCount[n]!, addresses: this.nDistinct[n]! });
    }
    const addresses: WindowCount[] = [];
    const a = this.addrIndex;
    for (let s = 0, seen = 0; seen < a.size && s < this.aRefs.length; s++) {
      if (this.aRefs[s]! <= 0) continue;
      seen++;
      if (this.aCount[s]! < minAddressFailures) continue;
      const family = a.family(s) as Family;
      const addr = (family === 4 ? formatIPv4(a.word(s, 0)) : formatIPv6(wordsToHextets(a.word(s, 0), a.word(s, 1), a.word(s, 2), a.word(s, 3)))) as Address;
      addresses.push({ target: addressTarget(addr, family), failures: this.aCount[s]!, addresses: 1 });
    }
    return { networks, addresses };
  }

  status(): JailStatus {
    return {
      failing: this.failing,
      totalFailed: this.totalFailed,
      bannedAddresses: this.bannedAddrCount,
      bannedNetworks: this.active.size - this.bannedAddrCount,
      totalBanned: this.totalBanned,
      futureDated: this.futureDated,
      clockSetBack: this.clockSetBack,
    };
  }

  /** The jail's clock: newest failure time seen, or null. */
  get now(): number | null {
    return this.clock === -Infinity ? null : this.clock;
  }

  /** Hands over (and forgets) everything changed since the last call, for one store commit. */
  takeChanges(): JailChanges {
    const min = this.queue.minSeq();
    const changes: JailChanges = {
      jail: this.name,
      clock: this.now,
      seq: this.seq,
      totalFailed: this.totalFailed,
      totalBanned: this.totalBanned,
      failures: this.newFailures,
      pruneBelowSeq: min === Infinity ? this.seq + 1 : min,
      bans: this.newBans,
      lifts: this.newLifts,
    };
    this.newFailures = newColumns();
    this.newBans = [];
    this.newLifts = [];
    return changes;
  }

  // ---- windows -------------------------------------------------------------------------

  /** Moves the clock forward: failures at or before clock − findtime leave their windows. */
  private advance(t: number): void {
    this.clock = t;
    this.dropUntil(t - this.policy.findtime);
    const top = this.heap.peek();
    if (top !== null && top.ban.until !== null && top.ban.until <= t) this.liftDue(t, this.pendingLifts);
  }

  /**
   * The wall clock is behind the jail's clock: the system clock was stepped back, or the stored
   * clock is ahead. The clock follows the wall clock back, and every failure leaves its window
   * (their times cannot be compared with the lines to come). Bans and history stay; the store
   * prunes the dropped failures with the next commit (the queue is empty, see takeChanges).
   */
  private setBack(wall: number): void {
    this.clockSetBack++;
    this.dropUntil(Infinity);
    this.clock = wall;
  }

  /** Failures at or before `cutoff` leave their windows for good. */
  private dropUntil(cutoff: number): void {
    const q = this.queue;
    while (q.length > 0 && q.frontTime() <= cutoff) {
      const s = q.frontSeq();
      const a = q.frontAddr();
      const n = q.frontNet();
      q.popFront();
      if (s > this.aClear[a]! && --this.aCount[a]! === 0) this.failing--;
      if (n >= 0) {
        // An entry newer than its network's last clear was counted with the current epoch.
        if (s > this.nClear[n]!) {
          this.nCount[n]!--;
          if (--this.aNetCount[a]! === 0) this.nDistinct[n]!--;
        }
        if (--this.nRefs[n]! === 0) this.freeNet(n);
      }
      if (--this.aRefs[a]! === 0) this.freeAddr(a);
    }
  }

  /**
   * Adds a failure to the queue and to its windows (unless a ban cleared them after it). The
   * address's value must be in this.w. A failure that does not count for its network (`network`
   * false) never enters the network's window, so it is not a distinct address there either.
   */
  private count(addr: string, family: Family, time: number, seq: number, network: boolean, kind: string): number {
    const w = this.w;
    let a = this.addrIndex.find(family, w[0]!, w[1]!, w[2]!, w[3]!);
    if (a < 0) a = this.allocAddr(addr, family);
    let n = -1;
    const sub = this.policy.subnet;
    if (sub.enabled && network) {
      const nw = this.nw;
      maskWords(w, family === 4 ? sub.ipv4Prefix : sub.ipv6Prefix, nw);
      n = this.netIndex.find(family, nw[0]!, nw[1]!, nw[2]!, nw[3]!);
      if (n < 0) n = this.allocNet(family);
    }
    this.lastNet = n;
    this.queue.insert(time, seq, a, n);
    this.aRefs[a]!++;
    const bit = this.kindBit(kind);
    if (seq > this.aClear[a]!) {
      this.aKinds[a]! |= bit;
      if (this.aCount[a]!++ === 0) this.failing++;
    }
    if (n >= 0) {
      this.nRefs[n]!++;
      if (seq > this.nClear[n]!) {
        this.nKinds[n]! |= bit;
        this.nCount[n]!++;
        if (this.aNetEpoch[a] !== this.nClear[n]) {
          this.aNetEpoch[a] = this.nClear[n]!;
          this.aNetCount[a] = 0;
        }
        if (this.aNetCount[a]!++ === 0) this.nDistinct[n]!++;
      }
    }
    return a;
  }

  private clearAddr(a: number, seq: number): void {
    this.aClear[a] = seq;
    if (this.aCount[a]! > 0) this.failing--;
    this.aCount[a] = 0;
    this.aKinds[a] = 0;
  }

  private kindBit(kind: string): number {
    let bit = this.kindBits.get(kind);
    if (bit === undefined) {
      bit = this.kindNames.length < 31 ? 1 << this.kindNames.length : 0;
      if (bit !== 0) this.kindNames.push(kind);
      this.kindBits.set(kind, bit);
    }
    return bit;
  }

  /** The kind names of a slot's bits, in the order the jail first saw them. */
  private kindsOf(bits: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.kindNames.length; i++) if ((bits & (1 << i)) !== 0) out.push(this.kindNames[i]!);
    return out;
  }

  private clearNet(n: number, seq: number): void {
    this.nClear[n] = seq;
    this.nCount[n] = 0;
    this.nDistinct[n] = 0;
    this.nKinds[n] = 0;
  }

  /** A manual ban clears its target's window, if it has one (an address, or a subnet-sized network). */
  private clearTarget(t: Target): void {
    // A Target is masked, so its address is the value its slot is found by.
    const w = this.w;
    addressWords(t.addr, t.family, w);
    if (t.prefix === (t.family === 4 ? 32 : 128)) {
      const a = this.addrIndex.find(t.family, w[0]!, w[1]!, w[2]!, w[3]!);
      if (a >= 0) this.clearAddr(a, this.seq);
      return;
    }
    const sub = this.policy.subnet;
    if (!sub.enabled || t.prefix !== (t.family === 4 ? sub.ipv4Prefix : sub.ipv6Prefix)) return;
    const n = this.netIndex.find(t.family, w[0]!, w[1]!, w[2]!, w[3]!);
    if (n >= 0) this.clearNet(n, this.seq);
  }

  private netTarget(n: number): Target {
    const sub = this.policy.subnet;
    const x = this.netIndex;
    if (x.family(n) === 4) return { addr: formatIPv4(x.word(n, 0)) as Address, prefix: sub.ipv4Prefix, family: 4 };
    const addr = formatIPv6(wordsToHextets(x.word(n, 0), x.word(n, 1), x.word(n, 2), x.word(n, 3)));
    return { addr: addr as Address, prefix: sub.ipv6Prefix, family: 6 };
  }

  /** A slot for the address whose value is in this.w. */
  private allocAddr(addr: string, family: Family): number {
    const w = this.w;
    const a = this.addrIndex.add(family, w[0]!, w[1]!, w[2]!, w[3]!);
    if (a === this.aCount.length) this.growAddr();
    this.aCount[a] = 0;
    this.aRefs[a] = 0;
    this.aNetCount[a] = 0;
    this.aNetEpoch[a] = -1;
    this.aKinds[a] = 0;
    this.aLastSeq[a] = 0;
    this.aClear[a] = this.restoreClears?.get(targetKey(addressTarget(addr as Address, family))) ?? 0;
    return a;
  }

  private freeAddr(a: number): void {
    this.addrIndex.release(a);
  }

  /** A slot for the network whose value is in this.nw. */
  private allocNet(family: Family): number {
    const nw = this.nw;
    const n = this.netIndex.add(family, nw[0]!, nw[1]!, nw[2]!, nw[3]!);
    if (n === this.nCount.length) this.growNet();
    this.nCount[n] = 0;
    this.nDistinct[n] = 0;
    this.nRefs[n] = 0;
    this.nKinds[n] = 0;
    this.nLastSeq[n] = 0;
    this.nClear[n] = this.restoreClears === null ? 0 : (this.restoreClears.get(targetKey(this.netTarget(n))) ?? 0);
    return n;
  }

  private freeNet(n: number): void {
    this.netIndex.release(n);
  }

  private growAddr(): void {
    const cap = this.aCount.length * 2;
    this.aCount = growI32(this.aCount, cap);
    this.aRefs = growI32(this.aRefs, cap);
    this.aClear = growF64(this.aClear, cap);
    this.aNetCount = growI32(this.aNetCount, cap);
    this.aNetEpoch = growF64(this.aNetEpoch, cap);
    this.aKinds = growI32(this.aKinds, cap);
    this.aLastSeq = growF64(this.aLastSeq, cap);
  }

  private growNet(): void {
    const cap = this.nCount.length * 2;
    this.nCount = growI32(this.nCount, cap);
    this.nDistinct = growI32(this.nDistinct, cap);
    this.nRefs = growI32(this.nRefs, cap);
    this.nClear = growF64(this.nClear, cap);
    this.nKinds = growI32(this.nKinds, cap);
    this.nLastSeq = growF64(this.nLastSeq, cap);
  }

  // ---- ignore list and bans --------------------------------------------------------------

  private isIgnored(family: Family, w: Uint32Array): boolean {
    if (family === 4) {
      const v4 = w[0]!;
      for (const ig of this.ignore4) if (maskIPv4(v4, ig.prefix) === ig.net) return true;
      return false;
    }
    for (const ig of this.ignore6) if (maskedEqual(w, ig.prefix, ig.words)) return true;
    return false;
  }

  private touchesIgnore(t: Target): boolean {
    for (const ig of this.policy.ignore) if (overlaps(normaliseTarget(ig), t)) return true;
    return false;
  }

  /** Is the address banned, or inside a banned network, at this moment? */
  private isBanned(family: Family, w: Uint32Array): boolean {
    const prefixes = family === 4 ? this.banPrefixes4 : this.banPrefixes6;
    const m = this.bw;
    for (let i = 0; i < prefixes.length; i++) {
      const prefix = prefixes[i]!;
      maskWords(w, prefix, m);
      if (this.bannedIndex.find(banTag(family, prefix), m[0]!, m[1]!, m[2]!, m[3]!) >= 0) return true;
    }
    return false;
  }

  private makeBan(
    target: Target,
    kind: BanKind,
    failures: number,
    created: number,
    base: number | null,
    exact = false,
    kinds?: readonly string[],
    matches?: readonly MatchTrace[],
  ): RecordedBan {
    const key = targetKey(target);
    const banNumber = this.rememberedSince(key, created) + 1;
    const until = banEnd(created, exact ? base : banDuration(base, banNumber, this.policy.increment));
    const ban: RecordedBan = { target, jail: this.name, kind, created, until, failures, banNumber, clearSeq: this.seq, ...(kinds === undefined ? {} : { kinds }) };
    this.remember(key, created);
    // The active ban holds no lines (100,000 bans would hold a gigabyte); the ban handed to the
    // store and the caller does.
    this.activate(ban);
    const made = matches === undefined ? ban : { ...ban, matches };
    this.newBans.push(made);
    this.totalBanned++;
    return made;
  }

  private activate(ban: RecordedBan): void {
    const t = ban.target;
    const key = targetKey(t);
    const ab: ActiveBan = { ban, key, lifted: false };
    this.active.set(key, ab);
    const bw = this.bw;
    addressWords(t.addr, t.family, bw);
    const tag = banTag(t.family, t.prefix);
    // (A target activated twice replaces its entry in `active`; it stays once in the index.)
    if (this.bannedIndex.find(tag, bw[0]!, bw[1]!, bw[2]!, bw[3]!) < 0) {
      this.bannedIndex.add(tag, bw[0]!, bw[1]!, bw[2]!, bw[3]!);
      const c = this.banPrefixCount.get(tag) ?? 0;
      this.banPrefixCount.set(tag, c + 1);
      if (c === 0) this.bannedPrefixesChanged();
      if (t.prefix === (t.family === 4 ? 32 : 128)) this.bannedAddrCount++;
    }
    if (ban.until !== null) this.heap.push(ab);
  }

  private lift(ab: ActiveBan, reason: LiftReason, time: number): Lift {
    ab.lifted = true;
    const t = ab.ban.target;
    this.active.delete(ab.key);
    const bw = this.bw;
    addressWords(t.addr, t.family, bw);
    const tag = banTag(t.family, t.prefix);
    const s = this.bannedIndex.find(tag, bw[0]!, bw[1]!, bw[2]!, bw[3]!);
    if (s >= 0) {
      this.bannedIndex.release(s);
      const c = this.banPrefixCount.get(tag)! - 1;
      if (c === 0) {
        this.banPrefixCount.delete(tag);
        this.bannedPrefixesChanged();
      } else this.banPrefixCount.set(tag, c);
      if (t.prefix === (t.family === 4 ? 32 : 128)) this.bannedAddrCount--;
    }
    if (reason === 'manual') this.history.delete(ab.key);
    const l: Lift = { ban: ab.ban, reason, time };
    this.newLifts.push(l);
    return l;
  }

  private bannedPrefixesChanged(): void {
    const tags = [...this.banPrefixCount.keys()];
    this.banPrefixes4 = tags.filter((x) => x < 64);
    this.banPrefixes6 = tags.filter((x) => x >= 64).map((x) => x - 64);
  }

  private liftDue(now: number, out: Lift[]): void {
    for (;;) {
      const top = this.heap.peek();
      if (top === null || top.ban.until === null || top.ban.until > now) return;
      this.heap.pop();
      out.push(this.lift(top, 'expired', top.ban.until));
    }
  }

  /** Earlier bans of the target that still count for the increment at `now`. */
  private rememberedSince(key: string, now: number): number {
    const h = this.history.get(key);
    if (h === undefined) return 0;
    const horizon = now - this.policy.increment.remember;
    let drop = 0;
    while (drop < h.length && h[drop]! <= horizon) drop++;
    if (drop > 0) h.splice(0, drop);
    return h.length;
  }

  private remember(key: string, created: number): void {
    const h = this.history.get(key);
    if (h === undefined) this.history.set(key, [created]);
    else {
      let i = h.length;
      while (i > 0 && h[i - 1]! > created) i--;
      h.splice(i, 0, created);
    }
    if (this.history.size >= this.historySweepAt) this.sweepHistory();
  }

  /** Forgets targets whose every ban is older than increment.remember (keeps memory bounded). */
  private sweepHistory(): void {
    const horizon = this.clock - this.policy.increment.remember;
    for (const [key, h] of this.history) {
      if (h[h.length - 1]! <= horizon && !this.active.has(key)) this.history.delete(key);
    }
    this.historySweepAt = Math.max(1024, this.history.size * 2);
  }
}

/** The SlotIndex tag of a banned target: IPv4 prefixes 0..32, IPv6 ones 64..192. */
function banTag(family: Family, prefix: number): number {
  return family === 4 ? prefix : 64 + prefix;
}

function growI32(a: Int32Array<ArrayBuffer>, cap: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

function growF64(a: Float64Array<ArrayBuffer>, cap: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}

function checkPolicy(p: JailPolicy): void {
  // The config loader reports the same problems with their lines; this guards other callers.
  const problem = policyProblems(p)[0];
  if (problem) throw new PbanError('engine.badPolicy', `${p.name}: ${problem.key}: ${problem.message}`);
}
