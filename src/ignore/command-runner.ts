// Runs a jail's `ignorecommand` (see command-spec.ts) and keeps its verdicts. The daemon asks
// for the verdicts of a batch's addresses before the jail counts them, so an ignored client is
// never counted, not even as one of its network's distinct addresses. Verdicts are cached per
// address for a bounded time and count, the same address is never asked twice at once, and at
// most a few programs run together: a flood of failures does not become a flood of processes.
import type { Clock } from '../clock.js';
import { SpawnExecutor, type Executor } from '../actions/executor.js';
import { IGNORE_CACHE_ENTRIES, IGNORE_CONCURRENCY, ignoreArgv, ignoreVerdict, type IgnoreCommandSpec } from './command-spec.js';

export interface IgnoreLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export class IgnoreCommand {
  /** address → verdict and when it expires; Map order is insertion order, oldest first. */
  private readonly cache = new Map<string, { ignore: boolean; until: number }>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Programs started since the runner was built (tests and `pban status` read it). */
  runs = 0;

  constructor(
    readonly spec: IgnoreCommandSpec,
    private readonly deps: { readonly jail: string; readonly clock: Clock; readonly log: IgnoreLogger; readonly executor?: Executor },
  ) {}

  /** The cached verdict: true to ignore, false to count, undefined when not asked yet (or expired). */
  verdict(ip: string): boolean | undefined {
    const v = this.cache.get(ip);
    if (v === undefined) return undefined;
    if (v.until <= this.deps.clock.now()) {
      this.cache.delete(ip);
      return undefined;
    }
    return v.ignore;
  }

  /**
   * Asks for every address without a cached verdict; resolves when all have one, or at once
   * when `signal` aborts (the daemon is stopping): running programs are killed, nothing cached.
   */
  async resolve(ips: Iterable<string>, signal?: AbortSignal): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const ip of new Set(ips)) {
      if (this.verdict(ip) !== undefined) continue;
      let p = this.inFlight.get(ip);
      if (p === undefined) {
        p = this.ask(ip, signal).finally(() => this.inFlight.delete(ip));
        this.inFlight.set(ip, p);
      }
      pending.push(p);
    }
    await Promise.all(pending);
  }

  private async ask(ip: string, signal?: AbortSignal): Promise<void> {
    if (this.running >= IGNORE_CONCURRENCY) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      if (signal?.aborted) return;
      const argv = ignoreArgv(this.spec.argv, ip);
      this.runs++;
      const exec = this.deps.executor ?? new SpawnExecutor();
      const r = await exec.run(argv, undefined, { timeoutMs: this.spec.timeoutMs, signal });
      if (signal?.aborted) return;
      const v = ignoreVerdict(r.status);
      if (v === 'error') {
        this.deps.log.warn(
          { event: 'ignorecommand.failed', jail: this.deps.jail, ip, argv, status: r.status, stderr: r.stderr.trim().slice(0, 500) },
          `ignorecommand for ${ip} failed (exit ${r.status ?? 'none'}): the address counts`,
        );
      } else {
        this.deps.log.debug({ event: 'ignorecommand.verdict', jail: this.deps.jail, ip, verdict: v }, 'ignorecommand');
      }
      this.remember(ip, v === 'ignore');
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private remember(ip: string, ignore: boolean): void {
    this.cache.delete(ip);
    this.cache.set(ip, { ignore, until: this.deps.clock.now() + this.spec.cacheMs });
    while (this.cache.size > IGNORE_CACHE_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }
}
