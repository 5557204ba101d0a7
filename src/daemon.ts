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
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Ban, LogLine, SourcePosition, Target } from './events.js';
import { targetToString } from './events.js';
import { systemClock, type Clock } from './clock.js';
import type { Logger } from './log.js';
import { ControlError, PbanError } from './errors.js';
import { VERSION } from './version.js';
import { loadConfig, type JailConfig, type PbanConfig } from './config/index.js';
import { loadFilter, type CompiledFilter } from './filters/index.js';
import { Jail, type Lift } from './engine/index.js';
import { openStore, type Store } from './store/index.js';
import { FILE_SOURCE_DEFAULTS, FileSource, JournalSource, type JournalStart } from './sources/index.js';
import { createAction, type ActionRunner } from './actions/index.js';
import { parseActionSpec } from './actions/spec.js';
import { ExpiryTimer } from './scheduler/expiry-timer.js';
import { startControlServer, type ControlServer } from './control/server.js';
import type { ControlHandlers, JailStatusData, UnbanSelector } from './control/handlers.js';
import type { DaemonState, DaemonStatus, ReloadReply, VersionReply } from './control/types.js';
import { PROTOCOL_VERSION } from './control/protocol.js';

export interface DaemonOptions {
  readonly configFile: string;
  /** The config already loaded from configFile (it is read again only on reload). */
  readonly config?: PbanConfig;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Put in front of every firewall command (tests: ["ip", "netns", "exec", NS]). */
  readonly commandPrefix?: readonly string[];
  /** Where a file with no stored position starts; default: the end (only new lines). */
  readonly startAt?: 'beginning' | 'end';
}

interface JailRuntime {
  readonly cfg: JailConfig;
  readonly filter: CompiledFilter;
  readonly jail: Jail;
  readonly actions: readonly ActionRunner[];
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
  readonly abort: AbortController;
  jails: JailRuntime[];
  done: Promise<void>;
}

