// npm run bench:replay — how fast `pban replay` runs the 1,000,000-line benchmark log through an
// aggressive postfix jail with network aggregation and the ban increment on, timed as a user
// would see it: a fresh process each run, process start included, output to /dev/null. Then a
// second log of 1,000,000 failures from 1,000,000 distinct addresses, all inside one findtime,
// to show that memory stays bounded when every address holds a window.
//
// Peak RSS and CPU time come from the child itself: it is started with `node --import
// usage-probe.js`, which prints process.resourceUsage() as it exits (getrusage, the figure
// /usr/bin/time reports as %M), so no extra package is needed on any machine.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPban, type Run } from './run-pban.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { generateLog } from '../test/helpers/generate-log.js';

const LINES = 1_000_000;
const SEED = 1;
const RUNS = 5;
const DISTINCT = 1_000_000;
const DISTINCT_RUNS = 3;
const TARGET_LINES_PER_S = 1_000_000;
const TARGET_RSS_MB = 200;
const TARGET_DISTINCT_RSS_MB = 400;
/** fail2ban-regex on this kind of machine, postfix filter (/work/shared/notes/fail2ban.md: 45–54 k lines/s). */
const FAIL2BAN_REGEX_LINES_PER_S = 50_000;

const DATA = path.join(PACKAGE_ROOT, 'bench', 'data');

// A fixed start makes the log, and so every replay of it, the same bytes each time. It is
// 1 January of the current year (UTC) rather than a constant date because half the lines carry
// BSD syslog dates without a year: pban reads those as the latest year that is not in the
// future, so a log dated in another year would read back with its BSD lines a year off.
const START = new Date(Date.UTC(new Date().getUTCFullYear(), 0, 1));
const STAMP = START.toISOString().slice(0, 10);
const LOG = path.join(DATA, `replay-${LINES}-seed${SEED}-${STAMP}.log`);
const DISTINCT_LOG = path.join(DATA, `replay-${LINES}-distinct${DISTINCT}-seed${SEED}-${STAMP}.log`);

const CONFIG = `# written by bench/replay.bench.ts
[pban]
timezone = "system"   # the generator writes BSD dates in local time, as syslog does

[defaults]
findtime = "10m"
maxretry = 5
bantime = "1h"
ignoreip = ["127.0.0.0/8", "::1"]
action = ["dry-run"]

[defaults.bantime_increment]
enabled = true
factor = 2
maxtime = "1w"

[defaults.subnet]
enabled = true
ipv4_prefix = 24
ipv6_prefix = 64
maxretry = 20
min_addresses = 3
bantime = "6h"

[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ["/var/log/mail.log"]
`;

const run = (args: string[], capture = false): Run => runPban(args, capture);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const n = (x: number): string => Math.round(x).toLocaleString('en-US');
const say = (s: string): void => {
  process.stdout.write(s + '\n');
};
const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');

function runLine(label: string, r: Run, lines: number): string {
  return `${label}: ${r.wall.toFixed(3)} s wall (${n(lines / r.wall)} lines/s), ${r.cpu.toFixed(3)} s user+sys, peak RSS ${r.rssMB.toFixed(0)} MB`;
}

async function ensureLog(file: string, distinctFailing?: number): Promise<void> {
  if (existsSync(file)) return;
  mkdirSync(DATA, { recursive: true });
  say(`generating ${file} …`);
  const tmp = `${file}.tmp-${process.pid}`;
  await generateLog({ lines: LINES, seed: SEED, out: tmp, start: START, ...(distinctFailing === undefined ? {} : { distinctFailing }) });
  // Renamed into place only when complete, so an interrupted run never leaves a short log cached.
  renameSync(tmp, file);
}

async function main(): Promise<void> {
  await ensureLog(LOG);
  await ensureLog(DISTINCT_LOG, DISTINCT);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-bench-replay-'));
  try {
    const cfg = path.join(dir, 'pban.toml');
    writeFileSync(cfg, CONFIG);
    say(`log: ${LOG} (${(statSync(LOG).size / 1e6).toFixed(1)} MB, ${n(LINES)} lines)`);
    say(`config: postfix[mode=aggressive], findtime 10m, maxretry 5, subnets /24 /64 (20 failures, 3 addresses), bantime_increment on`);
    say(`node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);

    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = run(['replay', '-c', cfg, LOG, '--json']);
      runs.push(r);
      say(runLine(`--json run ${i + 1}`, r, LINES));
    }
    const table = run(['replay', '-c', cfg, LOG], true);
    say(runLine('table run  ', table, LINES));
    for (const l of table.stdout.split('\n')) if (/^(jail |\d+ lines read)/.test(l)) say(`  ${l}`);

    const wall = median(runs.map((r) => r.wall));
    const cpu = median(runs.map((r) => r.cpu));
    const rate = LINES / wall;
    const rss = Math.max(table.rssMB, ...runs.map((r) => r.rssMB));
    say(`\npban replay --json, process start included, median of ${RUNS}:`);
    say(`  ${wall.toFixed(3)} s wall = ${n(rate)} lines/s; ${cpu.toFixed(3)} s user+sys CPU = ${n(LINES / cpu)} lines per CPU-second`);
    say(`  ${(rate / FAIL2BAN_REGEX_LINES_PER_S).toFixed(1)}x fail2ban-regex (~${n(FAIL2BAN_REGEX_LINES_PER_S)} lines/s on this kind of machine, matching only)`);
    say(`  peak RSS ${rss.toFixed(0)} MB (max over all runs)`);
    say(`  target >= ${n(TARGET_LINES_PER_S)} lines/s: ${verdict(rate >= TARGET_LINES_PER_S)}; RSS <= ${TARGET_RSS_MB} MB: ${verdict(rss <= TARGET_RSS_MB)}`);

    say(`\nlog: ${DISTINCT_LOG} (${(statSync(DISTINCT_LOG).size / 1e6).toFixed(1)} MB, ${n(DISTINCT)} failures from distinct addresses, all within 5 minutes)`);
    const druns: Run[] = [];
    for (let i = 0; i < DISTINCT_RUNS; i++) {
      const r = run(['replay', '-c', cfg, DISTINCT_LOG, '--json']);
      druns.push(r);
      say(runLine(`--json run ${i + 1}`, r, LINES));
    }
    const drss = Math.max(...druns.map((r) => r.rssMB));
    say(`  median ${median(druns.map((r) => r.wall)).toFixed(3)} s wall, ${median(druns.map((r) => r.cpu)).toFixed(3)} s user+sys; peak RSS ${drss.toFixed(0)} MB`);
    say(`  target RSS <= ${TARGET_DISTINCT_RSS_MB} MB: ${verdict(drss <= TARGET_DISTINCT_RSS_MB)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
