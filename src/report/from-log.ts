// `pban report LOG…`: the logs go through the config's jails by replay() itself, the same pass
// `pban replay` makes, with an observer that hands every line, failure and ban to a
// ReportBuilder. Nothing is matched or decided here.
import type { PbanConfig } from '../config/index.js';
import type { CompiledFilter } from '../filters/index.js';
import { zoneFor } from '../filters/index.js';
import { replay } from '../replay.js';
import { parseTarget } from '../cidr.js';
import type { Report } from './model.js';
import { ReportBuilder, nearThreshold, type BuilderOptions } from './aggregate.js';
import { parseConnect } from './connect-line.js';
import { reportPrefixes } from './prefixes.js';

export interface LogReportOptions extends BuilderOptions {
  readonly jail?: string;
  readonly now: number;
  readonly filters?: ReadonlyMap<string, CompiledFilter>;
  readonly onProgress?: (lines: number, bytes: number) => void;
}

export function reportFromLogs(config: PbanConfig, logs: readonly string[], opts: LogReportOptions): Report {
  const jails = opts.jail === undefined ? config.jails.filter((j) => j.enabled) : config.jails.filter((j) => j.name === opts.jail);
  const b = new ReportBuilder({ ...opts, prefixes: opts.prefixes ?? reportPrefixes(jails.map((j) => j.policy)) });
  for (const j of jails) b.addJail(j.name);
  const zone = zoneFor(config.pban.timezone);
  const now = opts.now;
  let lastLine = 0;
  // Connections are counted by time only when a period was asked for.
  const dated = (opts.since ?? null) !== null || (opts.until ?? null) !== null;
  const result = replay(config, logs, {
    jail: opts.jail,
    now,
    filters: opts.filters,
    until: opts.until ?? undefined,
    onProgress: opts.onProgress,
    observer: {
      line(text) {
        const c = parseConnect(text, zone, now, dated);
        if (c !== null) b.addConnect(c.time, c.address);
      },
      failure(jail, f, d, line) {
        // Ignored (ignoreip, allowed names, too late for any window): not part of the attack.
        if (d.type === 'none' && d.reason === 'ignored') return;
        // Two jails matching one line are one failure for the report (the first jail's kind).
        if (line === lastLine) return;
        lastLine = line;
        b.addFailure({
          jail,
          time: f.time,
          address: f.ip,
          family: f.family,
          kind: f.kind,
          name: f.client,
          user: f.fields['user'],
          whileBanned: d.type === 'none' && d.reason === 'already-banned',
        });
      },
      end(js) {
        b.setNearThreshold(
          nearThreshold(
            js.map(({ name, jail }) => ({
              name,
              maxretry: jail.policy.maxretry,
              subnet: jail.policy.subnet,
              windows: jail.windows(Math.ceil(jail.policy.maxretry / 2)),
              isBanned: (t) => jail.isTargetBanned(t),
            })),
          ),
        );
      },
    },
  });
  for (const e of result.events) {
    if (e.event !== 'ban') continue;
    const t = parseTarget(e.target);
    if ('error' in t) continue;
    b.addBan({ jail: e.jail, time: e.time, target: t, kind: e.kind === 'network' ? 'network' : e.kind === 'manual' ? 'manual' : 'address' });
  }
  return b.build({ source: { kind: 'log', files: [...logs], lines: result.lines, notes: [] }, generatedAt: now });
}
