// Runs one action for one jail: keeps the kernel in line with the caller's active bans.
// Operations run one at a time, in the order they were asked for. Bans that arrive while the
// firewall is busy wait together: they join the ban operation waiting at the end of the queue
// and go in with it in one command, so a burst costs a few firewall calls rather than one each
// (unbans likewise). A failed command never loses a ban: the caller's store keeps it, the
// action turns unhealthy, and a repair re-applies every active ban in one batch, with backoff,
// until it succeeds. A batch the firewall refuses because of one element is split until that
// element is found: the others go in, the refused one is reported.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Ban, Family, Target } from '../events.js';
import { ActionError, PbanError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { ITEM_PLACEHOLDERS, SET_PLACEHOLDERS, banValueMisuse, itemOnlyParams, paramsUsedWithoutTarget, type ActionDefinition } from './definition.js';
import { BAN_PLACEHOLDERS } from './ban-values.js';
import { SpawnExecutor, type Executor } from './executor.js';
import { maxPrefix, parseTarget, targetKey } from '../cidr.js';
import { KernelView, planBansInSlices, planRefresh, planSyncInSlices, planUnbans, type Change } from './plan.js';
import { kindOf, Renderer, type Invocation } from './render.js';
import { parsePorts } from '../ports.js';
import { paramStrings, placeholders, type ParamValue } from './template.js';
import { acquireLocks, DEFAULT_LOCK_DIR, type HeldLocks } from './lock.js';
import { missingPrograms } from './programs.js';

/** Listed elements parsed between two turns of the event loop in a check (about 5 ms of work). */
const CHECK_SLICE = 2000;

/** The subset of a pino logger we use. */
export interface ActionLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const SILENT: ActionLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Returns the bans of this jail that should be in the kernel now. */
export type ActiveBansProvider = () => readonly Ban[] | Promise<readonly Ban[]>;

export interface ActionOptions {
  readonly jail: string;
  /** Ports to block (numbers or "FROM-TO"); empty or absent: every port. */
  readonly ports?: readonly (number | string)[];
  /** Protocol for the port match; default tcp. */
  readonly protocol?: string;
  /** Overrides of the action's [params]. */
  readonly params?: Readonly<Record<string, ParamValue>>;
  /** Put in front of every command, e.g. ["ip", "netns", "exec", "NAME"]. */
  readonly commandPrefix?: readonly string[];
  readonly executor?: Executor;
  /**
   * The network prefixes this jail bans by itself (its subnet rule): the kernel view indexes them
   * once the start has applied the bans, so the first network ban of an attack finds the
   * addresses inside it at once instead of indexing 100,000 entries then (100+ ms).
   */
  readonly networkPrefixes?: Readonly<Record<Family, number>>;
  readonly logger?: ActionLogger;
  readonly clock?: Clock;
  readonly activeBans: ActiveBansProvider;
  /** Periodic check of the kernel's content; default 30 s; 0 turns it off. */
  readonly checkIntervalMs?: number;
  /** Told of every failed operation (ban, unban, start, check, repair, flush, stop), e.g. for metrics. */
  readonly onFailure?: (op: string, action: string) => void;
  /** Repair backoff: first delay and cap (ms); default 500 ms and 60 s. */
  readonly retryFirstMs?: number;
  readonly retryMaxMs?: number;
  /** Where the per-object lock files go (default /run/pban/locks); null: no locks (a fake executor). */
  readonly lockDir?: string | null;
  /** Everything stop() does, waiting for a running command included, ends within this (ms); default 3 s. */
  readonly stopTimeoutMs?: number;
}

export type ActionState = 'stopped' | 'healthy' | 'unhealthy';

export interface ActionHealth {
  readonly action: string;
  readonly jail: string;
  readonly state: ActionState;
  /** The last failure, kept until a later success. */
  readonly lastError: { readonly message: string; readonly argv: readonly string[]; readonly stderr: string; readonly at: number } | null;
  readonly lastCheck: number | null;
  /** Consecutive failed attempts. */
  readonly failures: number;
  /** Targets we believe are in the kernel (covered ones are not counted). */
  readonly kernelEntries: number;
  /** Bans the firewall refused (each reported when refused); tried again at every repair. */
  readonly refused: number;
}

const JAIL_RE = /^[A-Za-z0-9_-]{1,20}$/;
/**
 * A jail's override of a parameter of an action that writes a script (nft -f, ipset restore,
 * iptables-restore): words, numbers, names, paths and placeholders, nothing that the program
 * could read as syntax (`;` would start another nft command, `#` a comment, quotes a string).
 */
const SAFE_PARAM_RE = /^(?:[A-Za-z0-9_.,:/@+= -]|\{[a-z][a-z0-9_]*\})*$/;
/** Most batches a search for refused elements may run before it gives up (it is not an element then). */
const ISOLATE_BUDGET = 64;

/** Bans (or unbans) waiting at the end of the queue, not started yet: later ones join it. */
interface OpenGroup {
  readonly op: 'ban' | 'unban';
  readonly items: unknown[];
  readonly done: Promise<boolean>;
}

/** A change the firewall would not take, with its reason. */
interface Refusal {
  readonly change: Change;
  readonly error: ActionError;
}

const FAMILIES: readonly Family[] = [4, 6];

/** Bans by target (`192.0.2.7/32`), for the values of ban commands. */
function byTarget(bans: readonly Ban[]): Map<string, Ban> {
  return new Map(bans.map((b) => [`${b.target.addr}/${b.target.prefix}`, b]));
}

export class ActionRunner {
  readonly name: string;
  readonly jail: string;
  private readonly renderer: Renderer;
  private readonly exec: Executor;
  private readonly log: ActionLogger;
  private readonly clock: Clock;
  private readonly prefix: readonly string[];
  private view = new KernelView();
  private state: ActionState = 'stopped';
  private lastError: ActionHealth['lastError'] = null;
  private lastCheck: number | null = null;
  private failures = 0;
  private lastAttempt = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private open: OpenGroup | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  /** Our objects may be gone or wrong: the next ban re-creates everything instead of adding to them. */
  private resync = false;
  /** Adds the firewall refused, by target key: reported, and kept out of the view. */
  private refused = new Map<string, Refusal>();
  private locks: HeldLocks | undefined;
  /** Aborted by stop(): kills running commands, so stop never waits on a hung firewall program. */
  private abort = new AbortController();
  /** stop() was called: no new retry or periodic check. */
  private stopRequested = false;
  /** Operations asked for before stop() are done (or were cut short): nothing more runs. */
  private stopping = false;
  /** Periodic check of the kernel's content (ms); 0: off. A reload may change it (setCheckInterval). */
  private checkIntervalMs: number;
  /** start() ran (and stop() did not since): the periodic check belongs to this runner now. */
  private started = false;

  constructor(readonly def: ActionDefinition, private readonly opts: ActionOptions) {
    if (!JAIL_RE.test(opts.jail)) throw new PbanError('action.invalidJail', `${def.name}: jail name "${opts.jail}" must be 1-20 letters, digits, _ or -`);
    const ports = parsePorts(opts.ports ?? []);
    if ('error' in ports) throw new PbanError('action.invalidPort', `${def.name}: jail ${opts.jail}: ${ports.error}`);
    const protocol = opts.protocol ?? 'tcp';
    if (!/^[a-z0-9]+$/.test(protocol)) throw new PbanError('action.invalidProtocol', `${def.name}: jail ${opts.jail}: invalid protocol "${protocol}"`);
    const params = new Map<string, ParamValue>();
    const knownParams = new Set([...def.params.keys(), ...def.paramsPorts.keys(), ...def.paramsAllPorts.keys()]);
    for (const [k, v] of Object.entries(opts.params ?? {})) {
      if (!knownParams.has(k)) throw new PbanError('action.unknownParam', `${def.name}: unknown parameter "${k}" (expected one of: ${[...knownParams].join(', ')})`);
      const dflt = def.params.get(k) ?? def.paramsPorts.get(k) ?? def.paramsAllPorts.get(k);
      if (Array.isArray(dflt) && typeof v === 'string' && /\s/.test(v.trim())) {
        // one string is one argument: "/usr/bin/logger pban {target}" would name a program with spaces
        throw new PbanError('action.invalidParam', `${def.name}: parameter "${k}" is a list (an argument array): write ${k}=[${v.trim().split(/\s+/).map((w) => JSON.stringify(w)).join(', ')}]`);
      }
      const flat: unknown[] = paramStrings(v);
      if (flat.some((s) => typeof s !== 'string' || s.includes('\n'))) {
        throw new PbanError('action.invalidParam', `${def.name}: parameter "${k}": expected strings without newlines`);
      }
      for (const s of flat as string[]) {
        // argv-only actions pass a value as one argument; a script parses it, so it must be plain
        if (def.batch && !SAFE_PARAM_RE.test(s)) {
          throw new PbanError('action.invalidParam', `${def.name}: parameter "${k}": "${s}" may only hold letters, digits, spaces, _ . , : / @ + = - and {placeholders} (its text goes into ${def.batch.argv[0] ?? 'a'} script)`);
        }
        for (const name of placeholders(s)) {
          if (!knownParams.has(name) && !([...SET_PLACEHOLDERS, ...ITEM_PLACEHOLDERS, ...BAN_PLACEHOLDERS] as readonly string[]).includes(name)) {
            throw new PbanError('action.invalidParam', `${def.name}: parameter "${k}": unknown placeholder {${name}}`);
          }
        }
      }
      params.set(k, v);
    }
    // an override may not make a value depend on the target where the action has no target
    const merged = [def.params, def.paramsPorts, def.paramsAllPorts].map((m) => new Map([...m].map(([k, v]) => [k, params.get(k) ?? v])));
    const withoutTarget = paramsUsedWithoutTarget(def, merged);
    const itemOnly = itemOnlyParams(merged);
    for (const k of [...params.keys(), ...itemOnly]) {
      if (itemOnly.has(k) && withoutTarget.has(k)) throw new PbanError('action.invalidParam', `${def.name}: parameter "${k}": used where there is no target (outside ban and unban), so it cannot depend on one`);
    }
    const misuse = banValueMisuse(def, merged);
    if (misuse !== undefined) throw new PbanError('action.invalidParam', `${def.name}: parameter "${misuse}": uses a ban's values ({failures}, {kinds}, …), which exist only in ban commands, and is used elsewhere`);
    this.name = def.name;
    this.jail = opts.jail;
    this.renderer = new Renderer(def, { jail: opts.jail, ports, protocol, params });
    this.exec = opts.executor ?? new SpawnExecutor();
    this.log = opts.logger ?? SILENT;
    this.clock = opts.clock ?? systemClock;
    this.prefix = opts.commandPrefix ?? [];
    this.checkIntervalMs = opts.checkIntervalMs ?? 30_000;
  }

  health(): ActionHealth {
    return {
      action: this.name,
      jail: this.jail,
      state: this.state,
      lastError: this.lastError,
      lastCheck: this.lastCheck,
      failures: this.failures,
      kernelEntries: this.view.size,
      refused: this.refused.size,
    };
  }

  /** Every program this action starts (before the command prefix): for `pban check`. */
  programs(): string[] {
    return this.def.dryRun ? [] : this.renderer.programs();
  }

  /** One line naming the programs that are missing or not executable, or undefined. */
  missingPrograms(): string | undefined {
    return missingPrograms(`action ${this.name}`, this.programs());
  }

  /**
   * Locks our firewall objects (table, chain, sets) for this process. Throws a PbanError when
   * another pban holds one. start() does it too; a daemon locks every action first, so that a
   * conflict changes nothing at all. Idempotent.
   */
  lock(): void {
    if (this.locks || !this.locking()) return;
    this.locks = acquireLocks(this.opts.lockDir ?? DEFAULT_LOCK_DIR, this.renderer.lockNames(), this.prefix, `${this.name} (jail ${this.jail})`);
  }

  private locking(): boolean {
    return !this.def.dryRun && this.opts.lockDir !== null && this.def.lock.length > 0;
  }

  /** Releases the locks (stop() does it). */
  unlock(): void {
    this.locks?.release();
    this.locks = undefined;
  }

  /** Creates our table, chain or set and puts every active ban in, in one batch. True on success. */
  start(): Promise<boolean> {
    return this.serial(async () => {
      if (this.abort.signal.aborted) this.abort = new AbortController();
      this.stopping = this.stopRequested = false;
      try {
        this.lock();
      } catch (e) {
        this.fail(e, 'start');
        return false;
      }
      const ok = await this.syncNow('start');
      this.lastCheck = this.clock.now();
      this.started = true;
      if (!this.checkTimer) this.armCheck();
      return ok;
    });
  }

  /**
   * A new check interval (a reload that keeps this runner): the periodic check runs at the new
   * one from now on. Before start() or after stop() it is only remembered.
   */
  setCheckInterval(ms: number): void {
    if (ms === this.checkEvery()) return;
    this.checkIntervalMs = ms;
    clearInterval(this.checkTimer);
    this.checkTimer = undefined;
    if (this.started && !this.stopRequested) this.armCheck();
  }

  private armCheck(): void {
    const every = this.checkEvery();
    if (every <= 0) return;
    this.checkTimer = setInterval(() => {
      this.check().catch((e: unknown) => this.fail(e, 'check'));
    }, every);
    this.checkTimer.unref();
  }

  /**
   * Bans these targets. Never throws for a failed command: see health(). True when the kernel
   * took it. Bans asked for while an earlier ban waits its turn go in with it, in one batch,
   * and share its result.
   */
  ban(bans: readonly Ban[]): Promise<boolean> {
    return this.grouped('ban', bans, async (all) => {
      if (this.state === 'stopped' || this.stopping) return false;
      // our objects may be gone: the repair re-applies every active ban (this one included,
      // the caller has recorded it); try it now rather than wait for the backoff, but at most
      // once a second
      if (this.resync) return this.repairSoon();
      // In place: a copy of a view of 100,000 bans per call would cost ~100 ms of CPU
      const plan = await planBansInSlices(this.view, all, this.clock.now(), this.def.maxTimeout, yieldToEventLoop);
      return this.applyChanges(plan.changes, plan.next, 'ban', byTarget(all));
    });
  }

  /**
   * Lifts these targets; absent ones are fine. Active bans inside a lifted network go back in.
   * Unbans asked for while an earlier unban waits its turn go with it, as bans do.
   */
  unban(targets: readonly Target[]): Promise<boolean> {
    return this.grouped('unban', targets, async (all) => {
      if (this.state === 'stopped' || this.stopping) return false;
      for (const t of all) this.refused.delete(targetKey(t));
      if (this.resync) return this.repairSoon();
      const liftsNetwork = all.some((t) => t.prefix < maxPrefix(t.family) && this.view.get(targetKey(t)));
      const active = liftsNetwork ? await this.opts.activeBans() : [];
      const plan = planUnbans(this.view, all, active, this.clock.now(), this.def.maxTimeout, 'inPlace');
      const ok = await this.applyChanges(plan.changes, plan.next, 'unban');
      if (ok && this.refused.size === 0 && this.state === 'unhealthy' && !this.resync) this.recovered();
      return ok;
    });
  }

  /**
   * Is our state still in the kernel, every ban included? If not, re-create it with every
   * active ban. Capped kernel timeouts about to run out are renewed first. True when healthy
   * afterwards.
   */
  check(): Promise<boolean> {
    return this.serial(async () => {
      if (this.state === 'stopped' || this.stopping) return false;
      if (!this.resync) await this.refreshTimeouts();
      const problem = await this.findProblem().catch((err: unknown) => String(err));
      this.lastCheck = this.clock.now();
      if (problem === null) {
        if (this.state === 'unhealthy') return this.syncNow('repair');
        return true;
      }
      // the kernel lacks bans we put there: unprotected until the repair below succeeds
      this.state = 'unhealthy';
      this.lastError = { message: `firewall state missing: ${problem}`, argv: [], stderr: '', at: this.clock.now() };
      this.log.warn({ event: 'action.missing', action: this.name, jail: this.jail, problem }, 'firewall state missing, repairing');
      const ok = await this.syncNow('repair');
      if (ok) this.log.info({ event: 'action.repaired', action: this.name, jail: this.jail, entries: this.view.size }, 'firewall state re-created');
      return ok;
    });
  }

  /** Removes every ban from the kernel, keeping our table, chain or set. */
  flush(): Promise<boolean> {
    return this.serial(async () => {
      try {
        await this.runAll([...this.renderer.batch(['flush'], [], this.clock.now()), ...this.renderer.steps('flush')]);
        this.view = new KernelView();
        this.refused.clear();
        return true;
      } catch (e) {
        this.fail(e, 'flush');
        return false;
      }
    });
  }

  /**
   * Removes everything of ours and nothing else, within stopTimeoutMs whatever the firewall
   * does. What was asked before the stop runs first, for up to half of that time; then a
   * running command is killed and the rest is dropped. Pending retries are dropped at once,
   * and each stop command is killed when the time is up. Releases the locks.
   */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.started = false;
    clearInterval(this.checkTimer);
    clearTimeout(this.retryTimer);
    this.checkTimer = this.retryTimer = undefined;
    const budget = this.opts.stopTimeoutMs ?? 3000;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), budget);
    timer.unref();
    const elapsed = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        t.unref();
        deadline.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    try {
      // everything asked for later finds the action stopping
      const inOrder = this.serial(() => {
        this.stopping = true;
        return Promise.resolve();
      });
      await Promise.race([inOrder, elapsed(budget / 2)]);
      this.stopping = true;
      // still busy: kill what runs (its error path sees `stopping` and returns at once)
      this.abort.abort();
      await Promise.race([inOrder, elapsed(budget / 4)]);
      try {
        // objects we could not lock belong to another pban: leave them alone
        if (this.locks || !this.locking()) await this.runAll(this.renderer.steps('stop'), { signal: deadline.signal, timeoutMs: budget });
      } catch (e) {
        this.log.error({ event: 'action.failed', action: this.name, jail: this.jail, op: 'stop', err: (e as Error).message }, 'stop failed');
      }
    } finally {
      clearTimeout(timer);
      this.view = new KernelView();
      this.refused.clear();
      this.state = 'stopped';
      this.unlock();
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private checkEvery(): number {
    return this.checkIntervalMs;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    // whatever comes next runs after this: a later ban must not join a group queued before it
    this.open = undefined;
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Queues `items` for `run`, or adds them to the same operation already waiting at the end of
   * the queue. The group closes when it starts and when anything else is queued behind it, so
   * operations never change order: a ban never overtakes an unban, nor the reverse.
   */
  private grouped<T>(op: OpenGroup['op'], items: readonly T[], run: (all: readonly T[]) => Promise<boolean>): Promise<boolean> {
    const open = this.open;
    if (open?.op === op) {
      (open.items as T[]).push(...items);
      return open.done;
    }
    const list: T[] = [...items];
    const done = this.serial(() => {
      if (this.open === group) this.open = undefined;
      return run(list);
    });
    const group: OpenGroup = { op, items: list, done };
    this.open = group;
    return done;
  }

  private repairSoon(): Promise<boolean> {
    if (this.clock.now() - this.lastAttempt < 1000) return Promise.resolve(false);
    return this.syncNow('repair');
  }

  /** Renews capped kernel timeouts that run out before the next checks do. */
  private async refreshTimeouts(): Promise<void> {
    if (this.def.maxTimeout === undefined || this.view.size === 0) return;
    const windowMs = Math.max(3 * this.checkEvery(), 3_600_000);
    const plan = planRefresh(this.view, this.clock.now(), this.def.maxTimeout, windowMs);
    if (plan.changes.length > 0) await this.applyChanges(plan.changes, plan.next, 'refresh');
  }

  private async applyChanges(planned: readonly Change[], next: KernelView, op: string, bans?: ReadonlyMap<string, Ban>): Promise<boolean> {
    if (planned.length === 0) return true;
    const now = this.clock.now();
    let changes = planned;
    const rebuild: Family[] = [];
    const limit = this.def.unban.rebuildAbove;
    if (limit !== undefined) {
      for (const fam of [4, 6] as const) {
        const deletes = planned.filter((c) => c.op === 'delete' && c.entry.target.family === fam && kindOf(c.entry.target) === 'network');
        if (deletes.length > limit) rebuild.push(fam);
      }
    }
    if (rebuild.length > 0) {
      // empty the set and add back what stays: far cheaper than many deletes, and still one transaction
      const stays = [...next.entries()].filter((e) => rebuild.includes(e.target.family) && (e.until === null || e.until > now));
      changes = [...planned.filter((c) => !rebuild.includes(c.entry.target.family)), ...stays.map((entry) => ({ op: 'add' as const, entry }))];
    }
    try {
      const refusals = await this.applyIsolated(rebuild.length > 0 ? ['flush'] : [], changes, now, rebuild, [], false, bans);
      this.view = this.without(next, refusals);
      this.noteRefusals(changes, refusals, op);
      this.log.debug({ event: `action.${op}`, action: this.name, jail: this.jail, changes: changes.length }, op);
      return !refusals.some((r) => r.change.op === 'add');
    } catch (e) {
      // the view was planned in place (see ban/unban): take back what the kernel did not take
      if (next === this.view) this.view.rollback();
      if (this.stopping) return false;
      this.fail(e, op);
      this.lastAttempt = now;
      // "check runs after a failure": a vanished table is repaired at once, anything else with backoff
      const problem = await this.findProblem().catch((err: unknown) => String(err));
      if (this.stopping) return false;
      if (problem !== null) await this.syncNow('repair');
      else this.scheduleRetry();
      return false;
    }
  }

  /** Everything active, from scratch, in one batch: start and repair. */
  private async syncNow(reason: 'start' | 'repair'): Promise<boolean> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.stopping) return false;
    const now = this.clock.now();
    this.lastAttempt = now;
    try {
      const active = await this.opts.activeBans();
      // In slices, like the batch's render and the view: with 100,000 bans the three took half
      // a second, and `pban status` waited for them during a start.
      const plan = await planSyncInSlices(active, now, this.def.maxTimeout, yieldToEventLoop);
      // A notification announces a ban once, when it is made: re-applying the active bans
      // (start, reload, repair) takes them into its view without running its ban commands.
      const changes = this.def.norestored ? [] : plan.changes;
      // The bans by target are for per-target commands only (a batch line has no ban values):
      // with 100,000 bans that map costs ~0.1 s of CPU before the batch could start.
      const bans = this.def.batch ? undefined : byTarget(active);
      const refusals = await this.applyIsolated(['start', 'flush'], changes, now, FAMILIES, this.renderer.steps('start'), true, bans);
      this.view = this.without(await plan.next(), refusals);
      for (const fam of FAMILIES) {
        const prefix = this.opts.networkPrefixes?.[fam];
        if (prefix !== undefined && prefix < maxPrefix(fam)) this.view.indexFor(fam, prefix);
      }
      this.refused.clear();
      this.resync = false;
      this.noteRefusals(plan.changes, refusals, reason);
      if (this.refused.size > 0) return false;
      this.recovered();
      return true;
    } catch (e) {
      if (this.stopping) return false;
      this.resync = true;
      this.fail(e, reason);
      this.scheduleRetry();
      return false;
    }
  }

  /**
   * Runs the scripts of `ops` and the changes in one batch (a batch program), or the start
   * steps and each change's commands (an action without one). When the firewall refuses the
   * batch, the ops run alone and the changes are split in halves, again and again, until the
   * ones it refuses are found: every other change goes in. Throws when the failure is not
   * about a change (a missing program, a missing table, a timeout).
   */
  private async applyIsolated(ops: readonly ('start' | 'flush')[], changes: readonly Change[], now: number, scriptFamilies: readonly Family[], runSteps: readonly Invocation[], stepsFirstWithoutBatch: boolean, bans?: ReadonlyMap<string, Ban>): Promise<Refusal[]> {
    if (!this.def.batch) {
      if (stepsFirstWithoutBatch) await this.runAll(runSteps);
      const refusals: Refusal[] = [];
      for (const c of changes) {
        try {
          await this.runAll(this.renderer.itemSteps([c], now, bans));
        } catch (e) {
          if (!this.isRefusal(e)) throw e;
          refusals.push({ change: c, error: e as ActionError });
        }
      }
      // every change failed: the program, not the targets
      if (refusals.length > 0 && refusals.length === changes.length && changes.length > 1) throw refusals[0]!.error;
      if (!stepsFirstWithoutBatch) await this.runAll(runSteps);
      return refusals;
    }
    let refusals: Refusal[] = [];
    try {
      await this.runAll(await this.renderer.batchInSlices(ops, changes, now, scriptFamilies, yieldToEventLoop));
    } catch (e) {
      if (!this.isRefusal(e) || changes.length === 0) throw e;
      // is it our objects rather than a change? then this is not for the elements to answer
      if (ops.length > 0) await this.runAll(this.renderer.batch(ops, [], now, scriptFamilies));
      else if ((await this.findStructureProblem()) !== null) throw e;
      refusals = await this.isolate(changes, e as ActionError, now, { left: ISOLATE_BUDGET });
    }
    await this.runAll(runSteps);
    return refusals;
  }

  /** `list` failed as one batch with `error`: finds the changes that fail on their own. */
  private async isolate(list: readonly Change[], error: ActionError, now: number, budget: { left: number }): Promise<Refusal[]> {
    const first = list[0];
    if (list.length === 1 && first) return [{ change: first, error }];
    const mid = Math.ceil(list.length / 2);
    const out: Refusal[] = [];
    for (const half of [list.slice(0, mid), list.slice(mid)]) {
      if (--budget.left < 0) throw error;
      try {
        await this.runAll(this.renderer.batch([], half, now));
      } catch (e) {
        if (!this.isRefusal(e)) throw e;
        out.push(...(await this.isolate(half, e as ActionError, now, budget)));
      }
    }
    return out;
  }

  /** The program ran and said no: something in its input, perhaps one change. */
  private isRefusal(e: unknown): boolean {
    return e instanceof ActionError && e.status !== null && !this.stopping;
  }

  /** The view without the adds the firewall refused. */
  private without(next: KernelView, refusals: readonly Refusal[]): KernelView {
    for (const r of refusals) if (r.change.op === 'add' && next.get(r.change.entry.key) === r.change.entry) next.delete(r.change.entry);
    return next;
  }

  /** Remembers and reports refused adds; a target that went in is no longer refused. */
  private noteRefusals(changes: readonly Change[], refusals: readonly Refusal[], op: string): void {
    const bad = new Set(refusals.map((r) => r.change));
    for (const c of changes) if (c.op === 'add' && !bad.has(c)) this.refused.delete(c.entry.key);
    for (const r of refusals) {
      const t = `${r.change.entry.target.addr}/${r.change.entry.target.prefix}`;
      const record = { event: 'action.refused', action: this.name, jail: this.jail, op, change: r.change.op, target: t, argv: r.error.argv, status: r.error.status, stderr: r.error.stderr.trim() };
      if (r.change.op === 'delete') {
        // most often the kernel no longer has it (its timeout ran out): nothing is unprotected
        this.log.warn(record, `${this.name}: the firewall refused to lift ${t}; the rest of the batch went in`);
        continue;
      }
      this.refused.set(r.change.entry.key, r);
      this.state = 'unhealthy';
      this.lastError = { message: `${op}: the firewall refused the ban of ${t}: ${r.error.message}`, argv: r.error.argv, stderr: r.error.stderr, at: this.clock.now() };
      this.log.error(record, `${this.name}: the firewall refused the ban of ${t}; the rest of the batch went in`);
    }
  }

  private recovered(): void {
    const was = this.state;
    this.state = 'healthy';
    this.failures = 0;
    if (was === 'unhealthy') this.log.info({ event: 'action.recovered', action: this.name, jail: this.jail, entries: this.view.size }, 'action healthy again');
  }

  private fail(e: unknown, op: string): void {
    this.state = 'unhealthy';
    this.failures++;
    this.opts.onFailure?.(op, this.name);
    const ae = e instanceof ActionError ? e : undefined;
    this.lastError = { message: (e as Error).message, argv: ae?.argv ?? [], stderr: ae?.stderr ?? '', at: this.clock.now() };
    this.log.error(
      { event: 'action.failed', action: this.name, jail: this.jail, op, argv: ae?.argv, status: ae?.status, stderr: ae?.stderr?.trim(), failures: this.failures },
      `${this.name}: ${op} failed: ${(e as Error).message}`,
    );
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.state === 'stopped' || this.stopping || this.stopRequested) return;
    const first = this.opts.retryFirstMs ?? 500;
    const delay = Math.min(this.opts.retryMaxMs ?? 60_000, first * 2 ** Math.max(0, this.failures - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.serial(() => (this.state === 'stopped' || this.stopping ? Promise.resolve(false) : this.syncNow('repair')));
    }, delay);
    this.retryTimer.unref();
  }

  /** null when our objects are in place (the check commands pass); otherwise what is wrong. */
  private async findStructureProblem(): Promise<string | null> {
    if (this.def.dryRun) return null;
    for (const inv of this.renderer.steps('check')) {
      const r = await this.exec.run([...this.prefix, ...inv.argv], undefined, { signal: this.abort.signal });
      if (r.status !== 0) return `${inv.argv.join(' ')}: exit ${r.status ?? 'signal'}: ${r.stderr.trim().split('\n')[0] ?? ''}`;
      if (inv.expect && !inv.expect.test(r.stdout)) return `${inv.argv.join(' ')}: output does not match ${inv.expect.source}`;
    }
    return null;
  }

  /** null when our state is in place, every ban included; otherwise what is missing. */
  private async findProblem(): Promise<string | null> {
    if (this.def.dryRun) return null;
    const structure = await this.findStructureProblem();
    if (structure !== null) return structure;
    if (this.def.list) {
      // every target we put in must still be there (an entry may expire a moment before pban lifts it)
      const soon = this.clock.now() + 2000;
      const present = new Set<string>();
      const pattern = this.def.list.pattern;
      for (const call of this.renderer.listCalls()) {
        const r = await this.exec.run([...this.prefix, ...call.argv], undefined, { signal: this.abort.signal });
        if (r.status !== 0) return `${call.argv.join(' ')}: exit ${r.status ?? 'signal'}: ${r.stderr.trim().split('\n')[0] ?? ''}`;
        // In slices: 100,000 elements take 250-450 ms to parse, which stalled the daemon (its
        // control socket included) at every check. The check holds the runner's queue, so the
        // view cannot change in between.
        let n = 0;
        for (const m of r.stdout.matchAll(pattern)) {
          const t = parseTarget(m.groups?.['target'] ?? '');
          if (!('error' in t)) present.add(targetKey(t));
          if (++n % CHECK_SLICE === 0) await yieldToEventLoop();
        }
      }
      let missing = 0;
      let n = 0;
      for (const e of this.view.entries()) {
        if ((e.until === null || e.until > soon) && !present.has(e.key)) missing++;
        if (++n % (CHECK_SLICE * 10) === 0) await yieldToEventLoop();
      }
      if (missing > 0) return `${missing} ban(s) missing from the kernel`;
    }
    if (this.refused.size > 0) {
      const [first] = this.refused.values();
      return `${this.refused.size} ban(s) refused by the firewall (${first?.change.entry.target.addr}/${first?.change.entry.target.prefix}: ${first?.error.stderr.trim().split('\n')[0] ?? ''})`;
    }
    return null;
  }

  private async runAll(invs: readonly Invocation[], opts?: { signal: AbortSignal; timeoutMs: number }): Promise<void> {
    for (const inv of invs) await this.runOne(inv, opts);
  }

  private async runOne(inv: Invocation, opts: { signal: AbortSignal; timeoutMs?: number } = { signal: this.abort.signal }): Promise<void> {
    if (this.def.dryRun) {
      this.log.info({ event: 'action.dryRun', action: this.name, jail: this.jail, argv: inv.argv, stdin: inv.stdin }, 'dry run');
      return;
    }
    if (inv.unless) {
      const u = await this.exec.run([...this.prefix, ...inv.unless], undefined, opts);
      if (u.status === 0) return;
    }
    const argv = [...this.prefix, ...inv.argv];
    const r = await this.exec.run(argv, inv.stdin, opts);
    if (r.status === 0) return;
    if (inv.ignoreFailure) {
      this.log.debug({ event: 'action.ignoredFailure', action: this.name, argv, stderr: r.stderr.trim() }, 'ignored failure');
      return;
    }
    throw new ActionError(argv, r.status, r.stderr);
  }
}
