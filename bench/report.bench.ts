// npm run bench:report — `pban report` on the 1,000,000-line benchmark log (the one
// bench/replay.bench.ts uses, same generator, seed and start), through the same aggressive
// postfix jail, timed as a user sees it: a fresh process each run, process start included.
// Target: under 3 s. Runs: the terminal report, --json, and --html to a file.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPban, type Run } from './run-pban.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { generateLog } from '../test/helpers/generate-log.js';

const LINES = 1_000_000;
const SEED = 1;
const RUNS = 3;
const TARGET_S = 3;

const DATA = path.join(PACKAGE_ROOT, 'bench', 'data');
// As in replay.bench.ts: 1 January of this year, so the log (and its cache file) is shared.
const START = new Date(Date.UTC(new Date().getUTCFullYear(), 0, 1));
const LOG = path.join(DATA, `replay-${LINES}-seed${SEED}-${START.toISOString().slice(0, 10)}.log`);

const CONFIG = `# written by bench/report.bench.ts (the jail of bench/replay.bench.ts)
[pban]
timezone = "system"
[defaults]
findtime = "10m"
maxretry = 5
bantime = "1h"
ignoreip = ["127.0.0.0/8", "::1"]
ignoreself = false
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

const run = (args: string[], capture = false): Run => runPban(args, capture, { ...process.env, LANG: 'C.UTF-8' });

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const say = (s: string): void => {
  process.stdout.write(s + '\n');
};
const line = (label: string, r: Run): string => `${label}: ${r.wall.toFixed(3)} s wall, ${r.cpu.toFixed(3)} s user+sys, peak RSS ${r.rssMB.toFixed(0)} MB`;

async function main(): Promise<void> {
  if (!existsSync(LOG)) {
    mkdirSync(DATA, { recursive: true });
    say(`generating ${LOG} …`);
    const tmp = `${LOG}.tmp-${process.pid}`;
    await generateLog({ lines: LINES, seed: SEED, out: tmp, start: START });
    renameSync(tmp, LOG);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-bench-report-'));
  try {
    const cfg = path.join(dir, 'pban.toml');
    writeFileSync(cfg, CONFIG);
    say(`log: ${LOG} (${(statSync(LOG).size / 1e6).toFixed(1)} MB, ${LINES.toLocaleString('en-US')} lines)`);
    say(`node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    const all: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = run(['report', '-c', cfg, LOG]);
      all.push(r);
      say(line(`terminal run ${i + 1}`, r));
    }
    const json = run(['report', '-c', cfg, '--json', LOG], true);
    all.push(json);
    say(line('--json run    ', json));
    const html = path.join(dir, 'report.html');
    const h = run(['report', '-c', cfg, '--html', html, LOG]);
    all.push(h);
    say(line('--html run    ', h) + ` (page ${(statSync(html).size / 1024).toFixed(0)} KiB)`);
    const rep = JSON.parse(json.stdout) as { totals: { failures: number; addresses: number; networks: number; bans: Record<string, number> } };
    say(`  report: ${rep.totals.failures} failures, ${rep.totals.addresses} addresses, ${rep.totals.networks} networks, bans ${JSON.stringify(rep.totals.bans)}`);
    // The same pass without the report, in the same conditions: what the report itself adds.
    const base = run(['replay', '-c', cfg, '--json', LOG]);
    say(line('replay --json (baseline)', base));
    const wall = median(all.map((r) => r.wall));
    const cpu = median(all.map((r) => r.cpu));
    say(`\npban report on ${LINES.toLocaleString('en-US')} lines, process start included, median of ${all.length}: ${wall.toFixed(3)} s wall, ${cpu.toFixed(3)} s user+sys CPU`);
    say(`  the report adds ${(cpu - base.cpu).toFixed(3)} s CPU to the replay's ${base.cpu.toFixed(3)} s`);
    say(`  target < ${TARGET_S} s wall: ${wall < TARGET_S ? 'met' : 'NOT met'}${cpu < TARGET_S && wall >= TARGET_S ? ` (CPU ${cpu.toFixed(3)} s is under it: the machine is busy, load ${os.loadavg()[0]!.toFixed(2)})` : ''}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
