// npm run bench:fail2ban — matching through fail2ban's own filter files (sshd.conf,
// postfix.conf from the Debian package unpacked by scripts/setup-test-env.sh) on their sample
// logs scaled to 1,000,000 lines: `pban test-filter FILE LOG` timed as a user sees it (a fresh
// process, start included), and fail2ban-regex on the same file and filter when python3 can
// import fail2ban from the unpacked tree (never installed). Each side runs RUNS times; prints
// the medians, lines/s, the ratio by CPU time (user + system: on a shared machine the honest
// one) and by wall time, and whether the 10x target holds. PBAN_BENCH_BEFORE=<a dist
// directory of an earlier build> also times that build's pban under the same load.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../src/paths.js';

const LINES = 1_000_000;
// PBAN_BENCH_RUNS / PBAN_BENCH_CASES (comma-separated case names) shorten a run on a busy machine.
const RUNS = Number(process.env.PBAN_BENCH_RUNS ?? 3);
const TARGET_RATIO = 10;

const here = path.dirname(fileURLToPath(import.meta.url));
const PBAN = path.resolve(here, '../src/cli/main.js');
const CACHE = process.env.PBAN_FAIL2BAN_CACHE ?? path.join(os.tmpdir(), 'pban-fail2ban-samples');
const ROOT = path.join(CACHE, 'root');
const FILTER_D = path.join(ROOT, 'etc/fail2ban/filter.d');
const PYLIB = path.join(ROOT, 'usr/lib/python3/dist-packages');
const LOGS = path.join(PYLIB, 'fail2ban/tests/files/logs');
const F2B_REGEX = path.join(ROOT, 'usr/bin/fail2ban-regex');
const DATA = path.join(PACKAGE_ROOT, 'bench', 'data');

interface Case {
  readonly name: string;
  readonly filter: string;
  readonly options: string;
  readonly sample: string;
}

const CASES: Case[] = [
  { name: 'sshd', filter: 'sshd.conf', options: '', sample: 'sshd' },
  { name: 'sshd[mode=aggressive]', filter: 'sshd.conf', options: '[mode=aggressive]', sample: 'sshd' },
  { name: 'postfix', filter: 'postfix.conf', options: '', sample: 'postfix' },
  { name: 'postfix[mode=aggressive]', filter: 'postfix.conf', options: '[mode=aggressive]', sample: 'postfix' },
];

