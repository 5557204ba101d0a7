// `pban replay`: runs log files through the jails of a config offline. The lines' own
// timestamps are the clock, no action runs, and every ban and unban is reported as an event.
// Like daemon.ts this is a composition root: it wires config, filters, engine and store.
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Ban, Decision, ExplainedBan, Failure, MatchTrace } from './events.js';
import { kindsOf, targetToString } from './events.js';
import type { JailConfig, PbanConfig } from './config/index.js';
import { loadFilter, type CompiledFilter } from './filters/index.js';
import { banAsFailure, BANS_FILTER, BANS_SOURCE, countsAsRecidive } from './recidive.js';
import { Jail, type Lift } from './engine/index.js';
import { openStore, type Store } from './store/index.js';
import { readLineChunks } from './sources/read-lines.js';
import { UsageError } from './errors.js';
import { systemClock } from './clock.js';

export interface ReplayEvent {
  readonly event: 'ban' | 'unban';
  readonly jail: string;
  /** CIDR, always with its prefix. */
  readonly target: string;
  readonly kind: Ban['kind'];
  readonly time: number;
  readonly until: number | null;
  readonly failures: number;
  readonly banNumber: number;
  /** With `explain`, for a ban: the matched lines behind it (oldest first, at most 10) and their kinds. */
  readonly lines?: readonly MatchTrace[];
  readonly kinds?: readonly string[];
}

export interface ReplayJailSummary {
  readonly name: string;
  readonly filter: string;
  readonly matched: number;
  readonly bans: number;
  readonly unbans: number;
}

export interface ReplayResult {
  readonly lines: number;
  readonly bytes: number;
  /** Newest failure time seen (ms), or null when nothing matched. */
  readonly end: number | null;
  readonly jails: readonly ReplayJailSummary[];
  /** Every event, in time order (stable for equal times). */
  readonly events: readonly ReplayEvent[];
}

export interface ReplayOptions {
  /** Only this jail (default: every enabled jail). */
  jail?: string;
  /** Keep the store in this file; default: a temporary one, removed afterwards. */
  database?: string;
  /** Reference time for year-less dates (default: now). */
  now?: number;
  /** Filters already compiled for the config's time zone, by spec (default: compile each here). */
  filters?: ReadonlyMap<string, CompiledFilter>;
  /** Called after each chunk read (some thousand lines) with the lines and bytes read so far. */
  onProgress?: (lines: number, bytes: number) => void;
  /** Give each ban event the lines behind it (those the jail attached, which the store keeps). */
  explain?: boolean;
  /** Failures dated at or after this (ms) are not counted: the replay stops there in log time. */
  until?: number;
  /** Sees every line and every failure as the replay goes: how `pban report` reads the same pass. */
  observer?: ReplayObserver;
}

/**
 * Hooks into the replay's one pass over the logs. `line` gets every line (without its newline);
 * `failure` every failure a jail matched with what the jail decided, `line` being the line's
 * number (from 1, across all logs) so a caller can tell two jails matching one line.
 */
export interface ReplayObserver {
  line?(text: string): void;
  failure?(jail: string, f: Failure, decision: Decision, line: number): void;
  /** Called once at the end with each jail's state, before the replay's store is closed. */
  end?(jails: readonly { readonly name: string; readonly jail: Jail }[]): void;
}

interface ReplayJail {
  readonly cfg: JailConfig;
  readonly filter: CompiledFilter;
  readonly jail: Jail;
  matched: number;
  bans: number;
  unbans: number;
}

/** Store commits are batched: the engine's change buffer stays small, the store stays cheap. */
const COMMIT_EVERY_FAILURES = 50_000;

function banEvent(b: Ban): ReplayEvent {
  return { event: 'ban', jail: b.jail, target: targetToString(b.target), kind: b.kind, time: b.created, until: b.until, failures: b.failures, banNumber: b.banNumber };
}

/** A ban event with the lines behind the ban and their kinds (`--explain`). */
function explainedBanEvent(b: ExplainedBan): ReplayEvent {
  const lines = b.matches ?? [];
  return { ...banEvent(b), lines, kinds: b.kinds ?? kindsOf(lines) };
}

function unbanEvent(l: Lift): ReplayEvent {
  const b = l.ban;
  return { event: 'unban', jail: b.jail, target: targetToString(b.target), kind: b.kind, time: l.time, until: b.until, failures: b.failures, banNumber: b.banNumber };
}

function selectJails(config: PbanConfig, only: string | undefined): JailConfig[] {
  if (only !== undefined) {
    const j = config.jails.find((x) => x.name === only);
    if (!j) throw new UsageError(`no jail named "${only}" in ${config.file} (jails: ${config.jails.map((x) => x.name).join(', ') || 'none'})`);
    return [j];
  }
  return config.jails.filter((j) => j.enabled);
}

