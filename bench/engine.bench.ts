// Engine + store throughput and memory. Each scenario runs in its own process so its peak RSS
// is its own. Run: node .build/<dir>/bench/engine.bench.js [scenario]
//   mixed      1M failures from 60k addresses in 2k networks (v4 + v6), subnets on, bans happen
//   distinct   1M distinct failing addresses, all inside findtime (the 400 MB case)
//   engine     the mixed workload through the engine only (no store)
//   engine-distinct  the distinct workload through the engine only
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Jail } from '../src/engine/jail.js';
import type { JailPolicy } from '../src/engine/policy.js';
import { openStore } from '../src/store/index.js';
import type { Address, Failure } from '../src/events.js';

const N = Number(process.env.PBAN_BENCH_FAILURES ?? 1_000_000);
const COMMIT_EVERY = 10_000;

const policy: JailPolicy = {
  name: 'postfix',
  findtime: 600_000,
  maxretry: 5,
  bantime: 3_600_000,
  increment: { enabled: true, factor: 2, maxtime: 604_800_000, remember: 604_800_000 },
  subnet: { enabled: true, ipv4Prefix: 24, ipv6Prefix: 64, maxretry: 20, minAddresses: 3, bantime: 21_600_000 },
  ignore: [{ addr: '127.0.0.0' as Address, prefix: 8, family: 4 }],
};

/** Module-level sink so the work cannot be optimised away. */
export let sink = 0;

function mixedAddress(i: number): [string, 4 | 6] {
  // Deterministic spread: 2,000 networks, 30 hosts each; one in eight is IPv6. One failure in
  // five comes from 300 persistent attackers, who get banned, re-banned and lifted.
  let h = Math.imul(i, 2654435761) >>> 0;
  if (h % 5 === 0) h = (h >>> 3) % 300;
  const net = h % 2000;
  const host = (h >>> 11) % 30;
  if (net % 8 === 0) return [`2001:db8:${(net >> 8).toString(16)}:${(net & 255).toString(16)}::${(host + 1).toString(16)}`, 6];
  return [`10.${net >> 8}.${net & 255}.${host + 1}`, 4];
}

function distinctAddress(i: number): [string, 4 | 6] {
  return [`${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.${(i * 7) & 255}`, 4];
}

/** A matched line of typical length (the daemon passes each failure's line to observe). */
const LINE = 'Nov 30 10:00:00 mail postfix/submission/smtpd[77]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=bob';

function run(scenario: string): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-bench-'));
  const useStore = !scenario.startsWith('engine');
  const store = useStore ? openStore(path.join(dir, 'bench.sqlite')) : null;
  const distinct = scenario.endsWith('distinct');
  const jail = new Jail(distinct ? { ...policy, findtime: 86_400_000 } : policy);
  const addressOf = distinct ? distinctAddress : mixedAddress;
  const t0 = 1_700_000_000_000;
  // Spread 1M failures over ~8 h of log (about 35 per second), as on a busy server under attack.
  const step = distinct ? 50 : 29;
  let bans = 0;
  let lifts = 0;
  let commitMs = 0;
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    const [ip, family] = addressOf(i);
    const f: Failure = { time: t0 + i * step, ip: ip as Address, family, filter: 'postfix', kind: 'sasl', fields: {} };
    lifts += jail.expire(f.time).length;
    // The line is traced as in the daemon (the store keeps each target's last lines).
    const d = jail.observe(f, Infinity, LINE, 0, 'sasl');
    if (d.type === 'ban') bans += d.bans.length;
    if (store === null) {
      if (i % COMMIT_EVERY === COMMIT_EVERY - 1) sink += jail.takeChanges().failures.seq.length;
    } else if (i % COMMIT_EVERY === COMMIT_EVERY - 1) {
      const c0 = performance.now();
      store.commit({ jails: [jail.takeChanges()], positions: [{ sourceId: 'bench', path: 'bench', inode: 1, offset: i, firstLineHash: '' }] });
      commitMs += performance.now() - c0;
    }
  }
  if (store !== null) {
    const c0 = performance.now();
    store.commit({ jails: [jail.takeChanges()] });
    commitMs += performance.now() - c0;
  }
  const secs = (performance.now() - start) / 1000;
  const st = jail.status();
  sink += st.totalFailed;
  const rssMB = process.resourceUsage().maxRSS / 1024;
  const stored = store?.totals()[0]?.storedFailures ?? 0;
  store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      scenario,
      failures: N,
      seconds: Number(secs.toFixed(2)),
      failuresPerSecond: Math.round(N / secs),
      commitSeconds: Number((commitMs / 1000).toFixed(2)),
      peakRssMB: Math.round(rssMB),
      heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1048576),
      failing: st.failing,
      bans,
      lifts,
      storedFailures: stored,
      node: process.version,
    }),
  );
}

const which = process.argv[2];
if (which !== undefined) run(which);
else {
  const self = fileURLToPath(import.meta.url);
  for (const s of ['engine', 'mixed', 'engine-distinct', 'distinct']) {
    const r = spawnSync(process.execPath, [self, s], { stdio: 'inherit' });
    if (r.status !== 0) process.exitCode = 1;
  }
}
