// A small in-memory daemon behind the control socket, for tests and the CLI benchmark: real
// maps of jails and bans that ban/unban/reload really change, so replies are computed, not canned.
import { ConfigError, ControlError } from '../../src/errors.js';
import type { Ban, Target } from '../../src/events.js';
import { targetToString } from '../../src/events.js';
import type { Clock } from '../../src/clock.js';
import type { ControlHandlers, JailStatusData, UnbanSelector } from '../../src/control/handlers.js';
import type { ActionHealth, DaemonStatus, ReloadReply, VersionReply } from '../../src/control/types.js';

export interface JailSetup {
  readonly name: string;
  readonly filter: string;
  readonly sources: readonly string[];
  /** null: permanent. */
  readonly bantime: number | null;
  readonly actions?: readonly ActionHealth[];
}

interface JailState {
  setup: JailSetup;
  currentlyFailed: number;
  totalFailed: number;
  totalBanned: number;
  /** Insertion order = ban order, keyed by CIDR. */
  bans: Map<string, Ban>;
}

export class MemoryHandlers implements ControlHandlers {
  private jails = new Map<string, JailState>();
  /** Bans ever made per jail+target, for the ban number. */
  private history = new Map<string, number>();
  readonly startedAt: number;
  linesRead = 0;
  stopCalls = 0;
  /** What the next reload() reads: a jail list, or a config error to refuse. */
  nextConfig: readonly JailSetup[] | ConfigError | null = null;
  /** When set, status() throws it: to test how the server handles a handler bug. */
  statusFault: Error | null = null;

  constructor(
    private readonly clock: Clock,
    jails: readonly JailSetup[],
  ) {
    this.startedAt = clock.now();
    for (const j of jails) this.jails.set(j.name, { setup: j, currentlyFailed: 0, totalFailed: 0, totalBanned: 0, bans: new Map() });
  }

  private jail(name: string): JailState {
    const j = this.jails.get(name);
    if (!j) throw new ControlError('jail.unknown', `unknown jail "${name}" (jails: ${[...this.jails.keys()].join(', ')})`);
    return j;
  }

  /** Records a ban as the engine would (used to seed state). */
  addBan(ban: Ban): void {
    const j = this.jail(ban.jail);
    j.bans.set(targetToString(ban.target), ban);
    j.totalBanned++;
    const key = `${ban.jail} ${targetToString(ban.target)}`;
    this.history.set(key, Math.max(this.history.get(key) ?? 0, ban.banNumber));
  }

  recordFailures(jail: string, addresses: number, failures: number): void {
    const j = this.jail(jail);
    j.currentlyFailed = addresses;
    j.totalFailed += failures;
    this.linesRead += failures;
  }

  /** Drops bans whose time is up, as the scheduler would. */
  private expire(): void {
    const now = this.clock.now();
    for (const j of this.jails.values()) {
      for (const [k, b] of j.bans) if (b.until !== null && b.until <= now) j.bans.delete(k);
    }
  }

  status(): DaemonStatus {
    if (this.statusFault) throw this.statusFault;
    this.expire();
    const now = this.clock.now();
    const uptimeMs = now - this.startedAt;
    return {
      version: '0.1.0-test',
      pid: process.pid,
      startedAt: this.startedAt,
      uptimeMs,
      linesRead: this.linesRead,
      linesPerSecond: uptimeMs > 0 ? this.linesRead / (uptimeMs / 1000) : 0,
      health: { ok: true, problems: [] },
      jails: [...this.jails.values()].map((j) => {
        let networks = 0;
        for (const b of j.bans.values()) if (b.target.prefix !== (b.target.family === 4 ? 32 : 128)) networks++;
        return {
          name: j.setup.name,
          filter: j.setup.filter,
          sources: j.setup.sources,
          currentlyFailing: j.currentlyFailed,
          totalFailed: j.totalFailed,
          currentlyBanned: { addresses: j.bans.size - networks, networks },
          totalBanned: j.totalBanned,
          actions: j.setup.actions ?? [],
        };
      }),
    };
  }

  jailStatus(name: string): JailStatusData {
    this.expire();
    const j = this.jail(name);
    return {
      name,
      filter: j.setup.filter,
      sources: j.setup.sources,
      currentlyFailed: j.currentlyFailed,
      totalFailed: j.totalFailed,
      totalBanned: j.totalBanned,
      banned: [...j.bans.values()].map((b) => b.target),
    };
  }

  banned(jail?: string): Iterable<Ban> {
    const list = jail === undefined ? [...this.jails.values()] : [this.jail(jail)];
    const now = this.clock.now();
    const out: Ban[] = [];
    // Expired bans are skipped here and dropped by the next status(), as a scheduler would.
    for (const j of list) for (const b of j.bans.values()) if (b.until === null || b.until > now) out.push(b);
    return out;
  }

  ban(jail: string, target: Target, timeMs: number | null | undefined): Ban {
    const j = this.jail(jail);
    const now = this.clock.now();
    const duration = timeMs === undefined ? j.setup.bantime : timeMs;
    const key = `${jail} ${targetToString(target)}`;
    const banNumber = (this.history.get(key) ?? 0) + 1;
    const ban: Ban = { target, jail, kind: 'manual', created: now, until: duration === null ? null : now + duration, failures: 0, banNumber };
    this.addBan(ban);
    return ban;
  }

  unban(which: UnbanSelector, jail?: string): Ban[] {
    const list = jail === undefined ? [...this.jails.values()] : [this.jail(jail)];
    const lifted: Ban[] = [];
    for (const j of list) {
      if ('all' in which) {
        lifted.push(...j.bans.values());
        j.bans.clear();
        continue;
      }
      for (const t of which.targets) {
        const k = targetToString(t);
        const b = j.bans.get(k);
        if (b) {
          lifted.push(b);
          j.bans.delete(k);
        }
      }
    }
    return lifted;
  }

  reload(): ReloadReply {
    const next = this.nextConfig;
    if (next instanceof ConfigError) throw next;
    if (next === null) return { jails: [...this.jails.keys()], added: [], removed: [], lifted: 0 };
    const names = new Set(next.map((j) => j.name));
    const removed = [...this.jails.keys()].filter((n) => !names.has(n));
    const added = next.filter((j) => !this.jails.has(j.name)).map((j) => j.name);
    let lifted = 0;
    for (const n of removed) {
      lifted += this.jail(n).bans.size;
      this.jails.delete(n);
    }
    for (const j of next) {
      const cur = this.jails.get(j.name);
      if (cur) cur.setup = j;
      else this.jails.set(j.name, { setup: j, currentlyFailed: 0, totalFailed: 0, totalBanned: 0, bans: new Map() });
    }
    return { jails: [...this.jails.keys()], added, removed, lifted };
  }

  stop(): void {
    this.stopCalls++;
  }

  version(): VersionReply {
    return { version: '0.1.0-test', protocol: 1, node: process.version, pid: process.pid };
  }
}
