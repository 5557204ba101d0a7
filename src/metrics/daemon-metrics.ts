// The daemon's Prometheus metrics. prom-client lives here and nowhere else: the daemon reports
// what happened through a few typed calls, and reads of its state (active bans, action health,
// how far each file is behind) happen only when Prometheus scrapes.
//
// Labels are jail, source, action, filter kind and a few fixed words: never an address, whose
// cardinality an attacker controls (see ../shared notes: IPs belong in logs and the store).
import { statSync } from 'node:fs';
import type { Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Ban, LiftReason, SourcePosition, Target } from '../events.js';
import type { Clock } from '../clock.js';
import { maxPrefix } from '../cidr.js';
import { JOURNAL_POSITION_PATH } from '../sources/journald/config.js';
import { VERSION } from '../version.js';
import { closeServer, listenMetrics, type MetricsConfig } from './server.js';

/** What the metrics read from the daemon at scrape time. */
export interface MetricsView {
  jails(): Iterable<{
    readonly name: string;
    readonly bannedAddresses: number;
    readonly bannedNetworks: number;
    readonly actions: Iterable<{ readonly name: string; readonly healthy: boolean }>;
  }>;
}

export type ActionOp = 'ban' | 'unban';

/** The subset of the daemon's logger the endpoint uses. */
export interface MetricsLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DaemonMetricsOptions {
  /** The daemon's clock: action latency is measured from the decision time it gave. */
  readonly clock: Clock;
  readonly view: MetricsView;
  readonly logger?: MetricsLogger;
}

/** Firewall commands take milliseconds (nft, ipset) to seconds (iptables with many rules, retries). */
const ACTION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** A commit is one SQLite transaction in WAL mode: well under a millisecond to tens of ms. */
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** address or network, from the target (a manual ban is either). */
export function targetKind(t: Target): 'address' | 'network' {
  return t.prefix === maxPrefix(t.family) ? 'address' : 'network';
}

/**
 * How many bytes of a followed file are still unread: its size minus the committed offset. A
 * different inode at the path means it was rotated and the follower has not switched yet: the
 * whole new file is unread (what remains of the old one is not counted). No file: nothing unread.
 */
export function lagBytes(pos: SourcePosition, st: { readonly ino: number; readonly size: number } | null): number {
  if (st === null) return 0;
  if (st.ino !== pos.inode) return st.size;
  return Math.max(0, st.size - pos.offset);
}

export class DaemonMetrics {
  readonly registry = new Registry();
  private defaultsOn = false;
  /** Last committed position of each followed file, by source label then path. */
  private readonly positions = new Map<string, Map<string, SourcePosition>>();

  // Counted in plain maps on the reader's path and handed to prom-client when scraped: an
  // inc() with labels costs about a microsecond, a Map update a few nanoseconds.
  private readonly read = new Map<string, number>();
  private readonly matched = new Map<string, number>();
  private readonly failures = new Map<string, Map<string, number>>();
  private readonly bans: Counter<'jail' | 'kind' | 'origin'>;
  private readonly unbans: Counter<'jail' | 'kind' | 'reason'>;
  private readonly actionRuns: Counter<'jail' | 'action' | 'op'>;
  private readonly actionFailures: Counter<'jail' | 'action' | 'op'>;
  private readonly actionLatency: Histogram<'jail' | 'action' | 'op'>;
  private readonly commitSeconds: Histogram<string>;
  private readonly clock: Clock;
  private readonly log: MetricsLogger | undefined;
  private server: Server | undefined;
  private serving: MetricsConfig | null = null;

