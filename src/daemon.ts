// The composition root: the one file that builds every stage and connects them.
//
//   FileSource / JournalSource ──batch──▶ filter.match ──Failure──▶ Jail.observe ──bans──▶ store.commit ──▶ actions
//                                                                   ▲
//   ExpiryTimer ──due──▶ Jail.expire ──lifts─────────────────────────┘
//
// Every batch of lines is committed with its source position in one transaction, and only then
// do the actions run: a crash re-reads exactly the uncommitted lines and loses no ban.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { Ban, ExplainedBan, LogLine, MatchTrace, SourcePosition, Target } from './events.js';
import { targetToString } from './events.js';
import { banLines } from './why/lines.js';
import { coveringBans } from './why/covering.js';
import { systemClock, type Clock } from './clock.js';
import type { Logger } from './log.js';
import { ControlError } from './errors.js';
import { VERSION } from './version.js';
import type { JailConfig, PbanConfig } from './config/index.js';
import type { CompiledFilter, MatchResult } from './filters/index.js';
import { ClockNoticeThrottle, Jail, type Lift } from './engine/index.js';
import { openStateStore, type Store } from './store/index.js';
import { StoreGuard, StoreUnavailableError } from './store-guard.js';
import { lockStateDir, type InstanceLock } from './store/instance-lock.js';
import { FileSource, JournalSource, type JournalStart } from './sources/index.js';
import { Pace } from './sources/pace.js';
import { runStepsPaused, type Steps } from './steps.js';
import type { ActionLogger, ActionRunner } from './actions/index.js';
import { Launcher } from './actions/launcher.js';
import type { IgnoreCommand } from './ignore/command-runner.js';
import { buildActions, buildRuntime, type BuildDeps, type JailParts, type Runtime } from './runtime.js';
import { banAsFailure, BANS_SOURCE, countsAsRecidive } from './recidive.js';
import { firewallOf, keptWhenJailRemoved, parseJailFirewall, RETIRED_FILTER, retiredJailConfig, retiredPolicy } from './retired-jails.js';
import { ExpiryTimer } from './scheduler/expiry-timer.js';
import { startControlServer, type ControlServer } from './control/server.js';
import type { ControlHandlers, JailStatusData, UnbanSelector, WhyData } from './control/handlers.js';
import type { DaemonState, DaemonStatus, ReloadReply, VersionReply } from './control/types.js';
import { banToEntry } from './control/ban-json.js';
import { PROTOCOL_VERSION } from './control/protocol.js';
import { DaemonMetrics } from './metrics/index.js';

export interface DaemonOptions {
  readonly configFile: string;
  /** The runtime already built from configFile by prepareDaemon (it is built again only on reload). */
  readonly prepared?: PreparedDaemon;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Put in front of every firewall command (tests: ["ip", "netns", "exec", NS]). */
  readonly commandPrefix?: readonly string[];
  /** Where a file with no stored position starts; default: the end (only new lines). */
  readonly startAt?: 'beginning' | 'end';
  /** Start with no state when the database pban had is missing, empty or not its own (--fresh-state). */
  readonly freshState?: boolean;
  /**
   * Aborted: the daemon stops (SIGTERM, SIGINT). During the start too: the start ends at its
   * next step, and a firewall command that hangs is killed, not waited for.
   */
  readonly signal?: AbortSignal;
}

/**
 * What action runners reach at run time: the daemon's logger and its jails' active bans. Bound
 * late, so a runtime can be built (and its config read for the log level) before the daemon
 * exists, and a runner kept across a reload sees the jail that replaced its old one.
 */
class Binding implements ActionLogger {
  logger: ActionLogger | undefined;
  daemon: Daemon | undefined;
  debug(obj: object, msg: string): void { this.logger?.debug(obj, msg); }
  info(obj: object, msg: string): void { this.logger?.info(obj, msg); }
  warn(obj: object, msg: string): void { this.logger?.warn(obj, msg); }
  error(obj: object, msg: string): void { this.logger?.error(obj, msg); }
}

/** A config built into a runtime, ready for Daemon.start. */
export interface PreparedDaemon {
  readonly runtime: Runtime;
  readonly binding: Binding;
  readonly deps: BuildDeps;
  /** Runs the commands of every action (actions/launcher.ts); forked at the first command. */
  readonly launcher: Launcher;
}

/**
 * Builds the runtime of a config file with everything the daemon will use (`pban check` and
 * `pban start` both call this, so they accept exactly the same configs). Starts nothing.
 */
export function prepareDaemon(configFile: string, opts: { clock?: Clock; commandPrefix?: readonly string[] } = {}): PreparedDaemon {
  const binding = new Binding();
  const launcher = new Launcher();
  const deps: BuildDeps = {
    logger: binding,
    executor: launcher,
    clock: opts.clock,
    commandPrefix: opts.commandPrefix,
    activeBans: (jail) => binding.daemon?.activeBansOf(jail) ?? [],
    onActionFailure: (jail, action, op) => binding.daemon?.actionFailed(jail, action, op),
  };
  return { runtime: buildRuntime(configFile, deps), binding, deps, launcher };
}

interface JailRuntime {
  readonly cfg: JailConfig;
  readonly filter: CompiledFilter;
  /** Replaced by a rebuild from the store when a commit fails (see store-guard.ts). */
  jail: Jail;
  readonly actions: readonly ActionRunner[];
  /** The jail's `ignorecommand`, asked before its failures count; null when it has none. */
  readonly ignorer: IgnoreCommand | null;
  /** Future-dated lines and clock steps are logged at most once a minute per jail. */
  readonly clockNotice: ClockNoticeThrottle;
  /** No longer in the config: holds its manual and permanent bans only (see retired-jails.ts). */
  readonly retired?: boolean;
}

/** What onBatch needs of a batch, from a file or from the journal. */
interface SourceBatch {
  readonly lines: readonly LogLine[];
  readonly position: SourcePosition;
}

interface SourceRuntime {
  /** A logpath pattern, or `journal:DIR MATCH…` for a journal source. */
  readonly pattern: string;
  readonly source: FileSource | JournalSource;
  /** Sizes a file source's batches by time; a journal source's batches are its pipe's chunks. */
  readonly pace: Pace | null;
  readonly abort: AbortController;
  jails: JailRuntime[];
  /** The last error while following, until the next batch arrives. */
  failure: { readonly message: string; readonly at: number } | null;
  done: Promise<void>;
}

