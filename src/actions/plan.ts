// What the kernel should change, decided without touching it. The kernel view holds the targets
// that are in our sets or chains right now. It never holds two targets where one contains the
// other: a target inside a banned network is already blocked, so adding it would change nothing
// (and an nftables interval set refuses overlapping elements anyway).
import type { Ban, Family, Target } from '../events.js';
import { valueKey as keyOf, maskValue, maxPrefix, targetKey, targetValue } from '../cidr.js';
import { runSteps, runStepsPaused, type Steps } from '../steps.js';

export interface KernelEntry {
  readonly key: string;
  readonly target: Target;
  readonly value: bigint;
  /** ms since the epoch; null: no kernel timeout wanted. */
  readonly until: number | null;
  /** When the kernel drops it by itself (ms since the epoch); null: never. Set once added. */
  readonly kernelExpiry: number | null;
}

/** An entry this close to its kernel expiry is left to the kernel: deleting it might fail. */
export const EXPIRY_MARGIN_MS = 500;

export type Change = { readonly op: 'add' | 'delete'; readonly entry: KernelEntry };

/**
 * A KernelEntry whose numeric value is computed when first asked for: only networks and the
 * addresses checked against a banned network of their family need it, and a restart plans
 * 100,000 entries, each BigInt an allocation.
 */
class Entry implements KernelEntry {
  private v: bigint | undefined;
  constructor(
    readonly key: string,
    readonly target: Target,
    readonly until: number | null,
    readonly kernelExpiry: number | null,
  ) {}

  get value(): bigint {
    return (this.v ??= targetValue(this.target));
  }
}

function entryOf(t: Target, until: number | null, now: number, maxTimeout: number | undefined): KernelEntry {
  const timeout = kernelTimeout(until, now, maxTimeout);
  // A Target is masked and canonical (cidr.ts), so its text is the key valueKey would format.
  return new Entry(targetKey(t), t, until, timeout === null ? null : now + timeout * 1000);
}

/** Removes an entry from the view, and from the kernel unless the kernel is about to do it. */
function remove(next: KernelView, e: KernelEntry, now: number, changes: Change[]): void {
  next.delete(e);
  if (e.kernelExpiry === null || e.kernelExpiry > now + EXPIRY_MARGIN_MS) changes.push({ op: 'delete', entry: e });
}

function later(a: number | null, b: number | null): boolean {
  if (a === null) return b !== null;
  return b !== null && a > b;
}

/** The entries of one family and prefix length. */
interface Bucket {
  readonly family: Family;
  readonly prefix: number;
  /**
   * Networks by their (masked) value, so covering() finds one without formatting a key;
   * addresses by their key (nothing looks an address up by value, and a key costs no BigInt).
   */
  readonly entries: Map<NetKey | string, KernelEntry>;
}

/**
 * A network's number at a prefix: the value with its host bits shifted out, as a plain number
 * when it fits. Map keys must not be the masked BigInt itself: V8 hashes a BigInt by its low 64
 * bits, which a masked IPv6 /64 network has all zero, so every such key fell into one hash chain
 * (20,000 /64 keys: 2.2 s for what takes 25 ms with these keys).
 */
type NetKey = number | bigint;
function netKey(value: bigint, family: Family, prefix: number): NetKey {
  const k = value >> BigInt(maxPrefix(family) - prefix);
  return prefix <= 53 ? Number(k) : k;
}

const bucketKey = (e: KernelEntry): NetKey | string =>
  e.target.prefix === maxPrefix(e.target.family) ? e.key : netKey(e.value, e.target.family, e.target.prefix);

export class KernelView {
  /** family * 256 + prefix → bucket: lookups by containment only visit the prefix lengths in use. */
  private readonly buckets = new Map<number, Bucket>();
  /** The same buckets as a list (a loop over it allocates nothing, unlike a Map iterator). */
  private bucketList: Bucket[] = [];
  private readonly all = new Map<string, KernelEntry>();
  /**
   * For inside(): family * 256 + prefix → masked value at that prefix → the entries of that
   * family with a longer prefix. Built at the first inside() for a prefix (one pass), then kept
   * up to date by add() and delete(). Without it every new network ban scanned every address
   * of its family: with 100,000 bans, 50-150 ms per network ban, which stalled a burst.
   */
  private readonly insideIndex = new Map<number, Map<NetKey, Set<KernelEntry>>>();
  /** Changes since track(), oldest first, so rollback() can undo them; null when not tracking. */
  private journal: { readonly added: boolean; readonly entry: KernelEntry }[] | null = null;

  /**
   * Starts recording changes (forgetting any earlier record), for a plan made in place: with
   * 100,000 entries, a clone per ban costs about 100 ms of CPU, a journal only what changes.
   */
  track(): void {
    this.journal = [];
  }

