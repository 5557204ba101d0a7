// `pban report --store` (and `--daemon`, which asks the daemon where its store is): the report
// from what the store keeps, read only. The store keeps the failures still inside each jail's
// findtime and the ban history (lifted bans for increment.remember), so the report covers that
// much; it holds no connections, so the hostile share of the traffic is not known.
import type { PbanConfig } from '../config/index.js';
import { Jail } from '../engine/index.js';
import type { Family } from '../events.js';
import { loadFilter, type CompiledFilter } from '../filters/index.js';
import { openStore } from '../store/index.js';
import type { Report } from './model.js';
import { ReportBuilder, nearThreshold, type BuilderOptions, type JailWindows } from './aggregate.js';
import { reportPrefixes } from './prefixes.js';

export interface StoreReportOptions extends BuilderOptions {
  readonly jail?: string;
  readonly now: number;
  readonly database?: string;
  readonly kind?: 'store' | 'daemon';
  readonly filters?: ReadonlyMap<string, CompiledFilter>;
}

export function reportFromStore(config: PbanConfig, opts: StoreReportOptions): Report {
  const file = opts.database ?? config.pban.database;
  const cfgs = opts.jail === undefined ? config.jails.filter((j) => j.enabled) : config.jails.filter((j) => j.name === opts.jail);
  const b = new ReportBuilder({ ...opts, prefixes: opts.prefixes ?? reportPrefixes(cfgs.map((j) => j.policy)) });
  b.connectionsUnknown();
  const store = openStore(file, { readonly: true });
  try {
    const near: JailWindows[] = [];
    for (const cfg of cfgs) {
      b.addJail(cfg.name);
      const filter = opts.filters?.get(cfg.filter) ?? loadFilter(cfg.filter, { timezone: config.pban.timezone });
      const snap = store.loadJail(cfg.name, { findtime: cfg.policy.findtime, remember: cfg.policy.increment.remember });
      const f = snap.failures;
      for (let i = 0; i < f.seq.length; i++) {
        const address = f.address[i]!;
        const family: Family = address.includes(':') ? 6 : 4;
        b.addFailure({ jail: cfg.name, time: f.time[i]!, address, family, kind: f.kind[i]! });
      }
      // The windows as they stand at the end of the period (--until, else now), not at the
      // store's clock (its newest failure, maybe hours ago): failures older than findtime
      // before then have left them, and the bans due by then are lifted.
      const at = opts.until ?? opts.now;
      const cutoff = at - cfg.policy.findtime;
      const keep = f.time.map((t) => t > cutoff);
      const pick = <T>(xs: readonly T[]): T[] => xs.filter((_, i) => keep[i]);
      const recent = { ...snap, failures: { seq: pick(f.seq), time: pick(f.time), address: pick(f.address), kind: pick(f.kind) } };
      const jail = Jail.restore(cfg.policy, recent, filter.countsForNetwork);
      jail.expire(at);
      near.push({
        name: cfg.name,
        maxretry: cfg.policy.maxretry,
        subnet: cfg.policy.subnet,
        windows: jail.windows(Math.ceil(cfg.policy.maxretry / 2)),
        isBanned: (t) => jail.isTargetBanned(t),
      });
    }
    b.setNearThreshold(nearThreshold(near));
    const names = new Set(cfgs.map((j) => j.name));
    for (const ban of store.bansCreated(opts.since ?? undefined, opts.until ?? undefined)) {
      if (names.has(ban.jail)) b.addBan({ jail: ban.jail, time: ban.created, target: ban.target, kind: ban.kind });
    }
  } finally {
    store.close();
  }
  return b.build({
    source: {
      kind: opts.kind ?? 'store',
      database: file,
      notes: [
        'the store keeps only the failures inside each jail\'s findtime, and lifted bans for bantime_increment.remember',
        'the store keeps no connections: the hostile share of the traffic counts failing clients only',
      ],
    },
    generatedAt: opts.now,
  });
}