export function replay(config: PbanConfig, logs: readonly string[], opts: ReplayOptions = {}): ReplayResult {
  const now = opts.now ?? systemClock.now();
  const cfgs = selectJails(config, opts.jail);
  const tmpDir = opts.database === undefined ? mkdtempSync(path.join(os.tmpdir(), 'pban-replay-')) : undefined;
  const store: Store = openStore(opts.database ?? path.join(tmpDir!, 'replay.sqlite'), { synchronous: 'off' });
  const events: ReplayEvent[] = [];
  const until = opts.until ?? Infinity;
  const onLine = opts.observer?.line;
  const onFailure = opts.observer?.failure;
  let lines = 0;
  let bytes = 0;
  let end: number | null = null;
  try {
    const jails: ReplayJail[] = cfgs.map((cfg) => {
      const filter = cfg.source === BANS_SOURCE ? BANS_FILTER : (opts.filters?.get(cfg.filter) ?? loadFilter(cfg.filter, { timezone: config.pban.timezone }));
      const snap = store.loadJail(cfg.name, { findtime: cfg.policy.findtime, remember: cfg.policy.increment.remember });
      return { cfg, filter, jail: Jail.restore(cfg.policy, snap, filter.countsForNetwork), matched: 0, bans: 0, unbans: 0 };
    });
    const commit = (): void => store.commit({ jails: jails.map((j) => j.jail.takeChanges()) });
    const counters = jails.filter((j) => j.cfg.source === BANS_SOURCE);
    /** A ban, counted by the bans jails (recidive.ts), as the daemon does. */
    const countBan = (b: Ban, by: ReplayJail): void => {
      if (!countsAsRecidive(b, by.cfg.source === BANS_SOURCE)) return;
      for (const r of counters) {
        const d = r.jail.observe(banAsFailure(b), now);
        if (d.type !== 'ban') continue;
        for (const rb of d.bans) {
          r.bans++;
          events.push(banEvent(rb));
        }
      }
    };
    let sinceCommit = 0;

    for (const log of logs) {
      let fd: number;
      try {
        fd = log === '-' ? 0 : openSync(log, 'r');
      } catch (err) {
        throw new UsageError(`${log}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      const stats = { bytes: 0, tooLong: 0 };
      try {
        for (const chunk of readLineChunks(fd, {}, stats)) {
          let p = 0;
          for (let e = chunk.indexOf('\n'); e !== -1; p = e + 1, e = chunk.indexOf('\n', p)) {
            lines++;
            const line = chunk.slice(p, e > p && chunk.charCodeAt(e - 1) === 13 ? e - 1 : e);
            if (onLine !== undefined) onLine(line);
            for (const j of jails) {
              const r = j.filter.match(line, now);
              if (r.type !== 'failure') continue;
              const f = r.failure;
              if (f.time >= until) continue;
              j.matched++;
              // A line dated after `now` counts at `now`, as in the daemon (engine/wall-clock.ts).
              const at = Math.min(f.time, now);
              if (end === null || at > end) end = at;
              // Expiries due by this line's time come first, so events stay in time order.
              if (j.jail.hasExpiries(at)) {
                for (const l of j.jail.expire(at)) {
                  j.unbans++;
                  events.push(unbanEvent(l));
                }
              }
              // The line is traced as in the daemon: the store keeps the last lines of each target.
              const d = j.jail.observe(f, now, line, r.regex, j.filter.regexes[r.regex]?.id ?? '');
              if (onFailure !== undefined) onFailure(j.cfg.name, f, d, lines);
              if (d.type === 'ban') {
                for (const b of d.bans) {
                  j.bans++;
                  // The lines the jail attached to the ban: the ones the store keeps with it.
                  events.push(opts.explain ? explainedBanEvent(b) : banEvent(b));
                  countBan(b, j);
                }
              }
              if (++sinceCommit >= COMMIT_EVERY_FAILURES) {
                commit();
                sinceCommit = 0;
              }
            }
          }
          opts.onProgress?.(lines, bytes + stats.bytes);
        }
      } finally {
        if (fd !== 0) closeSync(fd);
      }
      bytes += stats.bytes;
    }
    // Bans that end within the replayed span are reported as unbans; later ones stay open.
    if (end !== null) {
      for (const j of jails) {
        for (const l of j.jail.expire(end)) {
          j.unbans++;
          events.push(unbanEvent(l));
        }
      }
    }
    commit();
    opts.observer?.end?.(jails.map((j) => ({ name: j.cfg.name, jail: j.jail })));
    // Jails run side by side over the same lines, so their events interleave; a stable sort by
    // time gives one timeline and keeps each jail's own order (ban before the unban it causes).
    events.sort((a, b) => a.time - b.time);
    return {
      lines,
      bytes,
      end,
      jails: jails.map((j) => ({ name: j.cfg.name, filter: j.filter.name + (j.filter.mode ? `[mode=${j.filter.mode}]` : ''), matched: j.matched, bans: j.bans, unbans: j.unbans })),
      events,
    };
  } finally {
    store.close();
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  }
}