  /** Undoes every change since track() (the kernel refused them) and stops recording. */
  rollback(): void {
    const j = this.journal;
    this.journal = null;
    if (j === null) return;
    for (let i = j.length - 1; i >= 0; i--) {
      const { added, entry } = j[i]!;
      if (added) this.delete(entry);
      else this.add(entry);
    }
  }

  get size(): number {
    return this.all.size;
  }

  entries(): IterableIterator<KernelEntry> {
    return this.all.values();
  }

  get(key: string): KernelEntry | undefined {
    return this.all.get(key);
  }

  add(e: KernelEntry): void {
    const { family, prefix } = e.target;
    const id = family * 256 + prefix;
    let b = this.buckets.get(id);
    if (!b) {
      b = { family, prefix, entries: new Map() };
      this.buckets.set(id, b);
      this.bucketList.push(b);
    }
    b.entries.set(bucketKey(e), e);
    const had = this.all.get(e.key);
    if (had !== undefined) this.unindex(had);
    this.all.set(e.key, e);
    this.index(e);
    if (this.journal !== null) {
      if (had !== undefined) this.journal.push({ added: false, entry: had });
      this.journal.push({ added: true, entry: e });
    }
  }

  delete(e: KernelEntry): void {
    const id = e.target.family * 256 + e.target.prefix;
    const b = this.buckets.get(id);
    if (b) {
      b.entries.delete(bucketKey(e));
      if (b.entries.size === 0) {
        this.buckets.delete(id);
        this.bucketList = this.bucketList.filter((x) => x !== b);
      }
    }
    const had = this.all.get(e.key);
    if (had !== undefined) this.unindex(had);
    if (this.all.delete(e.key) && this.journal !== null) this.journal.push({ added: false, entry: e });
  }

  /** Calls `fn` with each inside() index that `e` belongs to, and `e`'s key in it. */
  private eachIndexOf(e: KernelEntry, fn: (idx: Map<NetKey, Set<KernelEntry>>, k: NetKey) => void): void {
    for (const [id, idx] of this.insideIndex) {
      const fam = id >> 8;
      const prefix = id & 255;
      if (fam === e.target.family && e.target.prefix > prefix) fn(idx, netKey(e.value, fam, prefix));
    }
  }

  private index(e: KernelEntry): void {
    this.eachIndexOf(e, (idx, k) => {
      let set = idx.get(k);
      if (set === undefined) idx.set(k, (set = new Set()));
      set.add(e);
    });
  }

  private unindex(e: KernelEntry): void {
    this.eachIndexOf(e, (idx, k) => {
      const set = idx.get(k);
      if (set === undefined) return;
      set.delete(e);
      if (set.size === 0) idx.delete(k);
    });
  }

  clone(): KernelView {
    const v = new KernelView();
    for (const e of this.all.values()) v.add(e);
    return v;
  }

  /** An entry that strictly contains `e`, if any. */
  covering(e: KernelEntry): KernelEntry | undefined {
    const fam = e.target.family;
    const list = this.bucketList;
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      if (b.family !== fam || b.prefix >= e.target.prefix) continue;
      const hit = b.entries.get(netKey(e.value, fam, b.prefix));
      if (hit) return hit;
    }
    return undefined;
  }

  /** Entries strictly inside `e`. */
  inside(e: KernelEntry): KernelEntry[] {
    const set = this.indexFor(e.target.family, e.target.prefix).get(netKey(e.value, e.target.family, e.target.prefix));
    return set === undefined ? [] : [...set];
  }

  /** The inside() index for networks of this family and prefix, built now if it is not yet. */
  indexFor(fam: Family, prefix: number): Map<NetKey, Set<KernelEntry>> {
    const id = fam * 256 + prefix;
    let idx = this.insideIndex.get(id);
    if (idx !== undefined) return idx;
    idx = new Map();
    for (const b of this.bucketList) {
      if (b.family !== fam || b.prefix <= prefix) continue;
      for (const x of b.entries.values()) {
        const k = netKey(x.value, fam, prefix);
        let set = idx.get(k);
        if (set === undefined) idx.set(k, (set = new Set()));
        set.add(x);
      }
    }
    this.insideIndex.set(id, idx);
    return idx;
  }
}

export interface Plan {
  readonly changes: readonly Change[];
  /** The view once the changes are in the kernel. */
  readonly next: KernelView;
}

/**
 * Removals made between two pauses of planBansInSlices: a network over 30,000 banned addresses
 * (an attacker rotating through one IPv6 /64) replaces them all, about 3 µs each.
 */
const REMOVE_SLICE = 2000;

