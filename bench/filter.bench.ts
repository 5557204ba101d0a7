// npm run bench:filter — how fast `pban test-filter postfix[mode=aggressive]` reads a realistic
// 1,000,000-line Postfix log, timed as a user would see it: a fresh process each run, process
// start included. Prints lines/s and peak RSS; if fail2ban-regex is installed, times it on the
// same file and prints the ratio.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../src/paths.js';
import { generateLog } from '../test/helpers/generate-log.js';

const LINES = 1_000_000;
const SEED = 1;
const RUNS = 5;
const TARGET_LINES_PER_S = 2_000_000;
const TARGET_RSS_MB = 150;

const here = path.dirname(fileURLToPath(import.meta.url));
const PBAN = path.resolve(here, '../src/cli/main.js');
const DATA = path.join(PACKAGE_ROOT, 'bench', 'data');
const LOG = path.join(DATA, `postfix-${LINES}-seed${SEED}.log`);

function onPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

interface Run {
  seconds: number;
  /** User + system CPU seconds of the child (NaN without /usr/bin/time): on a shared machine wall time is noisy. */
  cpuSeconds: number;
  rssMB: number;
  stdout: string;
}

/** Runs argv once; wall time from spawn to exit, peak RSS from /usr/bin/time or the summary. */
function timed(argv: string[]): Run {
  const full = TIME ? [TIME, '-f', 'PBAN_BENCH_RSS_KB=%M PBAN_BENCH_CPU=%U+%S', ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0] as string, full.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  const rss = /PBAN_BENCH_RSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? /peak RSS ([\d,]+) MB/.exec(r.stdout)?.[1]?.replace(/,/g, '');
  const rssMB = rss === undefined ? NaN : TIME ? Number(rss) / 1024 : Number(rss);
  const cpu = /PBAN_BENCH_CPU=([\d.]+)\+([\d.]+)/.exec(r.stderr);
  const cpuSeconds = cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN;
  return { seconds, cpuSeconds, rssMB, stdout: r.stdout };
}

async function main(): Promise<void> {
  if (!existsSync(LOG)) {
    mkdirSync(DATA, { recursive: true });
    process.stdout.write(`generating ${LOG} (${LINES.toLocaleString('en-US')} lines, seed ${SEED}) …\n`);
    await generateLog({ lines: LINES, seed: SEED, out: LOG });
  }
  const size = statSync(LOG).size;
  process.stdout.write(`log: ${LOG} (${(size / 1e6).toFixed(1)} MB)\nnode ${process.version}, ${TIME ? 'RSS from /usr/bin/time' : 'RSS from pban\'s summary'}\n\n`);

  const argv = [process.execPath, PBAN, 'test-filter', 'postfix[mode=aggressive]', LOG];
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = timed(argv);
    runs.push(r);
    process.stdout.write(`run ${i + 1}: ${r.seconds.toFixed(3)} s  ${Math.round(LINES / r.seconds).toLocaleString('en-US')} lines/s  CPU ${r.cpuSeconds.toFixed(2)} s  peak RSS ${r.rssMB.toFixed(0)} MB\n`);
  }
  const summaryLine = /Lines: .*/.exec(runs[0]?.stdout ?? '')?.[0] ?? '';
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const median = sorted[Math.floor(sorted.length / 2)] as Run;
  const best = sorted[0] as Run;
  const maxRss = Math.max(...runs.map((r) => r.rssMB));
  const cpus = runs.map((r) => r.cpuSeconds).sort((a, b) => a - b);
  const medianCpu = cpus[Math.floor(cpus.length / 2)] as number;
  const rate = Math.round(LINES / median.seconds);
  process.stdout.write(`\n${summaryLine}\n`);
  process.stdout.write(`pban test-filter postfix[mode=aggressive], process start included:\n`);
  process.stdout.write(`  median ${median.seconds.toFixed(3)} s = ${rate.toLocaleString('en-US')} lines/s (best ${Math.round(LINES / best.seconds).toLocaleString('en-US')} lines/s)\n`);
  process.stdout.write(`  median CPU (user+sys) ${medianCpu.toFixed(2)} s = ${Number.isNaN(medianCpu) ? '?' : Math.round(LINES / medianCpu).toLocaleString('en-US')} lines per CPU second\n`);
  process.stdout.write(`  peak RSS ${maxRss.toFixed(0)} MB\n`);
  process.stdout.write(`  target: >= ${TARGET_LINES_PER_S.toLocaleString('en-US')} lines/s: ${rate >= TARGET_LINES_PER_S ? 'met' : 'NOT met'}; RSS <= ${TARGET_RSS_MB} MB: ${maxRss <= TARGET_RSS_MB ? 'met' : 'NOT met'}\n`);

  const f2b = onPath('fail2ban-regex');
  if (f2b === null) {
    process.stdout.write('\nfail2ban-regex: not on PATH, no comparison (it is not installed on this machine)\n');
    return;
  }
  const f = timed([f2b, LOG, 'postfix[mode=aggressive]']);
  const f2bRate = Math.round(LINES / f.seconds);
  process.stdout.write(`\nfail2ban-regex: ${f.seconds.toFixed(1)} s = ${f2bRate.toLocaleString('en-US')} lines/s, peak RSS ${f.rssMB.toFixed(0)} MB\n`);
  process.stdout.write(`pban is ${(rate / f2bRate).toFixed(1)}x faster\n`);
}

await main();