  constructor(opts: DaemonMetricsOptions) {
    this.clock = opts.clock;
    this.log = opts.logger;
    const view = opts.view;
    const registers = [this.registry];
    const positions = this.positions;
    new Gauge({ name: 'pban_build_info', help: 'pban version (always 1)', labelNames: ['version'], registers }).set({ version: VERSION }, 1);
    const { read, matched, failures } = this;
    new Counter({
      name: 'pban_source_lines_read_total',
      help: 'Log lines read, per source (a logpath pattern or a journal selection)',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [source, n] of read) this.inc({ source }, n);
      },
    });
    new Counter({
      name: 'pban_source_lines_matched_total',
      help: 'Lines that at least one jail matched as a failure, per source',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [source, n] of matched) this.inc({ source }, n);
      },
    });
    new Gauge({
      name: 'pban_source_lag_bytes',
      help: 'Bytes written to followed files and not yet read and committed (file size minus position); files only',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [source, files] of positions) {
          let lag = 0;
          for (const pos of files.values()) {
            let st: { ino: number; size: number } | null = null;
            try {
              st = statSync(pos.path);
            } catch {
              // gone for now (rotation in progress): nothing to read from it
            }
            lag += lagBytes(pos, st);
          }
          this.set({ source }, lag);
        }
      },
    });
    new Counter({
      name: 'pban_failures_total',
      help: 'Failures (matched lines) per jail and filter kind, ignored and already-banned ones included',
      labelNames: ['jail', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const [jail, kinds] of failures) for (const [kind, n] of kinds) this.inc({ jail, kind }, n);
      },
    });
    this.bans = new Counter({ name: 'pban_bans_total', help: 'Bans per jail, target kind (address or network) and origin (jail or manual)', labelNames: ['jail', 'kind', 'origin'], registers });
    this.unbans = new Counter({ name: 'pban_unbans_total', help: 'Lifted bans per jail, target kind and reason (expired, manual, jail-removed)', labelNames: ['jail', 'kind', 'reason'], registers });
    new Gauge({
      name: 'pban_active_bans',
      help: 'Bans in force per jail and target kind',
      labelNames: ['jail', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const j of view.jails()) {
          this.set({ jail: j.name, kind: 'address' }, j.bannedAddresses);
          this.set({ jail: j.name, kind: 'network' }, j.bannedNetworks);
        }
      },
    });
    new Gauge({
      name: 'pban_action_healthy',
      help: '1 when the action\'s last firewall operation succeeded, 0 while it is failing and being repaired',
      labelNames: ['jail', 'action'],
      registers,
      collect() {
        this.reset();
        for (const j of view.jails()) for (const a of j.actions) this.set({ jail: j.name, action: a.name }, a.healthy ? 1 : 0);
      },
    });
    this.actionRuns = new Counter({ name: 'pban_action_runs_total', help: 'Ban and unban operations handed to an action', labelNames: ['jail', 'action', 'op'], registers });
    this.actionFailures = new Counter({
      name: 'pban_action_failures_total',
      help: 'Failed firewall operations per action and operation (ban, unban, start, check, repair, flush, stop)',
      labelNames: ['jail', 'action', 'op'],
      registers,
    });
    this.actionLatency = new Histogram({
      name: 'pban_action_latency_seconds',
      help: 'From the ban (or unban) decision to the action\'s completion, store commit and queueing included',
      labelNames: ['jail', 'action', 'op'],
      buckets: ACTION_BUCKETS,
      registers,
    });
    this.commitSeconds = new Histogram({ name: 'pban_store_commit_seconds', help: 'Duration of one store commit (one SQLite transaction)', buckets: COMMIT_BUCKETS, registers });
  }

  /** One batch of a source: lines read, lines some jail matched, and where the source now stands. */
  batch(source: string, read: number, matched: number, position: SourcePosition): void {
    // Both series exist from a source's first batch, so a rate of matched lines starts at 0.
    this.read.set(source, (this.read.get(source) ?? 0) + read);
    this.matched.set(source, (this.matched.get(source) ?? 0) + matched);
    if (position.path === JOURNAL_POSITION_PATH) return;
    let files = this.positions.get(source);
    if (files === undefined) this.positions.set(source, (files = new Map()));
    files.set(position.path, position);
  }

  /**
   * A file source starts from these stored positions: its lag is reported from now on (a file
   * with no position yet counts as nothing unread until the follower reports where it starts).
   */
  sourceStarted(source: string, stored: readonly SourcePosition[]): void {
    const files = new Map<string, SourcePosition>();
    for (const p of stored) if (p.path !== JOURNAL_POSITION_PATH) files.set(p.path, p);
    this.positions.set(source, files);
  }

  /** Sources are rebuilt (reload, stop): sources that are gone report no lag. */
  sourcesStopped(): void {
    this.positions.clear();
  }

  failure(jail: string, kind: string): void {
    let kinds = this.failures.get(jail);
    if (kinds === undefined) this.failures.set(jail, (kinds = new Map()));
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }

  banned(b: Ban): void {
    this.bans.inc({ jail: b.jail, kind: targetKind(b.target), origin: b.kind === 'manual' ? 'manual' : 'jail' });
  }

  lifted(b: Ban, reason: LiftReason): void {
    this.unbans.inc({ jail: b.jail, kind: targetKind(b.target), reason });
  }

  /** An operation handed to an action at `decidedAt` (the daemon's clock); observed when it settles. */
  action(jail: string, action: string, op: ActionOp, decidedAt: number, done: Promise<unknown>): void {
    this.actionRuns.inc({ jail, action, op });
    const observe = (): void => {
      this.actionLatency.observe({ jail, action, op }, Math.max(0, this.clock.now() - decidedAt) / 1000);
    };
    done.then(observe, observe);
  }

  /** A firewall operation that failed (the runner retries it; pban_action_healthy shows the state). */
  actionFailed(jail: string, action: string, op: string): void {
    this.actionFailures.inc({ jail, action, op });
  }

  /** Runs one store commit and records how long it took. */
  commit<T>(fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.commitSeconds.observe((performance.now() - t0) / 1000);
    }
  }

  /** The text Prometheus scrapes. The process metrics are added once something serves them. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Adds prom-client's process metrics (CPU, memory, file descriptors, event loop lag, GC). */
  enableProcessMetrics(): void {
    if (this.defaultsOn) return;
    this.defaultsOn = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Serves /metrics on `cfg` (null: not at all). The same address again changes nothing; a new
   * one replaces the old. If the new one cannot be bound, the old one is bound again and the
   * error (a ConfigError naming the config line) is thrown.
   */
  async serve(cfg: MetricsConfig | null): Promise<void> {
    if (cfg?.listen.text === this.serving?.listen.text) return;
    const old = this.serving;
    await this.close();
    if (cfg === null) return;
    this.enableProcessMetrics();
    try {
      await this.bind(cfg);
    } catch (err) {
      if (old !== null) await this.bind(old).catch(() => undefined);
      throw err;
    }
  }

  private async bind(cfg: MetricsConfig): Promise<void> {
    const onError = (err: unknown): void => this.log?.error({ err }, 'metrics.failed');
    this.server = await listenMetrics(cfg, { contentType: this.registry.contentType, text: () => this.text() }, onError);
    this.serving = cfg;
    this.log?.info({ address: cfg.listen.text, path: '/metrics' }, 'metrics.listening');
  }

  /** Stops serving (the counters are kept). */
  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.serving = null;
    if (s !== undefined) await closeServer(s);
  }
}
