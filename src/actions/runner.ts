// Runs one action for one jail: keeps the kernel in line with the caller's active bans.
// Operations run one at a time, in the order they were asked for. Bans that arrive while the
// firewall is busy wait together: they join the ban operation waiting at the end of the queue
// and go in with it in one command, so a burst costs a few firewall calls rather than one each
// (unbans likewise). A failed command never loses a ban: the caller's store keeps it, the
// action turns unhealthy, and a repair re-applies every active ban in one batch, with backoff,
// until it succeeds.
import type { Ban, Family, Target } from '../events.js';
import { ActionError, PbanError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { ITEM_PLACEHOLDERS, SET_PLACEHOLDERS, itemOnlyParams, paramsUsedWithoutTarget, type ActionDefinition } from './definition.js';
import { SpawnExecutor, type Executor } from './executor.js';
import { maxPrefix, parseTarget, targetKey } from '../cidr.js';
import { KernelView, planBans, planSync, planUnbans, type Change } from './plan.js';
import { kindOf, parsePorts, Renderer, type Invocation } from './render.js';
import { paramStrings, placeholders, type ParamValue } from './template.js';

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
  readonly logger?: ActionLogger;
  readonly clock?: Clock;
  readonly activeBans: ActiveBansProvider;
  /** Periodic check; default 60 s; 0 turns it off. */
  readonly checkIntervalMs?: number;
  /** Repair backoff: first delay and cap (ms); default 500 ms and 60 s. */
  readonly retryFirstMs?: number;
  readonly retryMaxMs?: number;
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
}

const JAIL_RE = /^[A-Za-z0-9_-]{1,20}$/;

/** Bans (or unbans) waiting at the end of the queue, not started yet: later ones join it. */
interface OpenGroup {
  readonly op: 'ban' | 'unban';
  readonly items: unknown[];
  readonly done: Promise<boolean>;
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
      const flat: unknown[] = paramStrings(v);
      if (flat.some((s) => typeof s !== 'string' || s.includes('\n'))) {
        throw new PbanError('action.invalidParam', `${def.name}: parameter "${k}": expected strings without newlines`);
      }
      for (const s of flat as string[]) {
        for (const name of placeholders(s)) {
          if (!knownParams.has(name) && !(SET_PLACEHOLDERS as readonly string[]).includes(name) && !(ITEM_PLACEHOLDERS as readonly string[]).includes(name)) {
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
    this.name = def.name;
    this.jail = opts.jail;
    this.renderer = new Renderer(def, { jail: opts.jail, ports, protocol, params });
    this.exec = opts.executor ?? new SpawnExecutor();
    this.log = opts.logger ?? SILENT;
    this.clock = opts.clock ?? systemClock;
    this.prefix = opts.commandPrefix ?? [];
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
    };
  }

  /** Creates our table, chain or set and puts every active ban in, in one batch. True on success. */
  start(): Promise<boolean> {
    return this.serial(async () => {
      const ok = await this.syncNow('start');
      this.lastCheck = this.clock.now();
      const every = this.opts.checkIntervalMs ?? 60_000;
      if (every > 0 && !this.checkTimer) {
        this.checkTimer = setInterval(() => {
          this.check().catch((e: unknown) => this.fail(e, 'check'));
        }, every);
        this.checkTimer.unref();
      }
      return ok;
    });
  }

  /**
   * Bans these targets. Never throws for a failed command: see health(). True when the kernel
   * took it. Bans asked for while an earlier ban waits its turn go in with it, in one batch,
   * and share its result.
   */
  ban(bans: readonly Ban[]): Promise<boolean> {
    return this.grouped('ban', bans, async (all) => {
      if (this.state === 'stopped') return false;
      // unhealthy: the repair re-applies every active ban (this one included, the caller has
      // recorded it); try it now rather than wait for the backoff, but at most once a second
      if (this.state === 'unhealthy') return this.repairSoon();
      // In place: a copy of a view of 100,000 bans per call would cost ~100 ms of CPU
      const plan = planBans(this.view, all, this.clock.now(), this.def.maxTimeout, 'inPlace');
      return this.applyChanges(plan.changes, plan.next, 'ban');
    });
  }

  /**
   * Lifts these targets; absent ones are fine. Active bans inside a lifted network go back in.
   * Unbans asked for while an earlier unban waits its turn go with it, as bans do.
   */
  unban(targets: readonly Target[]): Promise<boolean> {
    return this.grouped('unban', targets, async (all) => {
      if (this.state === 'stopped') return false;
      if (this.state === 'unhealthy') return this.repairSoon();
      const liftsNetwork = all.some((t) => t.prefix < maxPrefix(t.family) && this.view.get(targetKey(t)));
      const active = liftsNetwork ? await this.opts.activeBans() : [];
      const plan = planUnbans(this.view, all, active, this.clock.now(), this.def.maxTimeout, 'inPlace');
      return this.applyChanges(plan.changes, plan.next, 'unban');
    });
  }

  /** Is our state still in the kernel? If not, re-create it with every active ban. True when healthy afterwards. */
  check(): Promise<boolean> {
    return this.serial(async () => {
      if (this.state === 'stopped') return false;
      const problem = await this.findProblem().catch((err: unknown) => String(err));
      this.lastCheck = this.clock.now();
      if (problem === null) {
        if (this.state === 'unhealthy') return this.syncNow('repair');
        return true;
      }
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
        return true;
      } catch (e) {
        this.fail(e, 'flush');
        return false;
      }
    });
  }