/** Failures of a config check are reported with the config line that names the filter/action. */
function checkers(timezone: string | undefined): { checkFilter(spec: string): string | undefined; checkAction(name: string): string | undefined } {
  return {
    checkFilter(spec) {
      try {
        loadFilter(spec, { timezone });
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
    checkAction(text) {
      const spec = parseActionSpec(text);
      if ('error' in spec) return spec.error;
      try {
        // Building a runner validates the parameters against the action file; it runs nothing.
        createAction(spec.ref, { jail: 'check', params: spec.params, activeBans: () => [] });
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  };
}

/** Runs a generator of work steps to its end, giving the event loop a turn between steps. */
async function runInSlices<T>(steps: Generator<void, T, undefined>): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await yieldToEventLoop();
  }
}

export function loadDaemonConfig(file: string): PbanConfig {
  // The time zone is only known after parsing; filters are compiled again with it at start.
  return loadConfig(file, checkers(undefined));
}

/** Whether two configs of a jail drive the firewall the same way (so its runners can stay). */
function sameFirewall(a: JailConfig, b: JailConfig): boolean {
  return JSON.stringify([a.actions, a.ports, a.protocol]) === JSON.stringify([b.actions, b.ports, b.protocol]);
}

const RATE_WINDOW_MS = 60_000;
/** While a backlog is worked off, firewall changes go to the actions at most this often. */
const BACKLOG_HANDOVER_MS = 250;
/** A batch that arrives this soon after the previous one's turn ended did not wait for new lines. */
const BACK_TO_BACK_MS = 2;
/** Lifted bans older than `remember` are deleted this often (and at start). */
const HISTORY_PRUNE_MS = 3_600_000;

export class Daemon implements ControlHandlers {
  private config: PbanConfig;
  private readonly store: Store;
  private jails = new Map<string, JailRuntime>();
  private sources: SourceRuntime[] = [];
  /** Firewall changes decided and committed, not yet handed to the actions (see handOver). */
  private held: { j: JailRuntime; op: 'ban' | 'unban'; items: (Ban | Target)[] }[] = [];
  private heldTimer: NodeJS.Timeout | undefined;
  private lastHandOver = -Infinity;
  /** At start, a jail's stored active bans until the jail itself is restored (for its actions). */
  private readonly restoring = new Map<string, readonly Ban[]>();
  private readonly timer: ExpiryTimer;
  private control: ControlServer | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
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
    config: PbanConfig,
    store: Store,
  ) {
    this.config = config;
    this.store = store;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    this.startedAt = this.clock.now();
    this.timer = new ExpiryTimer(this.clock, (now) => this.expireDue(now));
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.started = new Promise((resolve) => (this.markStarted = resolve));
  }

  /** Loads the config, restores state, re-applies active bans, then starts following the logs. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const config = opts.config ?? loadDaemonConfig(opts.configFile);
    mkdirSync(path.dirname(config.pban.database), { recursive: true });
    const store = openStore(config.pban.database);
    const d = new Daemon(opts, config, store);
    try {
      // The socket first: with 100,000 bans, loading them and re-applying them takes seconds, and
      // `pban status` answers meanwhile (state "starting"); requests that need the jails wait.
      d.control = await startControlServer({
        socketPath: config.pban.socket,
        handlers: d,
        onError: (err, cmd) => d.log.error({ err, cmd }, 'control.handlerFailed'),
      });
      const applied: Promise<void>[] = [];
      for (const cfg of config.jails) {
        if (!cfg.enabled) continue;
        const r = await d.restoreJail(cfg);
        d.jails.set(cfg.name, r.jail);
        applied.push(r.applied);
      }
      // Bans that ended while pban was down are lifted (they were not re-applied either).
      d.expireDue(d.clock.now());
      d.pruneHistory();
      d.pruneTimer = setInterval(() => d.pruneHistory(), HISTORY_PRUNE_MS);
      d.pruneTimer.unref();
      await Promise.all(applied);
      d.startSources();
      // Where each file starts is fixed before we say we are up: no line written after is missed.
      await Promise.all(d.sources.map((s) => s.source.ready));
      d.rearm();
      d.state = 'running';
      d.markStarted();
      d.log.info({ version: VERSION, config: opts.configFile, jails: [...d.jails.keys()], database: config.pban.database, socket: config.pban.socket }, 'daemon.started');
      return d;
    } catch (err) {
      await d.shutdown(false).catch(() => undefined);
      throw err;
    }
  }

  /** A jail's windows and bans come from the store, so start and reload rebuild the same state. */
  private buildJail(cfg: JailConfig, keepActions?: readonly ActionRunner[]): JailRuntime {
    const filter = loadFilter(cfg.filter, { timezone: this.config.pban.timezone });
    const jail = Jail.restore(cfg.policy, this.store.loadJail(cfg.name, { findtime: cfg.policy.findtime, remember: cfg.policy.increment.remember }));
    return { cfg, filter, jail, actions: keepActions ?? this.makeActions(cfg) };
  }

  /**
   * buildJail() for start, in slices with the event loop free in between, and with the firewall
   * re-applied from the stored active bans while the jail's windows are rebuilt. Returns once
   * the jail is built; `applied` resolves once its actions have started.
   */
  private async restoreJail(cfg: JailConfig): Promise<{ jail: JailRuntime; applied: Promise<void> }> {
    const filter = loadFilter(cfg.filter, { timezone: this.config.pban.timezone });
    const snap = await runInSlices(this.store.loadJailSteps(cfg.name, { findtime: cfg.policy.findtime, remember: cfg.policy.increment.remember }));
    const actions = this.makeActions(cfg);
    // Ended bans are dropped by the actions' own plan, and lifted by expireDue() once the jail exists.
    this.restoring.set(cfg.name, snap.bans.filter((b) => b.active));
    const applied = this.startActions({ cfg, actions });
    const jail = await runInSlices(Jail.restoreSteps(cfg.policy, snap));
    this.restoring.delete(cfg.name);
    return { jail: { cfg, filter, jail, actions }, applied };
  }

  private makeActions(cfg: JailConfig): ActionRunner[] {
    return cfg.actions.map((text) => {
      const spec = parseActionSpec(text);
      if ('error' in spec) throw new PbanError('action.spec', spec.error);
      return createAction(spec.ref, {
        params: spec.params,
        jail: cfg.name,
        ports: cfg.ports === 'all' ? [] : cfg.ports,
        protocol: cfg.protocol,
        commandPrefix: this.opts.commandPrefix,
        clock: this.clock,
        logger: this.log,
        // Looked up at call time: a reload replaces the jail but may keep this runner; at start
        // the actions begin with the stored bans while the jail is still being restored.
        activeBans: () => this.jails.get(cfg.name)?.jail.activeBans() ?? this.restoring.get(cfg.name) ?? [],
      });
    });
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
      const abort = new AbortController();
      const rt: SourceRuntime = { pattern, source, abort, jails, done: Promise.resolve() };
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
      const rt: SourceRuntime = { pattern: source.files[0]!, source, abort, jails, done: Promise.resolve() };
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
          this.onBatch(rt, batch, performance.now() - turnEnded < BACK_TO_BACK_MS);
          // A backlog arrives as many bounded batches (maxBatchLines) that the source hands over
          // without waiting for I/O. Between two, give the event loop a turn: the control socket
          // answers, firewall commands complete and the expiry timer fires while a burst is worked off.
          await yieldToEventLoop();
          turnEnded = performance.now();
        }
        return;
      } catch (err) {
        if (rt.abort.signal.aborted) return;
        this.log.error({ err, source: rt.pattern }, 'source.failed');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async stopSources(): Promise<void> {
    for (const s of this.sources) s.abort.abort();
    await Promise.all(this.sources.map((s) => s.done));
    this.sources = [];
  }

  /** One batch: match, decide, commit lines + position together, then act. Synchronous up to the actions. */
  private onBatch(rt: SourceRuntime, batch: SourceBatch, backToBack = false): void {
    const now = this.clock.now();
    const bans = new Map<JailRuntime, Ban[]>();
    const lines: readonly LogLine[] = batch.lines;
    this.linesRead += lines.length;
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]!.text;
      for (const j of rt.jails) {
        const r = j.filter.match(text, now);
        if (r.type !== 'failure') continue;
        const d = j.jail.observe(r.failure);
        if (d.type === 'ban') {
          const list = bans.get(j) ?? [];
          list.push(...d.bans);
          bans.set(j, list);
        }
      }
    }
    const lifts = this.collectLifts(now);
    this.commit([batch.position]);
    this.apply(bans, lifts, now, backToBack || lines.length >= FILE_SOURCE_DEFAULTS.maxBatchLines);
    this.rearm();
  }

  // ---- decisions → store → actions ----------------------------------------------------------

  private collectLifts(now: number): Map<JailRuntime, Lift[]> {
    const lifts = new Map<JailRuntime, Lift[]>();
    for (const j of this.jails.values()) {
      const l = j.jail.expire(now);
      if (l.length > 0) lifts.set(j, l);
    }
    return lifts;
  }

  private commit(positions: readonly SourcePosition[] = []): void {
    this.store.commit({ jails: [...this.jails.values()].map((j) => j.jail.takeChanges()), positions: [...positions] });
  }

  /**
   * Runs the actions for committed decisions. Never awaited by the reader: a slow firewall never
   * stalls the log. `backlog`: the batch was full or came back to back, more lines are probably
   * waiting (see handOver).
   */
  private apply(bans: Map<JailRuntime, Ban[]>, lifts: Map<JailRuntime, Lift[]>, now: number, backlog = false): void {
    for (const [j, list] of bans) {
      // A backlog can hold bans that are already over: they are recorded, not sent to the kernel.
      const live = list.filter((b) => b.until === null || b.until > now);
      for (const b of list) {
        this.log.info({ jail: j.cfg.name, target: targetToString(b.target), kind: b.kind, failures: b.failures, until: b.until === null ? null : new Date(b.until).toISOString(), banNumber: b.banNumber }, 'ban.added');
      }
      if (live.length > 0) this.hold(j, 'ban', live);
    }
    for (const [j, list] of lifts) {
      for (const l of list) {
        this.log.info({ jail: j.cfg.name, target: targetToString(l.ban.target), reason: l.reason }, l.reason === 'expired' ? 'ban.expired' : 'ban.lifted');
      }
      this.hold(j, 'unban', list.map((l) => l.ban.target));
    }
    this.handOver(backlog);
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
      for (const a of h.j.actions) void (h.op === 'ban' ? a.ban(h.items as Ban[]) : a.unban(h.items as Target[]));
    }
  }

  private expireDue(now: number): void {
    const lifts = this.collectLifts(now);
    if (lifts.size === 0) {
      this.rearm();
      return;
    }
    this.commit();
    this.apply(new Map(), lifts, now);
    this.rearm();
  }

  /** Keeps the ban history bounded: only what still counts towards ban numbers stays. */
  private pruneHistory(): void {
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
    this.timer.arm(next);
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
      jails: [...this.jails.values()].map((j) => {
        const s = j.jail.status();
        return {
          name: j.cfg.name,
          filter: `${j.filter.name}[mode=${j.filter.mode}]`,
          sources: this.sourcesOf(j),
          currentlyFailing: s.failing,
          totalFailed: s.totalFailed,
          currentlyBanned: { addresses: s.bannedAddresses, networks: s.bannedNetworks },
          totalBanned: s.totalBanned,
          actions: j.actions.map((a) => {
            const h = a.health();
            return { name: h.action, ok: h.state === 'healthy', lastError: h.lastError?.message ?? null, lastErrorAt: h.lastError?.at ?? null };
          }),
        };
      }),
    };
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

  async ban(jail: string, target: Target, timeMs: number | null | undefined): Promise<Ban> {
    await this.started;
    const j = this.jailOrThrow(jail);
    const now = this.clock.now();
    const b = j.jail.ban(target, now, timeMs);
    this.commit();
    this.apply(new Map([[j, [b]]]), new Map(), now);
    this.rearm();
    return b;
  }

  async unban(which: UnbanSelector, jail?: string): Promise<Ban[]> {
    await this.started;
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
      this.commit();
      this.apply(new Map(), lifts, now);
      this.rearm();
    }
    return [...lifts.values()].flat().map((l) => l.ban);
  }

  /**
   * Reads the config again. An invalid one is refused and the old one keeps running. Windows and
   * bans are kept: state is committed, then each kept jail is restored from the store under its
   * new policy. A removed jail has its bans lifted.
   */
  async reload(): Promise<ReloadReply> {
    await this.started;
    const next = loadConfig(this.opts.configFile, checkers(undefined));
    // Validate every new filter before touching anything, so a bad reload changes nothing.
    for (const cfg of next.jails) if (cfg.enabled) loadFilter(cfg.filter, { timezone: next.pban.timezone });
    await this.stopSources();
    this.commit();
    this.handOver(false); // held changes go to the runners they were decided for
    const now = this.clock.now();
    const old = this.jails;
    const wanted = new Map(next.jails.filter((j) => j.enabled).map((j) => [j.name, j] as const));
    const removed = [...old.keys()].filter((n) => !wanted.has(n));
    const added = [...wanted.keys()].filter((n) => !old.has(n));
    let lifted = 0;
    for (const name of removed) {
      const j = old.get(name)!;
      const lifts = j.jail.liftAll('jail-removed', now);
      lifted += lifts.length;
      this.store.commit({ jails: [j.jail.takeChanges()] });
      for (const a of j.actions) await a.stop();
      this.log.info({ jail: name, lifted: lifts.length }, 'jail.removed');
    }
    this.config = next;
    const jails = new Map<string, JailRuntime>();
    const fresh: JailRuntime[] = [];
    for (const [name, cfg] of wanted) {
      const prev = old.get(name);
      // Unchanged actions keep running: the kernel keeps every ban through the reload, with no
      // moment where the firewall is open. Changed ones are stopped and started anew.
      const keep = prev !== undefined && sameFirewall(prev.cfg, cfg);
      if (prev && !keep) for (const a of prev.actions) await a.stop();
      const j = this.buildJail(cfg, keep ? prev.actions : undefined);
      if (!keep) fresh.push(j);
      jails.set(name, j);
    }
    this.jails = jails;
    this.expireDue(now);
    await Promise.all(fresh.map((j) => this.startActions(j)));
    this.startSources();
    await Promise.all(this.sources.map((s) => s.source.ready));
    this.rearm();
    this.log.info({ jails: [...jails.keys()], added, removed }, 'daemon.reloaded');
    return { jails: [...jails.keys()], added, removed, lifted };
  }

  async stop(): Promise<void> {
    await this.started;
    return this.shutdown(true);
  }

  version(): VersionReply {
    return { version: VERSION, protocol: PROTOCOL_VERSION, node: process.version, pid: process.pid };
  }

  /** Stops reading, commits, closes the socket, and removes our firewall state. Idempotent. */
  shutdown(removeFirewall = true): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping';
      this.timer.disarm();
      clearTimeout(this.heldTimer);
      clearInterval(this.pruneTimer);
      await this.stopSources();
      try {
        this.commit();
      } catch (err) {
        this.log.error({ err }, 'store.commitFailed');
      }
      await this.control?.close();
      if (removeFirewall) for (const j of this.jails.values()) for (const a of j.actions) await a.stop();
      this.store.close();
      this.log.info({}, 'daemon.stopped');
      this.resolveStopped();
    })();
    return this.stopping;
  }
}