/** The sample's log lines (annotations and blank lines dropped), repeated to LINES lines. */
function scaled(sample: string): string {
  const out = path.join(DATA, `fail2ban-${sample}-${LINES}.log`);
  if (existsSync(out)) return out;
  mkdirSync(DATA, { recursive: true });
  const lines = readFileSync(path.join(LOGS, sample), 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const parts: string[] = [];
  for (let i = 0; i < LINES; i++) parts.push(lines[i % lines.length] as string);
  writeFileSync(out, `${parts.join('\n')}\n`);
  return out;
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/**
 * Runs argv once: wall seconds, and CPU seconds (user + system, from /usr/bin/time; NaN
 * without it). On a shared machine the wall time says more about the neighbours than about
 * the program; the CPU time does not.
 */
function timed(argv: string[], env: NodeJS.ProcessEnv = process.env): { seconds: number; cpu: number; stdout: string; stderr: string } {
  const full = TIME ? [TIME, '-f', 'PBAN_BENCH_CPU=%U+%S', ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0] as string, full.slice(1), { encoding: 'utf8', maxBuffer: 256 << 20, env, timeout: 1_800_000 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  const c = /PBAN_BENCH_CPU=([\d.]+)\+([\d.]+)/.exec(r.stderr);
  return { seconds, cpu: c ? Number(c[1]) + Number(c[2]) : NaN, stdout: r.stdout, stderr: r.stderr };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function fail2banRegexUsable(): boolean {
  if (!existsSync(F2B_REGEX)) return false;
  const r = spawnSync('python3', ['-c', 'import fail2ban.server.filter'], { env: { ...process.env, PYTHONPATH: PYLIB }, encoding: 'utf8' });
  return r.status === 0;
}

function pbanRuns(main: string, spec: string, log: string): { wall: number; cpu: number; matched: number } {
  const walls: number[] = [];
  const cpus: number[] = [];
  let matched = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = timed([process.execPath, main, 'test-filter', spec, log, '--json']);
    walls.push(r.seconds);
    cpus.push(r.cpu);
    const summary = r.stderr.split('\n').find((l) => l.startsWith('{')) ?? '{}';
    matched = (JSON.parse(summary) as { matched?: number }).matched ?? 0;
  }
  return { wall: median(walls), cpu: median(cpus), matched };
}

function main(): void {
  if (!existsSync(FILTER_D)) throw new Error(`no fail2ban filter.d at ${FILTER_D}: run scripts/setup-test-env.sh`);
  const withF2b = fail2banRegexUsable();
  const before = process.env.PBAN_BENCH_BEFORE ? path.resolve(process.env.PBAN_BENCH_BEFORE, 'src/cli/main.js') : null;
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`fail2ban filter files through pban test-filter --json, ${fmt(LINES)} lines each, median of ${RUNS} runs per side (fresh process, start included); load average ${load()}`);
  if (!withF2b) console.log('fail2ban-regex: not runnable here (python3 cannot import fail2ban from the unpacked package); no ratio');
  let worstCpu = Infinity;
  let worstWall = Infinity;
  const only = process.env.PBAN_BENCH_CASES?.split(',');
  for (const c of CASES.filter((x) => !only || only.includes(x.name))) {
    const log = scaled(c.sample);
    const spec = `${path.join(FILTER_D, c.filter)}${c.options}`;
    const p = pbanRuns(PBAN, spec, log);
    const old = before ? pbanRuns(before, spec, log) : null;
    const rate = (label: string, r: { wall: number; cpu: number }) => `${label} ${r.wall.toFixed(1)} s wall = ${fmt(LINES / r.wall)} lines/s, ${r.cpu.toFixed(1)} s CPU = ${fmt(LINES / r.cpu)} lines/s`;
    const pad = ''.padEnd(28);
    let out = `  ${c.name.padEnd(26)}${rate('pban', p)} (${fmt(p.matched)} matched)`;
    if (old) out += `\n${pad}${rate('pban before', old)} (${fmt(old.matched)} matched)`;
    if (withF2b) {
      const optArg = c.options.replace(/^\[|\]$/g, '');
      const filterArg = optArg ? `${path.join(FILTER_D, c.filter)}[${optArg}]` : path.join(FILTER_D, c.filter);
      const walls: number[] = [];
      const cpus: number[] = [];
      let f2bMatched = '?';
      for (let i = 0; i < RUNS; i++) {
        const r = timed(['python3', F2B_REGEX, '--print-no-missed', '--print-no-ignored', log, filterArg], { ...process.env, PYTHONPATH: PYLIB });
        walls.push(r.seconds);
        cpus.push(r.cpu);
        f2bMatched = /Lines: [\d,]+ lines, [\d,]+ ignored, ([\d,]+) matched/.exec(r.stdout)?.[1] ?? '?';
      }
      const f = { wall: median(walls), cpu: median(cpus) };
      const cpuRatio = f.cpu / p.cpu;
      const wallRatio = f.wall / p.wall;
      worstCpu = Math.min(worstCpu, cpuRatio);
      worstWall = Math.min(worstWall, wallRatio);
      out += `\n${pad}${rate('fail2ban-regex', f)} (${f2bMatched} matched)`;
      out += `\n${pad}pban is ${cpuRatio.toFixed(1)}x as fast by CPU time, ${wallRatio.toFixed(1)}x by wall time`;
      if (old) out += ` (before: ${(f.cpu / old.cpu).toFixed(1)}x CPU, ${(f.wall / old.wall).toFixed(1)}x wall)`;
    }
    console.log(out);
  }
  if (withF2b) {
    const pass = worstCpu >= TARGET_RATIO;
    console.log(`slowest ratio: ${worstCpu.toFixed(1)}x by CPU time, ${worstWall.toFixed(1)}x by wall time; target at least ${TARGET_RATIO}x by CPU time: ${pass ? 'PASS' : 'FAIL'}; load average ${load()}`);
  }
}

main();