/** A batch this long was cut by the source's limit: more lines are probably waiting. */
function batchLines(rt: SourceRuntime): number {
  return rt.source instanceof FileSource ? rt.source.batchLines : Infinity;
}

/** Ends a start that a stop has overtaken (see Daemon.start); never seen outside it. */
class StartInterrupted extends Error {}

/** Whether two configs of a jail drive the firewall the same way (so its runners can stay). */
function sameFirewall(a: JailConfig, b: JailConfig): boolean {
  return JSON.stringify([a.actions, a.ports, a.protocol]) === JSON.stringify([b.actions, b.ports, b.protocol]);
}

const RATE_WINDOW_MS = 60_000;
/** How long a stop waits for the actions to remove their firewall state (stop must end in 5 s). */
const STOP_ACTIONS_BUDGET_MS = 3_000;
/** While a backlog is worked off, firewall changes go to the actions at most this often. */
const BACKLOG_HANDOVER_MS = 250;
/** A batch that arrives this soon after the previous one's turn ended did not wait for new lines. */
const BACK_TO_BACK_MS = 2;
/** Match results of a batch computed before onBatch, by jail index of the source's jails, by line. */
type PreMatched = readonly (readonly MatchResult[] | undefined)[];

/** Lifted bans older than `remember` are deleted this often (and at start). */
const HISTORY_PRUNE_MS = 3_600_000;
/**
 * At start the jails load once the firewall has their bans, or after this long: a firewall
 * command that hangs (until its 30 s timeout) must not keep the jails out of `pban status`.
 */
const REAPPLY_FIRST_MS = 3_000;

export class Daemon implements ControlHandlers {
  private config: PbanConfig;
  private readonly store: Store;
  private readonly guard: StoreGuard;
  private jails = new Map<string, JailRuntime>();
  private sources: SourceRuntime[] = [];
  /** Firewall changes decided and committed, not yet handed to the actions (see handOver). */
  private held: { j: JailRuntime; op: 'ban' | 'unban'; items: (Ban | Target)[] }[] = [];
  private heldTimer: NodeJS.Timeout | undefined;
  private lastHandOver = -Infinity;
  /** At start, a jail's stored active bans until the jail itself is restored (for its actions). */
  private readonly restoring = new Map<string, readonly Ban[]>();
  private readonly timer: ExpiryTimer;
  private readonly prepared: PreparedDaemon;
  /** Mutating control requests (ban, unban, reload, stop) run one at a time, in arrival order. */
  private serial: Promise<unknown> = Promise.resolve();
  private control: ControlServer | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: DaemonMetrics;
  private readonly startedAt: number;
  private linesRead = 0;
  private rateSamples: { at: number; lines: number }[] = [];
  private stopping: Promise<void> | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private resolveStopped!: () => void;
  /** Resolves once the daemon has stopped (SIGTERM, `pban stop`). */
  readonly stopped: Promise<void>;
  /** What `pban status` reports; "starting" until every jail is restored and its bans re-applied. */
  private state: DaemonState = 'starting';
  private markStarted!: () => void;
  /** Resolves once start() is done: control requests that need the jails wait for it. */
  private readonly started: Promise<void>;

  private constructor(
    private readonly opts: DaemonOptions,
    prepared: PreparedDaemon,
    store: Store,
    private readonly lock: InstanceLock,
  ) {
    this.prepared = prepared;
    this.config = prepared.runtime.config;
    this.store = store;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    this.startedAt = this.clock.now();
    this.guard = new StoreGuard(store, { logger: this.log, clock: this.clock });
    this.timer = new ExpiryTimer(this.clock, (now) => this.expireDue(now));
    // The metrics read the jails only when scraped.
    this.metrics = new DaemonMetrics({ clock: this.clock, logger: this.log, view: { jails: () => [...this.jails.values()].map((j) => ({
      name: j.cfg.name, ...j.jail.status(), actions: j.actions.map((a) => ({ name: a.name, healthy: a.health().state === 'healthy' })),
    })) } });
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.started = new Promise((resolve) => (this.markStarted = resolve));
    prepared.binding.logger = this.log;
    prepared.binding.daemon = this;
  }

  /** A firewall command failed (for the metrics). */
  actionFailed(jail: string, action: string, op: string): void {
    this.metrics.actionFailed(jail, action, op);
  }

  /** The active bans of a jail, for its action runners (start, check, repair). */
  activeBansOf(jail: string): readonly Ban[] {
    // At start, the stored bans while the jail itself is still being restored.
    return this.jails.get(jail)?.jail.activeBans() ?? this.restoring.get(jail) ?? [];
  }