  /** Removes everything of ours and nothing else. */
  stop(): Promise<void> {
    return this.serial(async () => {
      clearInterval(this.checkTimer);
      clearTimeout(this.retryTimer);
      this.checkTimer = this.retryTimer = undefined;
      try {
        await this.runAll(this.renderer.steps('stop'));
      } catch (e) {
        this.log.error({ event: 'action.failed', action: this.name, jail: this.jail, op: 'stop', err: (e as Error).message }, 'stop failed');
      }
      this.view = new KernelView();
      this.state = 'stopped';
    });
  }

  // ---- internals

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

  private async applyChanges(planned: readonly Change[], next: KernelView, op: string): Promise<boolean> {
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
      const invs = this.def.batch ? this.renderer.batch(rebuild.length > 0 ? ['flush'] : [], changes, now, rebuild) : this.renderer.itemSteps(changes, now);
      await this.runAll(invs);
      this.view = next;
      this.log.debug({ event: `action.${op}`, action: this.name, jail: this.jail, changes: changes.length }, op);
      return true;
    } catch (e) {
      // the view was planned in place (see ban/unban): take back what the kernel did not take
      if (next === this.view) this.view.rollback();
      this.fail(e, op);
      this.lastAttempt = now;
      // "check runs after a failure": a vanished table is repaired at once, anything else with backoff
      const problem = await this.findProblem().catch((err: unknown) => String(err));
      if (problem !== null) await this.syncNow('repair');
      else this.scheduleRetry();
      return false;
    }
  }

  /** Everything active, from scratch, in one batch: start and repair. */
  private async syncNow(reason: 'start' | 'repair'): Promise<boolean> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const now = this.clock.now();
    this.lastAttempt = now;
    try {
      const plan = planSync(await this.opts.activeBans(), now, this.def.maxTimeout);
      const invs = this.def.batch
        ? [...this.renderer.batch(['start', 'flush'], plan.changes, now), ...this.renderer.steps('start')]
        : [...this.renderer.steps('start'), ...this.renderer.itemSteps(plan.changes, now)];
      await this.runAll(invs);
      this.view = plan.next;
      if (this.state === 'unhealthy') {
        this.log.info({ event: 'action.recovered', action: this.name, jail: this.jail, entries: plan.next.size }, 'action healthy again');
      }
      this.state = 'healthy';
      this.failures = 0;
      return true;
    } catch (e) {
      this.fail(e, reason);
      this.scheduleRetry();
      return false;
    }
  }

  private fail(e: unknown, op: string): void {
    this.state = 'unhealthy';
    this.failures++;
    const ae = e instanceof ActionError ? e : undefined;
    this.lastError = { message: (e as Error).message, argv: ae?.argv ?? [], stderr: ae?.stderr ?? '', at: this.clock.now() };
    this.log.error(
      { event: 'action.failed', action: this.name, jail: this.jail, op, argv: ae?.argv, status: ae?.status, stderr: ae?.stderr?.trim(), failures: this.failures },
      `${this.name}: ${op} failed: ${(e as Error).message}`,
    );
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.state === 'stopped') return;
    const first = this.opts.retryFirstMs ?? 500;
    const delay = Math.min(this.opts.retryMaxMs ?? 60_000, first * 2 ** Math.max(0, this.failures - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.serial(() => (this.state === 'stopped' ? Promise.resolve(false) : this.syncNow('repair')));
    }, delay);
    this.retryTimer.unref();
  }

  /** null when our state is in place; otherwise what is missing. */
  private async findProblem(): Promise<string | null> {
    if (this.def.dryRun) return null;
    for (const inv of this.renderer.steps('check')) {
      const r = await this.exec.run([...this.prefix, ...inv.argv]);
      if (r.status !== 0) return `${inv.argv.join(' ')}: exit ${r.status ?? 'signal'}: ${r.stderr.trim().split('\n')[0] ?? ''}`;
      if (inv.expect && !inv.expect.test(r.stdout)) return `${inv.argv.join(' ')}: output does not match ${inv.expect.source}`;
    }
    if (this.def.list && !this.def.dryRun) {
      // every target we put in must still be there (an entry may expire a moment before pban lifts it)
      const soon = this.clock.now() + 2000;
      const present = new Set<string>();
      const pattern = this.def.list.pattern;
      for (const call of this.renderer.listCalls()) {
        const r = await this.exec.run([...this.prefix, ...call.argv]);
        if (r.status !== 0) return `${call.argv.join(' ')}: exit ${r.status ?? 'signal'}: ${r.stderr.trim().split('\n')[0] ?? ''}`;
        for (const m of r.stdout.matchAll(pattern)) {
          const t = parseTarget(m.groups?.['target'] ?? '');
          if (!('error' in t)) present.add(targetKey(t));
        }
      }
      let missing = 0;
      for (const e of this.view.entries()) if ((e.until === null || e.until > soon) && !present.has(e.key)) missing++;
      if (missing > 0) return `${missing} ban(s) missing from the kernel`;
    }
    return null;
  }

  private async runAll(invs: readonly Invocation[]): Promise<void> {
    for (const inv of invs) await this.runOne(inv);
  }

  private async runOne(inv: Invocation): Promise<void> {
    if (this.def.dryRun) {
      this.log.info({ event: 'action.dryRun', action: this.name, jail: this.jail, argv: inv.argv, stdin: inv.stdin }, 'dry run');
      return;
    }
    if (inv.unless) {
      const u = await this.exec.run([...this.prefix, ...inv.unless]);
      if (u.status === 0) return;
    }
    const argv = [...this.prefix, ...inv.argv];
    const r = await this.exec.run(argv, inv.stdin);
    if (r.status === 0) return;
    if (inv.ignoreFailure) {
      this.log.debug({ event: 'action.ignoredFailure', action: this.name, argv, stderr: r.stderr.trim() }, 'ignored failure');
      return;
    }
    throw new ActionError(argv, r.status, r.stderr);
  }
}