function addBans(next: KernelView, bans: readonly Ban[], now: number, maxTimeout: number | undefined, changes: Change[]): void {
  runSteps(addBansSteps(next, bans, now, maxTimeout, changes));
}

/** addBans, pausing after every REMOVE_SLICE removals. */
function* addBansSteps(next: KernelView, bans: readonly Ban[], now: number, maxTimeout: number | undefined, changes: Change[]): Steps<void> {
  // one entry per target, the latest end wins; networks first so addresses inside them are seen as covered
  const merged = new Map<string, KernelEntry>();
  for (const b of bans) {
    if (b.until !== null && b.until <= now) continue;
    const e = entryOf(b.target, b.until, now, maxTimeout);
    const had = merged.get(e.key);
    if (!had || later(e.until, had.until)) merged.set(e.key, e);
  }
  // by prefix, in arrival order within one (a stable sort, without a comparison per pair)
  const byPrefix: KernelEntry[][] = [];
  for (const e of merged.values()) (byPrefix[e.target.prefix] ??= []).push(e);
  for (const e of byPrefix.flat()) {
    const existing = next.get(e.key);
    if (existing) {
      if (!later(e.until, existing.until)) continue;
      // a longer ban of the same target: replace it so the kernel timeout grows too
      remove(next, existing, now, changes);
    } else {
      if (next.covering(e)) continue;
      // nothing lies strictly inside a single address
      if (e.target.prefix < maxPrefix(e.target.family)) {
        let n = 0;
        for (const x of next.inside(e)) {
          remove(next, x, now, changes);
          if (++n % REMOVE_SLICE === 0) yield;
        }
      }
    }
    changes.push({ op: 'add', entry: e });
    next.add(e);
  }
}

/**
 * How a plan treats the view it starts from: 'copy' leaves it alone and builds `next` as a new
 * view; 'inPlace' changes it (so `next` is the view itself) and records the changes, so the
 * caller can take them back with view.rollback() if the kernel refuses them. Cost: 'copy' is
 * in proportion to the whole view, 'inPlace' to the changes.
 */
export type PlanMode = 'copy' | 'inPlace';

function startFrom(view: KernelView, mode: PlanMode): KernelView {
  if (mode === 'copy') return view.clone();
  view.track();
  return view;
}

/**
 * planBans in place, giving `pause` a turn after every REMOVE_SLICE removals (the runner passes a
 * turn of the event loop; it holds its queue, so nothing else changes the view meanwhile).
 */
export async function planBansInSlices(view: KernelView, bans: readonly Ban[], now: number, maxTimeout: number | undefined, pause: () => Promise<unknown>): Promise<Plan> {
  const next = startFrom(view, 'inPlace');
  const changes: Change[] = [];
  await runStepsPaused(addBansSteps(next, bans, now, maxTimeout, changes), pause);
  return { changes, next };
}

/** Bans to add: covered targets are skipped, targets inside a new network are replaced by it. */
export function planBans(view: KernelView, bans: readonly Ban[], now: number, maxTimeout?: number, mode: PlanMode = 'copy'): Plan {
  const next = startFrom(view, mode);
  const changes: Change[] = [];
  addBans(next, bans, now, maxTimeout, changes);
  return { changes, next };
}

/**
 * Targets to lift. Lifting a network uncovers the still active bans inside it, which go back
 * in within the same batch. `active` is every ban the caller still holds (the lifted ones may
 * or may not be among them).
 */
export function planUnbans(
  view: KernelView,
  targets: readonly Target[],
  active: readonly Ban[],
  now: number,
  maxTimeout?: number,
  mode: PlanMode = 'copy',
): Plan {
  const next = startFrom(view, mode);
  const changes: Change[] = [];
  const lifted = new Set<string>();
  const networks: KernelEntry[] = [];
  for (const t of targets) {
    const key = keyOf(t.family, targetValue(t), t.prefix);
    lifted.add(key);
    const existing = next.get(key);
    if (!existing) continue;
    remove(next, existing, now, changes);
    if (existing.target.prefix < maxPrefix(existing.target.family)) networks.push(existing);
  }
  if (networks.length > 0) {
    const uncovered = active.filter((b) => {
      const e = entryOf(b.target, b.until, now, maxTimeout);
      if (lifted.has(e.key)) return false;
      return networks.some((n) => n.target.family === e.target.family && n.target.prefix < e.target.prefix &&
        maskValue(e.value, e.target.family, n.target.prefix) === n.value);
    });
    addBans(next, uncovered, now, maxTimeout, changes);
  }
  return { changes, next };
}