  /** Runs fn after every mutating request before it has finished. */
  private exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn);
    this.serial = run.catch(() => undefined);
    return run;
  }

  /** Loads the config, restores state, re-applies active bans, then starts following the logs. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const prepared = opts.prepared ?? prepareDaemon(opts.configFile, { clock: opts.clock, commandPrefix: opts.commandPrefix });
    const config = prepared.runtime.config;
    const clock = opts.clock ?? systemClock;
    mkdirSync(path.dirname(config.pban.database), { recursive: true, mode: 0o700 });
    // Before the store is opened or any firewall object touched: a second daemon changes nothing.
    const lock = lockStateDir(config.pban.database);
    let store: Store;
    try {
      // Refuses a database that is not the state pban had, unless told to start fresh.
      const opened = openStateStore(config.pban.database, { fresh: opts.freshState, now: clock.now() });
      for (const n of opened.notes) opts.logger[n.level](n.detail, n.event);
      store = opened.store;
    } catch (err) {
      lock.release();
      throw err;
    }
    const d = new Daemon(opts, prepared, store, lock);
    // A stop during the start (SIGTERM, `pban stop`) does not wait for it: it stops every action
    // (killing a hung firewall command), and the start ends at its next step.
    const onAbort = (): void => void d.stop();
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    void d.stopped.then(() => opts.signal?.removeEventListener('abort', onAbort));
    const step = async <T>(p: Promise<T>): Promise<T> => {
      const v = await p;
      if (d.stopping) throw new StartInterrupted();
      return v;
    };
    try {
      d.guard.start();
      // Bound first: a busy port stops the start before any firewall change.
      await step(d.metrics.serve(config.pban.metrics));
      // Every firewall object is locked before any is touched: a second pban changes nothing.
      for (const parts of prepared.runtime.jails.values()) for (const a of parts.actions) a.lock();
      // The socket first: with 100,000 bans, loading them and re-applying them takes seconds, and
      // `pban status` answers meanwhile (state "starting"); requests that need the jails wait.
      d.control = await startControlServer({
        socketPath: config.pban.socket,
        handlers: d,
        onError: (err, cmd) => d.log.error({ err, cmd }, 'control.handlerFailed'),
      });
      if (d.stopping) throw new StartInterrupted();
      // Up now, and still small: its start-up overlaps loading the bans it will be asked to apply.
      prepared.launcher.warm();
      // The firewall first: each jail's stored active bans are re-applied from a narrow read (one
      // jail's nft runs while the next one's bans are read), and only then do the jails' history
      // and windows load (or after REAPPLY_FIRST_MS). Loaded alongside, they slowed the re-apply
      // of 100,000 bans by a third on two cores; and no new ban can be decided before the jails
      // are built anyway.
      const applied: Promise<void>[] = [];
      for (const parts of prepared.runtime.jails.values()) applied.push((await step(d.reapplyAtStart(parts))).applied);
      const grace = new AbortController();
      await step(Promise.race([Promise.all(applied), sleep(REAPPLY_FIRST_MS, undefined, { signal: grace.signal, ref: false }).catch(() => undefined)]));
      grace.abort();
      for (const parts of prepared.runtime.jails.values()) d.jails.set(parts.cfg.name, await step(d.restoreAtStart(parts)));
      d.saveFirewalls(prepared.runtime);
      applied.push(...(await step(d.restoreRetired(prepared.runtime))));
      // Bans that ended while pban was down are lifted (they were not re-applied either).
      d.expireDue(d.clock.now());
      d.pruneHistory();
      d.pruneTimer = setInterval(() => d.pruneHistory(), HISTORY_PRUNE_MS);
      d.pruneTimer.unref();
      await step(Promise.all(applied));
      d.seedBansJails();
      d.startSources();
      // Where each file starts is fixed before we say we are up: no line written after is missed.
      await step(Promise.all(d.sources.map((s) => s.source.ready)));
      d.rearm();
      d.state = 'running';
      d.markStarted();
      d.log.info({ version: VERSION, config: opts.configFile, jails: [...d.jails.keys()], database: config.pban.database, socket: config.pban.socket }, 'daemon.started');
      return d;
    } catch (err) {
      // The stop asked for during the start: whatever failed after it was its doing.
      if (d.stopping !== undefined) {
        await d.stopping;
        // Opened by the start after the stop had closed them (a stop at the very beginning).
        await d.control?.close();
        await d.metrics.close();
        return d;
      }
      await d.shutdown(false).catch(() => undefined);
      throw err;
    }
  }

  /** A jail's windows and bans come from the store, so start and reload rebuild the same state. */
  private restoreJail(parts: JailParts, keepActions?: readonly ActionRunner[]): JailRuntime {
    const { cfg, filter } = parts;
    const snap = this.store.loadJail(cfg.name, { findtime: cfg.policy.findtime, remember: cfg.policy.increment.remember });
    const jail = Jail.restore(cfg.policy, snap, filter.countsForNetwork);
    return { cfg, filter, jail, actions: keepActions ?? parts.actions, ignorer: parts.ignorer, clockNotice: new ClockNoticeThrottle() };
  }

  /**
   * At start, before the jail is built: its actions re-apply its stored active bans. Returns
   * once the bans are read; `applied` resolves once the actions have started.
   */
  private async reapplyAtStart(parts: JailParts): Promise<{ applied: Promise<void> }> {
    const { cfg, actions } = parts;
    // Ended bans are dropped by the actions' own plan, and lifted by expireDue() once the jail exists.
    this.restoring.set(cfg.name, await this.inTurns(this.store.activeBanSteps(cfg.name)));
    return { applied: this.startActions({ cfg, actions }) };
  }

  /** Start work, a turn of the event loop between two steps; a stop meanwhile ends the start. */
  private async inTurns<T>(steps: Steps<T>): Promise<T> {
    const stopped = (): void => {
      if (this.stopping !== undefined) throw new StartInterrupted();
    };
    stopped();
    return runStepsPaused(steps, async () => {
      await yieldToEventLoop();
      stopped();
    });
  }

  /** restoreJail() for start, in slices with the event loop free in between. */
  private async restoreAtStart(parts: JailParts): Promise<JailRuntime> {
    const { cfg, filter, actions } = parts;
    const snap = await this.inTurns(this.store.loadJailSteps(cfg.name, { findtime: cfg.policy.findtime, remember: cfg.policy.increment.remember }));
    const jail = await this.inTurns(Jail.restoreSteps(cfg.policy, snap, filter.countsForNetwork));
    this.restoring.delete(cfg.name);
    return { cfg, filter, jail, actions, ignorer: parts.ignorer, clockNotice: new ClockNoticeThrottle() };
  }

  /** Records each jail's firewall, so a jail later removed keeps its bans with the same one. */
  private saveFirewalls(runtime: Runtime): void {
    for (const [name, parts] of runtime.jails) {
      try {
        this.store.saveJailFirewall(name, JSON.stringify(firewallOf(parts.cfg)));
      } catch (err) {
        this.log.error({ err, jail: name }, 'store.firewallNotSaved');
      }
    }
  }

  /**
   * At start: the jails the store has and the config does not (see retired-jails.ts). Their
   * automatic bans with an end are lifted; their manual and permanent bans are kept in force
   * by a retired jail with the firewall it had. Returns the retired jails' action starts.
   */
  private async restoreRetired(runtime: Runtime): Promise<Promise<void>[]> {
    const applied: Promise<void>[] = [];
    for (const name of this.store.jails()) {
      if (runtime.jails.has(name) || this.store.activeBans(name).length === 0) continue;
      const policy = retiredPolicy(name);
      const snap = this.store.loadJail(name, { findtime: policy.findtime, remember: policy.increment.remember });
      const jail = Jail.restore(policy, snap);
      const now = this.clock.now();
      const lifts = jail.liftWhere((b) => !keptWhenJailRemoved(b), 'jail-removed', now);
      const kept = jail.activeBans();
      let fw = parseJailFirewall(this.store.jailFirewall(name));
      if (fw === null) {
        // A store from an older pban: the first jail's actions, on every port (stricter, never looser).
        const first = [...runtime.jails.values()][0];
        fw = first === undefined ? null : { ...firewallOf(first.cfg), ports: 'all' };
      }
      const cfg = retiredJailConfig(name, fw ?? { actions: [], ports: 'all', protocol: 'tcp' }, policy);
      let actions: ActionRunner[] = [];
      if (kept.length > 0 && fw !== null) {
        const built = buildActions(cfg, runtime.config.pban, this.prepared.deps);
        if ('problem' in built) this.log.error({ jail: name, problem: built.problem.message }, 'jail.retiredUnenforced');
        else actions = built;
      }
      const rt: JailRuntime = { cfg, filter: RETIRED_FILTER, jail, actions, ignorer: null, clockNotice: new ClockNoticeThrottle(), retired: true };
      for (const l of lifts) this.metrics.lifted(l.ban, l.reason);
      this.guard.commit([rt]);
      if (lifts.length > 0) this.log.info({ jail: name, lifted: lifts.length }, 'jail.removed');
      if (kept.length === 0) continue;
      this.warnRetired(name, kept);
      for (const a of actions) a.lock();
      this.jails.set(name, rt);
      applied.push(this.startActions(rt));
    }
    return applied;
  }

  private warnRetired(name: string, kept: readonly Ban[]): void {
    this.log.warn(
      {
        jail: name,
        kept: kept.map((b) => ({ target: targetToString(b.target), kind: b.kind, until: b.until === null ? null : new Date(b.until).toISOString() })),
        note: `not in the config: its manual and permanent bans stay in force; lift them with \`pban unban --all --jail ${name}\` or \`pban reload --lift-removed\``,
      },
      'jail.retired',
    );
  }

  /** Retired jails whose last ban is gone are dropped, and their firewall objects removed. */
  private async dropEmptyRetired(): Promise<void> {
    for (const [name, j] of [...this.jails]) {
      if (!j.retired || j.jail.activeBans().length > 0) continue;
      this.jails.delete(name);
      for (const a of j.actions) await a.stop();
      this.log.info({ jail: name }, 'jail.retiredEmpty');
    }
  }

  private async startActions(j: Pick<JailRuntime, 'cfg' | 'actions'>): Promise<void> {
    for (const a of j.actions) {
      const ok = await a.start();
      if (!ok) this.log.error({ jail: j.cfg.name, action: a.def.name, health: a.health() }, 'action.startFailed');
    }
  }

  // ---- sources ----------------------------------------------------------------------------

  private startSources(): void {
    const byPattern = new Map<string, JailRuntime[]>();
    for (const j of this.jails.values()) {
      for (const p of j.cfg.logpath) {
        const list = byPattern.get(p) ?? [];
        list.push(j);
        byPattern.set(p, list);
      }
    }
    const stored = this.store.positions();
    for (const [pattern, jails] of byPattern) {
      // Not an error (the file may come with the first mail), but an admin should see it.
      if (!/[*?[]/.test(pattern) && !existsSync(pattern)) {
        this.log.warn({ path: pattern, jails: jails.map((j) => j.cfg.name), note: 'followed from its beginning once it exists' }, 'source.missing');
      }
      const sourceId = `file:${pattern}`;
      const source = new FileSource({
        sourceId,
        paths: [pattern],
        positions: stored.filter((p) => p.sourceId === sourceId),
        start: this.opts.startAt ?? 'end',
        logger: this.log,
      });
      this.metrics.sourceStarted(pattern, stored.filter((p) => p.sourceId === sourceId));
      const abort = new AbortController();
      const pace = new Pace();
      source.batchLines = pace.lines;
      const rt: SourceRuntime = { pattern, source, pace, abort, jails, done: Promise.resolve(), failure: null };
      rt.done = this.runSource(rt);
      this.sources.push(rt);
    }
    this.startJournalSources(stored);
  }

  /**
   * One journalctl per distinct (journal_directory, journalmatch): jails with the same matches share
   * it, like jails on one file share a FileSource. Its cursor is committed with each batch.
   */
  private startJournalSources(stored: readonly SourcePosition[]): void {
    const byKey = new Map<string, { directory: string | undefined; matches: readonly string[]; jails: JailRuntime[] }>();
    for (const j of this.jails.values()) {
      const jr = j.cfg.journal;
      if (jr === null) continue;
      const key = `journal:${jr.directory ?? ''}:${jr.matches.join(' ')}`;
      const entry = byKey.get(key) ?? { directory: jr.directory, matches: jr.matches, jails: [] };
      entry.jails.push(j);
      byKey.set(key, entry);
    }
    for (const [sourceId, { directory, matches, jails }] of byKey) {
      // No stored cursor: 'end' reads new entries only; 'beginning' reads back as far as the
      // longest findtime, which is all a jail can count (fail2ban's systemd backend does the same).
      const start: JournalStart =
        (this.opts.startAt ?? 'end') === 'end' ? 'end' : { sinceMs: this.clock.now() - Math.max(...jails.map((j) => j.cfg.policy.findtime)) };
      const source = new JournalSource({
        sourceId,
        matches,
        directory,
        position: stored.find((p) => p.sourceId === sourceId) ?? null,
        start,
        logger: this.log,
      });
      const abort = new AbortController();
      const rt: SourceRuntime = { pattern: source.files[0]!, source, pace: null, abort, jails, done: Promise.resolve(), failure: null };
      rt.done = this.runSource(rt);
      this.sources.push(rt);
    }
  }

  private async runSource(rt: SourceRuntime): Promise<void> {
    // A failing source is restarted after a pause: one broken file never stops the others.
    while (!rt.abort.signal.aborted) {
      try {
        let turnEnded = -Infinity;
        for await (const batch of rt.source.follow(rt.abort.signal)) {
          // A batch handed over at once, without waiting for the file to grow, is part of a backlog.
          const backToBack = performance.now() - turnEnded < BACK_TO_BACK_MS;
          // a jail with an ignorecommand has its verdicts before it counts (ignore/command-runner.ts)
          let matched: PreMatched | undefined;
          if (rt.jails.some((j) => j.ignorer !== null)) {
            matched = await this.askIgnorers(rt, batch);
            // stopping: the batch is not committed, so it is read again at the next start
            if (rt.abort.signal.aborted) return;
          }
          const began = performance.now();
          const full = batch.lines.length >= batchLines(rt);
          this.onBatch(rt, batch, backToBack || full, matched);
          if (rt.pace !== null && rt.source instanceof FileSource) {
            rt.pace.took(batch.lines.length, performance.now() - began);
            rt.source.batchLines = rt.pace.lines;
          }
          // A backlog arrives as many bounded batches that the source hands over without waiting
          // for I/O, each sized by the pace to take about PACE_DEFAULTS.targetMs. Between two, give
          // the event loop a turn: the control socket answers, firewall commands complete and the
          // expiry timer fires while a burst is worked off.
          await yieldToEventLoop();
          turnEnded = performance.now();
        }
        return;
      } catch (err) {
        if (rt.abort.signal.aborted) return;
        // A batch the store could not take is delivered again by the restarted source; the
        // store's health says why, so it is not a source failure.
        const storeDown = err instanceof StoreUnavailableError;
        if (!storeDown) {
          this.log.error({ err, source: rt.pattern }, 'source.failed');
          rt.failure = { message: (err as Error).message, at: this.clock.now() };
        }
        await new Promise((r) => setTimeout(r, storeDown ? this.guard.retryDelayMs() : 1000));
      }
    }
  }

  private async stopSources(): Promise<void> {
    for (const s of this.sources) s.abort.abort();
    await Promise.all(this.sources.map((s) => s.done));
    this.sources = [];
    this.metrics.sourcesStopped();
  }

  /**
   * Runs the ignore commands of the batch's failing addresses that have no verdict yet. The
   * lines are matched here once more: the price of a jail with an ignorecommand, and it keeps
   * onBatch synchronous (and unchanged) for every other jail.
   */
  /**
   * Asks the ignore commands about the batch's new addresses. Returns the match results it
   * computed (per jail index of rt.jails, per line), so onBatch does not match those jails again.
   */
  private async askIgnorers(rt: SourceRuntime, batch: SourceBatch): Promise<PreMatched> {
    const now = this.clock.now();
    const asks: Promise<void>[] = [];
    const matched: (readonly MatchResult[] | undefined)[] = [];
    for (const j of rt.jails) {
      if (j.ignorer === null) {
        matched.push(undefined);
        continue;
      }
      const ips: string[] = [];
      const results = batch.lines.map((l) => j.filter.match(l.text, now));
      matched.push(results);
      for (const r of results) if (r.type === 'failure' && j.jail.wouldCount(r.failure)) ips.push(r.failure.ip);
      if (ips.length > 0) asks.push(j.ignorer.resolve(ips, rt.abort.signal));
    }
    await Promise.all(asks);
    return matched;
  }

  /** One batch: match, decide, commit lines + position together, then act. Synchronous up to the actions. */
  private onBatch(rt: SourceRuntime, batch: SourceBatch, backlog = false, preMatched?: PreMatched): void {
    rt.failure = null;
    const now = this.clock.now();
    const bans = new Map<JailRuntime, Ban[]>();
    const lines: readonly LogLine[] = batch.lines;
    if (!this.guard.ready(this.jails.values())) throw new StoreUnavailableError(`${this.store.file}: the store cannot be read; lines wait`);
    let matched = 0;
    // Each match is its own debug record (fail2ban's "Found"); the check keeps the hot path free of it otherwise.
    const traceLog = this.log.isLevelEnabled('debug');
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]!.text;
      let hit = false;
      for (let k = 0; k < rt.jails.length; k++) {
        const j = rt.jails[k]!;
        const r = preMatched?.[k]?.[i] ?? j.filter.match(text, now);
        if (r.type !== 'failure') continue;
        hit = true;
        this.metrics.failure(j.cfg.name, r.failure.kind);
        // The ignore command said "ignore": never counted, not even for its network.
        if (j.ignorer?.verdict(r.failure.ip) === true) continue;
        // The wall clock bounds the jail's clock: a forged date cannot lift bans (engine/wall-clock.ts).
        const regexId = j.filter.regexes[r.regex]?.id ?? '';
        const d = j.jail.observe(r.failure, now, text, r.regex, regexId);
        if (traceLog) {
          const outcome = d.type === 'ban' ? 'banned' : d.reason;
          this.log.debug({ jail: j.cfg.name, address: r.failure.ip, kind: r.failure.kind, regex: regexId, time: new Date(r.failure.time).toISOString(), outcome, line: text }, 'failure.matched');
        }
        if (d.type === 'ban') {
          const list = bans.get(j) ?? [];
          list.push(...d.bans);
          bans.set(j, list);
        }
      }
      if (hit) matched++;
    }
    this.metrics.batch(rt.pattern, lines.length, matched, batch.position);
    this.feedBansJails(bans, now);
    for (const j of rt.jails) {
      const note = j.clockNotice.take(now, j.jail.status());
      if (note !== null) this.log.warn({ jail: j.cfg.name, ...note, wallClock: new Date(now).toISOString() }, note.futureDated > 0 ? 'time.futureDated' : 'time.clockSetBack');
    }
    const lifts = this.collectLifts(now);
    if (!this.commit([batch.position])) {
      // Nothing stored, memory rebuilt: these lines are read again. A batch without lines only
      // moves the position, which the next batch's position supersedes.
      if (lines.length > 0) throw new StoreUnavailableError(`${this.store.file}: batch not stored; it is read again`);
      this.rearm();
      return;
    }
    this.linesRead += lines.length;
    this.apply(bans, lifts, now, backlog);
    this.rearm();
  }

  // ---- decisions → store → actions ----------------------------------------------------------

  /**
   * The bans just decided, counted by the jails with source = "bans" (recidive.ts), before the
   * commit: their failures and bans are stored in the same transaction as the bans they count.
   */
  private feedBansJails(bans: Map<JailRuntime, Ban[]>, now: number): void {
    if (bans.size === 0) return;
    const counters = [...this.jails.values()].filter((j) => j.cfg.source === BANS_SOURCE);
    if (counters.length === 0) return;
    const made: Ban[] = [];
    for (const [j, list] of bans) for (const b of list) if (countsAsRecidive(b, j.cfg.source === BANS_SOURCE)) made.push(b);
    made.sort((x, y) => x.created - y.created);
    for (const r of counters) {
      for (const b of made) {
        const d = r.jail.observe(banAsFailure(b), now);
        if (d.type === 'ban') bans.set(r, [...(bans.get(r) ?? []), ...d.bans]);
      }
    }
  }

  /**
   * A bans jail that has never counted anything (just added to the config) starts from the
   * store's history: every jail's automatic address bans inside its findtime.
   */
  private seedBansJails(): void {
    const now = this.clock.now();
    const bans = new Map<JailRuntime, Ban[]>();
    const counters = new Set([...this.jails.values()].filter((j) => j.cfg.source === BANS_SOURCE).map((j) => j.cfg.name));
    for (const r of this.jails.values()) {
      if (r.cfg.source !== BANS_SOURCE || r.jail.now !== null) continue;
      let seen = 0;
      for (const b of this.store.addressBansSince(now - r.cfg.policy.findtime)) {
        if (!countsAsRecidive(b, counters.has(b.jail))) continue;
        seen++;
        const d = r.jail.observe(banAsFailure(b), now);
        if (d.type === 'ban') bans.set(r, [...(bans.get(r) ?? []), ...d.bans]);
      }
      if (seen > 0) this.log.info({ jail: r.cfg.name, bans: seen }, 'jail.seededFromHistory');
    }
    if (bans.size === 0 && [...this.jails.values()].every((j) => j.cfg.source !== BANS_SOURCE)) return;
    if (this.commit()) this.apply(bans, new Map(), now);
  }

  private collectLifts(now: number): Map<JailRuntime, Lift[]> {
    const lifts = new Map<JailRuntime, Lift[]>();
    for (const j of this.jails.values()) {
      const l = j.jail.expire(now);
      if (l.length > 0) lifts.set(j, l);
    }
    return lifts;
  }

  /** False: nothing was stored and every jail was rebuilt from the store; act on nothing. */
  private commit(positions: readonly SourcePosition[] = []): boolean {
    return this.metrics.commit(() => this.guard.commit(this.jails.values(), positions));
  }

  /**
   * Runs the actions for committed decisions. Never awaited by the reader: a slow firewall never
   * stalls the log. `backlog`: the batch was full or came back to back, more lines are probably
   * waiting (see handOver).
   */
  private apply(bans: Map<JailRuntime, Ban[]>, lifts: Map<JailRuntime, Lift[]>, now: number, backlog = false): void {
    for (const [j, list] of bans) {
      // A backlog can hold bans that are already over: they are recorded, not sent to the kernel.
      const explained = list.map((b) => this.explain(b));
      const live = explained.filter((b) => b.until === null || b.until > now);
      for (const b of explained) {
        this.metrics.banned(b);
        this.log.info({ jail: j.cfg.name, target: targetToString(b.target), kind: b.kind, failures: b.failures, kinds: b.kinds, until: b.until === null ? null : new Date(b.until).toISOString(), banNumber: b.banNumber }, 'ban.added');
      }
      if (live.length > 0) this.hold(j, 'ban', live);
    }
    for (const [j, list] of lifts) {
      for (const l of list) {
        this.metrics.lifted(l.ban, l.reason);
        this.log.info({ jail: j.cfg.name, target: targetToString(l.ban.target), reason: l.reason }, l.reason === 'expired' ? 'ban.expired' : 'ban.lifted');
      }
      this.hold(j, 'unban', list.map((l) => l.ban.target));
    }
    this.handOver(backlog);
  }

  /** A new ban with the lines that led to it (the jail attached them; a manual ban has none). */
  private explain(b: ExplainedBan): ExplainedBan {
    return b.matches !== undefined ? b : { ...b, kinds: b.kinds ?? [], matches: [] };
  }

  /** The kept lines behind a ban; none if the store cannot be read (the ban stands regardless). */
  private linesOf(j: JailRuntime, b: Ban): MatchTrace[] {
    try {
      return banLines(this.store, b);
    } catch (err) {
      this.log.warn({ jail: j.cfg.name, target: targetToString(b.target), err: (err as Error).message }, 'store.traceReadFailed');
      return [];
    }
  }

  /** Queues firewall changes in decision order; consecutive ones of one kind and jail join. */
  private hold(j: JailRuntime, op: 'ban' | 'unban', items: readonly (Ban | Target)[]): void {
    const last = this.held[this.held.length - 1];
    if (last !== undefined && last.j === j && last.op === op) last.items.push(...items);
    else this.held.push({ j, op, items: [...items] });
  }

  /**
   * Hands the held changes to the actions, in order. While a backlog is worked off, at most
   * every BACKLOG_HANDOVER_MS: each firewall command forks the daemon, which costs milliseconds
   * of CPU with a large heap, and a 1M-line burst would otherwise start one per nft call (the
   * runner joins what arrives while a command runs). Otherwise, and when a backlog ends, at once.
   */
  private handOver(backlog: boolean): void {
    if (this.held.length === 0) return;
    const now = this.clock.now();
    if (backlog && now - this.lastHandOver < BACKLOG_HANDOVER_MS) {
      this.heldTimer ??= setTimeout(() => {
        this.heldTimer = undefined;
        this.handOver(false);
      }, BACKLOG_HANDOVER_MS - (now - this.lastHandOver));
      return;
    }
    clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    this.lastHandOver = now;
    const held = this.held;
    this.held = [];
    for (const h of held) {
      for (const a of h.j.actions) {
        this.metrics.action(h.j.cfg.name, a.name, h.op, now, h.op === 'ban' ? a.ban(h.items as Ban[]) : a.unban(h.items as Target[]));
      }
    }
  }

  private expireDue(now: number): void {
    const lifts = this.collectLifts(now);
    if (lifts.size === 0) {
      this.rearm();
      return;
    }
    // A failed commit leaves the bans active (rebuilt); the timer retries after a pause.
    if (this.commit()) this.apply(new Map(), lifts, now);
    this.rearm();
  }

  /** Keeps the ban history bounded: only what still counts towards ban numbers stays, and lifted bans keep no lines. */
  private pruneHistory(): void {
    try {
      const n = this.store.pruneBanLines();
      if (n > 0) this.log.debug({ removed: n }, 'store.banLinesPruned');
    } catch (err) {
      this.log.error({ err }, 'store.pruneFailed');
    }
    for (const j of this.jails.values()) {
      try {
        const n = this.store.pruneHistory(j.cfg.name, j.cfg.policy.increment.remember);
        if (n > 0) this.log.debug({ jail: j.cfg.name, removed: n }, 'store.historyPruned');
      } catch (err) {
        this.log.error({ err, jail: j.cfg.name }, 'store.pruneFailed');
      }
    }
  }

  private rearm(): void {
    let next: number | null = null;
    for (const j of this.jails.values()) {
      const t = j.jail.nextExpiry();
      if (t !== null && (next === null || t < next)) next = t;
    }
    this.timer.arm(this.guard.holdUntil(next));
  }

  // ---- control handlers -----------------------------------------------------------------------

  private jailOrThrow(name: string): JailRuntime {
    const j = this.jails.get(name);
    if (!j) throw new ControlError('jail.unknown', `no jail named "${name}" (jails: ${[...this.jails.keys()].join(', ') || 'none'})`);
    return j;
  }

  private linesPerSecond(now: number): number {
    this.rateSamples.push({ at: now, lines: this.linesRead });
    while (this.rateSamples.length > 2 && this.rateSamples[0]!.at < now - RATE_WINDOW_MS) this.rateSamples.shift();
    const first = this.rateSamples[0]!;
    const span = now - first.at;
    return span > 0 ? Math.round(((this.linesRead - first.lines) * 1000) / span) : 0;
  }

  status(): DaemonStatus {
    const now = this.clock.now();
    return {
      version: VERSION,
      pid: process.pid,
      state: this.state,
      startedAt: this.startedAt,
      uptimeMs: now - this.startedAt,
      linesRead: this.linesRead,
      linesPerSecond: this.linesPerSecond(now),
      store: this.guard.health(),
      jails: [...this.jails.values()].map((j) => {
        const s = j.jail.status();
        return {
          name: j.cfg.name,
          filter: j.retired ? 'retired (not in the config; holds its manual and permanent bans)' : `${j.filter.name}[mode=${j.filter.mode}]`,
          sources: this.sourcesOf(j),
          currentlyFailing: s.failing,
          totalFailed: s.totalFailed,
          currentlyBanned: { addresses: s.bannedAddresses, networks: s.bannedNetworks },
          totalBanned: s.totalBanned,
          futureDated: s.futureDated,
          actions: j.actions.map((a) => {
            const h = a.health();
            return { name: h.action, ok: h.state === 'healthy', lastError: h.lastError?.message ?? null, lastErrorAt: h.lastError?.at ?? null };
          }),
        };
      }),
      health: this.health(),
    };
  }

  /** Everything that keeps pban from protecting as configured, one line each. */
  private health(): DaemonStatus['health'] {
    const problems: string[] = [];
    const store = this.guard.health();
    if (!store.ok) problems.push(`store ${store.path}: ${store.lastError ?? 'failing'}`);
    for (const s of this.sources) if (s.failure) problems.push(`source ${s.pattern}: ${s.failure.message}`);
    for (const j of this.jails.values()) {
      if (j.retired && j.actions.length === 0) problems.push(`jail ${j.cfg.name}: retired with kept bans that no action enforces (see the log: jail.retiredUnenforced)`);
      for (const a of j.actions) {
        const h = a.health();
        if (h.state !== 'healthy') problems.push(`jail ${j.cfg.name}: action ${h.action}: ${h.lastError?.message ?? h.state}`);
      }
    }
    return { ok: problems.length === 0, problems };
  }

  private sourcesOf(j: JailRuntime): string[] {
    const files = new Set<string>();
    for (const s of this.sources) if (s.jails.includes(j)) for (const f of s.source.files ?? [s.pattern]) files.add(f);
    return files.size > 0 ? [...files] : [...j.cfg.logpath];
  }

  async jailStatus(name: string): Promise<JailStatusData> {
    await this.started;
    const j = this.jailOrThrow(name);
    const s = j.jail.status();
    return {
      name,
      filter: `${j.filter.name}[mode=${j.filter.mode}]`,
      sources: this.sourcesOf(j),
      currentlyFailed: s.failing,
      totalFailed: s.totalFailed,
      totalBanned: s.totalBanned,
      banned: j.jail.activeBans().map((b) => b.target),
    };
  }

  async banned(jail?: string): Promise<Iterable<Ban>> {
    await this.started;
    const list = jail === undefined ? [...this.jails.values()] : [this.jailOrThrow(jail)];
    return list.flatMap((j) => j.jail.activeBans());
  }

  async why(target: Target): Promise<WhyData> {
    await this.started;
    const all: Ban[] = [];
    const jailOf = new Map<Ban, JailRuntime>();
    const failing: WhyData['failing'][number][] = [];
    const isAddress = target.prefix === (target.family === 4 ? 32 : 128);
    for (const j of this.jails.values()) {
      for (const b of coveringBans(j.jail.activeBans(), target)) {
        all.push(b);
        jailOf.set(b, j);
      }
      const n = isAddress ? j.jail.failuresOf(target.addr) : 0;
      if (n > 0) {
        failing.push({ jail: j.cfg.name, failures: n, lines: j.jail.linesOf(target.addr) });
      }
    }
    return { bans: coveringBans(all, target).map((b) => ({ ban: b, lines: this.linesOf(jailOf.get(b)!, b) })), failing };
  }

  async ban(jail: string, target: Target, timeMs: number | null | undefined): Promise<Ban> {
    await this.started;
    return this.exclusive(() => {
      const j = this.jailOrThrow(jail);
      if (j.retired) throw new ControlError('jail.retired', `jail "${jail}" is no longer in the config: it only keeps its earlier bans`);
      const now = this.clock.now();
      const b = j.jail.ban(target, now, timeMs);
      if (!this.commit()) throw new ControlError('store.unavailable', `the ban was not stored: ${this.guard.health().lastError ?? 'store failing'}`);
      this.apply(new Map([[j, [b]]]), new Map(), now);
      this.rearm();
      return b;
    });
  }

  async unban(which: UnbanSelector, jail?: string): Promise<Ban[]> {
    await this.started;
    return this.exclusive(async () => {
      const jails = jail === undefined ? [...this.jails.values()] : [this.jailOrThrow(jail)];
      const now = this.clock.now();
      const lifts = new Map<JailRuntime, Lift[]>();
      for (const j of jails) {
        const mine: Lift[] = [];
        if ('all' in which) mine.push(...j.jail.liftAll('manual', now));
        else {
          for (const t of which.targets) {
            if (j.jail.isTargetBanned(t)) mine.push(j.jail.unban(t, now));
          }
        }
        if (mine.length > 0) lifts.set(j, mine);
      }
      if (lifts.size > 0) {
        if (!this.commit()) throw new ControlError('store.unavailable', `the unban was not stored: ${this.guard.health().lastError ?? 'store failing'}`);
        this.apply(new Map(), lifts, now);
        this.rearm();
        await this.dropEmptyRetired();
      }
      return [...lifts.values()].flat().map((l) => l.ban);
    });
  }

  /**
   * Reads the config again. The new runtime is built completely first (the same builder as
   * `pban check` and `pban start`): a config it refuses leaves the daemon exactly as it was,
   * sources reading. Then the sources pause, state is committed, each kept jail is restored
   * from the store under its new policy, and only then is anything of the old runtime stopped.
   * Windows and bans are kept; a removed jail has its bans lifted. One reload at a time.
   */
  async reload(opts: { liftRemoved?: boolean } = {}): Promise<ReloadReply> {
    await this.started;
    return this.exclusive(() => this.reloadNow(opts.liftRemoved === true));
  }

  private async reloadNow(liftRemoved: boolean): Promise<ReloadReply> {
    const next = buildRuntime(this.opts.configFile, this.prepared.deps);
    this.assertRunning();
    // Bound before anything stops: a busy port refuses the reload with nothing changed.
    await this.metrics.serve(next.config.pban.metrics);
    const old = this.jails;
    const wanted = next.jails;
    await this.stopSources();
    // From here until the sources run again no line is read: every step that can still fail
    // (the store) comes before the first step that changes the firewall.
    let jails: Map<string, JailRuntime>;
    try {
      this.assertRunning();
      if (!this.commit()) throw new ControlError('store.unavailable', `reload refused: the store cannot take the current state: ${this.guard.health().lastError ?? 'store failing'}`);
      this.handOver(false); // held changes go to the runners they were decided for
      jails = new Map();
      for (const [name, parts] of wanted) {
        const prev = old.get(name);
        // Unchanged actions keep running: the kernel keeps every ban through the reload, with
        // no moment where the firewall is open. Changed ones are stopped and started anew.
        const keep = prev !== undefined && sameFirewall(prev.cfg, parts.cfg);
        jails.set(name, this.restoreJail(parts, keep ? prev.actions : undefined));
      }
    } catch (err) {
      if (!this.stopping) {
        this.startSources();
        await Promise.all(this.sources.map((s) => s.source.ready));
      }
      throw err;
    }
    const now = this.clock.now();
    const removed = [...old.keys()].filter((n) => !wanted.has(n) && !old.get(n)!.retired);
    const added = [...wanted.keys()].filter((n) => !old.has(n) || old.get(n)!.retired);
    let lifted = 0;
    const kept: Ban[] = [];
    const retiredNow: string[] = [];
    // Removed now, or retired before: see retired-jails.ts for the rule.
    for (const [name, j] of old) {
      if (wanted.has(name)) continue;
      const lifts = liftRemoved ? j.jail.liftAll('jail-removed', now) : j.jail.liftWhere((b) => !keptWhenJailRemoved(b), 'jail-removed', now);
      lifted += lifts.length;
      for (const l of lifts) this.metrics.lifted(l.ban, l.reason);
      // If this fails the bans stay active in the store (logged).
      this.guard.commit([j]);
      const keep = j.jail.activeBans();
      if (keep.length === 0) {
        for (const a of j.actions) await a.stop();
        if (!j.retired || lifts.length > 0) this.log.info({ jail: name, lifted: lifts.length }, 'jail.removed');
        continue;
      }
      // Kept in force by the same runners: the kernel keeps them with no gap; the lifted go.
      const rt: JailRuntime = j.retired ? j : { ...j, cfg: retiredJailConfig(name, firewallOf(j.cfg), j.cfg.policy), retired: true };
      jails.set(name, rt);
      if (lifts.length > 0) this.apply(new Map(), new Map([[rt, lifts]]), now);
      kept.push(...keep);
      retiredNow.push(name);
      this.warnRetired(name, keep);
    }
    const fresh: JailRuntime[] = [];
    for (const [name, j] of jails) {
      const prev = old.get(name);
      if (prev !== undefined && prev.actions === j.actions) {
        // Kept runners were built under the old [pban] section: they take its check interval.
        for (const a of j.actions) a.setCheckInterval(next.config.pban.checkInterval);
        continue;
      }
      if (prev) for (const a of prev.actions) await a.stop();
      fresh.push(j);
    }
    this.config = next.config;
    this.jails = jails;
    this.saveFirewalls(next);
    this.expireDue(now);
    await Promise.all(fresh.map((j) => this.startActions(j)));
    this.seedBansJails();
    if (!this.stopping) {
      this.startSources();
      await Promise.all(this.sources.map((s) => s.source.ready));
    }
    this.rearm();
    const active = [...wanted.keys()];
    this.log.info({ jails: active, added, removed, retired: retiredNow }, 'daemon.reloaded');
    return { jails: active, added, removed, lifted, retired: retiredNow, kept: kept.map(banToEntry) };
  }

  private assertRunning(): void {
    if (this.stopping) throw new ControlError('daemon.stopping', 'pban is stopping');
  }

  /** During the start too: it does not wait for the start (see Daemon.start). */
  stop(): Promise<void> {
    return this.shutdown(true);
  }

  version(): VersionReply {
    return { version: VERSION, protocol: PROTOCOL_VERSION, node: process.version, pid: process.pid };
  }

  /** Stops reading, commits, closes the socket, and removes our firewall state. Idempotent. */
  shutdown(removeFirewall = true): Promise<void> {
    this.stopping ??= (async () => {
      // During the start, the runtime's runners are starting, not yet in a jail.
      const starting = this.state === 'starting';
      this.state = 'stopping';
      this.timer.disarm();
      clearTimeout(this.heldTimer);
      clearInterval(this.pruneTimer);
      await this.stopSources();
      this.commit(); // a failure is logged by the guard
      await this.control?.close();
      await this.metrics.close();
      const actions = [...new Set([
        ...[...this.jails.values()].flatMap((j) => j.actions),
        ...(starting ? [...this.prepared.runtime.jails.values()].flatMap((p) => p.actions) : []),
      ])];
      if (removeFirewall) {
        // Each action's stop is bounded (a hung firewall program is killed) and they run in
        // parallel; the budget is a last guard, so a stop ends whatever the firewall does.
        const all = Promise.all(actions.map((a) => a.stop()));
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), STOP_ACTIONS_BUDGET_MS)));
        if ((await Promise.race([all, late])) === 'late') this.log.warn({ budgetMs: STOP_ACTIONS_BUDGET_MS }, 'daemon.stopActionsTimedOut');
        clearTimeout(timer);
      } else for (const a of actions) a.unlock();
      this.prepared.launcher.close();
      this.guard.stop();
      this.store.close();
      this.lock.release();
      this.log.info({}, 'daemon.stopped');
      this.resolveStopped();
    })();
    return this.stopping;
  }
}
