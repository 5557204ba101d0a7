// One fresh `pban …` process, timed as a user sees it (process start included), with its CPU
// time and peak RSS reported by usage-probe.ts from inside the child: the benches that time
// whole commands share this one runner.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const PBAN = path.resolve(here, '../src/cli/main.js');
const PROBE = path.resolve(here, 'usage-probe.js');

export interface Run {
  /** Seconds, process start to exit. */
  wall: number;
  /** user + sys seconds of the child. */
  cpu: number;
  rssMB: number;
  stdout: string;
}

/** Runs pban with `args`; stdout goes to /dev/null unless `capture`. Throws on a non-zero exit. */
export function runPban(args: readonly string[], capture = false, env: NodeJS.ProcessEnv = process.env): Run {
  const devnull = capture ? null : openSync('/dev/null', 'w');
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['--import', PROBE, PBAN, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', devnull ?? 'pipe', 'pipe'],
      maxBuffer: 256 << 20,
      env,
    });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`pban ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
    const m = /PBAN_BENCH_USAGE maxrss_kb=(\d+) user_us=(\d+) sys_us=(\d+)/.exec(r.stderr);
    if (m === null) throw new Error(`no usage line from the child (stderr: ${r.stderr})`);
    return { wall, cpu: (Number(m[2]) + Number(m[3])) / 1e6, rssMB: Number(m[1]) / 1024, stdout: r.stdout ?? '' };
  } finally {
    if (devnull !== null) closeSync(devnull);
  }
}