/**
 * Everything active, from an empty kernel: used by start and by repair. The same changes as
 * planBans(new KernelView(), ...), found faster: from an empty view nothing is replaced and
 * nothing lies inside a network when it comes (networks come first), so only the covering
 * networks matter, and they are few. The full view is built when `next` is first read: the
 * runner reads it once the batch has gone to the firewall, so with 100,000 bans the firewall
 * program starts ~0.3 s of CPU sooner.
 */
export function planSync(active: readonly Ban[], now: number, maxTimeout?: number): Plan {
  return runSteps(planSyncSteps(active, now, maxTimeout));
}

/** Entries planned between two pauses of a sliced start plan or view build (about 10 ms of work). */
const SYNC_SLICE = 5000;

/**
 * planSync, giving `pause` a turn after every SYNC_SLICE bans, and the view built the same way:
 * with 100,000 bans the plan took 0.3-0.4 s and the view 0.1 s, which `pban status` waited for
 * during a start.
 */
export async function planSyncInSlices(active: readonly Ban[], now: number, maxTimeout: number | undefined, pause: () => Promise<unknown>): Promise<{ readonly changes: readonly Change[]; next(): Promise<KernelView> }> {
  const { changes } = await runStepsPaused(planSyncSteps(active, now, maxTimeout), pause);
  return { changes, next: () => runStepsPaused(viewSteps(changes), pause) };
}

function* planSyncSteps(active: readonly Ban[], now: number, maxTimeout: number | undefined): Steps<Plan> {
  const merged = new Map<string, KernelEntry>();
  let n = 0;
  for (const b of active) {
    if (++n % SYNC_SLICE === 0) yield;
    if (b.until !== null && b.until <= now) continue;
    const e = entryOf(b.target, b.until, now, maxTimeout);
    const had = merged.get(e.key);
    if (!had || later(e.until, had.until)) merged.set(e.key, e);
  }
  const byPrefix: KernelEntry[][] = [];
  for (const e of merged.values()) (byPrefix[e.target.prefix] ??= []).push(e);
  const networks = new KernelView();
  const changes: Change[] = [];
  for (const list of byPrefix) {
    if (list === undefined) continue;
    for (const e of list) {
      if (++n % SYNC_SLICE === 0) yield;
      if (networks.size > 0 && networks.covering(e)) continue;
      if (e.target.prefix < maxPrefix(e.target.family)) networks.add(e);
      changes.push({ op: 'add', entry: e });
    }
  }
  let next: KernelView | undefined;
  return {
    changes,
    get next(): KernelView {
      return (next ??= runSteps(viewSteps(changes)));
    },
  };
}

/** The view that holds the entries these changes add, pausing every SYNC_SLICE entries. */
function* viewSteps(changes: readonly Change[]): Steps<KernelView> {
  const view = new KernelView();
  let n = 0;
  for (const c of changes) {
    view.add(c.entry);
    if (++n % SYNC_SLICE === 0) yield;
  }
  return view;
}

/**
 * Entries whose kernel timeout was capped and runs out within `windowMs`, though the ban goes
 * on: each is deleted and added again with a fresh (capped) timeout, in one batch.
 */
export function planRefresh(view: KernelView, now: number, maxTimeout: number | undefined, windowMs: number): Plan {
  // Found first, the view copied only when there is something to renew: this runs at every
  // check, and a copy of 100,000 entries each time cost the event loop about 100 ms.
  const due: { readonly old: KernelEntry; readonly fresh: KernelEntry }[] = [];
  for (const e of view.entries()) {
    if (e.kernelExpiry === null || e.until === null || e.until <= e.kernelExpiry || e.kernelExpiry > now + windowMs) continue;
    const fresh = entryOf(e.target, e.until, now, maxTimeout);
    if (fresh.kernelExpiry !== null && fresh.kernelExpiry <= e.kernelExpiry) continue;
    due.push({ old: e, fresh });
  }
  if (due.length === 0) return { changes: [], next: view };
  const next = view.clone();
  const changes: Change[] = [];
  for (const { old, fresh } of due) {
    remove(next, old, now, changes);
    changes.push({ op: 'add', entry: fresh });
    next.add(fresh);
  }
  return { changes, next };
}

/**
 * Kernel timeout in whole seconds, or null for none (a permanent ban). Never 0: a ban about to
 * end still gets 1 s. Capped at the backend's longest timeout (nft and ipset refuse longer
 * ones): the kernel then drops the entry before the ban ends, so the runner refreshes it in
 * time, and pban lifts the ban itself when it ends.
 */
export function kernelTimeout(until: number | null, now: number, maxTimeout: number | undefined): number | null {
  if (until === null) return null;
  const s = Math.max(1, Math.ceil((until - now) / 1000));
  return maxTimeout !== undefined && s > maxTimeout ? maxTimeout : s;
}
