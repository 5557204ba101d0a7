// How long an admin waits for `pban status` and `pban banned --json` with 100,000 active bans,
// process start included: the CLI runs as a child process against a control server whose
// in-memory handlers hold the bans. Target: 200 ms each.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../src/clock.js';
import { startControlServer } from '../src/control/server.js';
import type { Address, Ban, BanKind, Target } from '../src/events.js';
import { MemoryHandlers } from '../test/control/memory-handlers.js';
import { JAILS } from '../test/control/test-daemon.js';

const BANS = Number(process.env['PBAN_BENCH_BANS'] ?? 100_000);
const RUNS = Number(process.env['PBAN_BENCH_RUNS'] ?? 7);
const TARGET_MS = 200;
const PBAN_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

/** Spread over 10.0.0.0/8-like space, a tenth IPv6, a twentieth networks: what a busy mail server accumulates. */
function makeBans(n: number, now: number): Ban[] {
  const bans: Ban[] = [];
  for (let i = 0; i < n; i++) {
    let target: Target;
    if (i % 20 === 0) {
      target = { addr: `100.${(i >> 8) & 255}.${i & 255}.0` as Address, prefix: 24, family: 4 };
    } else if (i % 10 === 0) {
      target = { addr: `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1` as Address, prefix: 128, family: 6 };
    } else {
      target = { addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` as Address, prefix: 32, family: 4 };
    }
    const kind: BanKind = target.prefix === 24 ? 'network' : i % 97 === 0 ? 'manual' : 'address';
    const created = now - (i % 3600) * 1000;
    bans.push({
      target,
      jail: i % 3 === 0 ? 'postfix-sasl' : 'postfix',
      kind,
      created,
      until: i % 50 === 0 ? null : created + 3_600_000 * (1 + (i % 24)),
      failures: kind === 'manual' ? 0 : 5 + (i % 40),
      banNumber: 1 + (i % 5),
    });
  }
  return bans;
}

function runCli(args: readonly string[]): Promise<{ ms: number; bytes: number; status: number | null }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [PBAN_BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (c: Buffer) => (bytes += c.length));
    child.on('error', reject);
    child.on('close', (status) => resolve({ ms: performance.now() - t0, bytes, status }));
  });
}

/** Median time of a bare `node -e 0`, to tell process start from our work. */
async function runNode(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => spawn(process.execPath, ['-e', '0']).on('close', () => resolve()));
    times.push(performance.now() - t0);
  }
  return median(times);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** The daemon side, in its own process as in real life: `cli.bench.js --serve SOCKET`. */
async function serve(socketPath: string): Promise<void> {
  const handlers = new MemoryHandlers(systemClock, JAILS);
  for (const b of makeBans(BANS, systemClock.now())) handlers.addBan(b);
  const server = await startControlServer({ socketPath, handlers });
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void server.close());
}

async function startDaemon(socketPath: string): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench daemon exited (${code})`)));
    child.stdout.once('data', () => resolve());
  });
  child.removeAllListeners('exit');
  return () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      process.kill(child.pid!, 'SIGTERM');
    });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-bench-cli-'));
  const socketPath = path.join(dir, 'pban.sock');
  const stopDaemon = await startDaemon(socketPath);
  console.log(`pban CLI benchmark: ${BANS} active bans, ${RUNS} runs each, node ${process.version}, ${os.cpus().length} CPUs`);
  let worst = 0;
  try {
    const node0 = await runNode();
    console.log(`${'node -e 0 (bare node start, for scale)'.padEnd(40)} ${node0.toFixed(0).padStart(12)} ms`);
    const cases: ReadonlyArray<readonly [string, string[], boolean]> = [
      ['pban --version (process start only)', ['--version'], false],
      ['pban status', ['status'], true],
      ['pban status --json', ['status', '--json'], false],
      ['pban banned --json', ['banned', '--json'], true],
      ['pban status postfix (tree, full list)', ['status', 'postfix'], false],
      ['pban banned (table)', ['banned'], false],
    ];
    for (const [name, args, gated] of cases) {
      const full = args[0] === '--version' ? args : [...args, '--socket', socketPath];
      await runCli(full); // warm the page cache
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < RUNS; i++) {
        const r = await runCli(full);
        if (r.status !== 0) throw new Error(`${name}: exit ${r.status}`);
        times.push(r.ms);
        bytes = r.bytes;
      }
      const med = median(times);
      if (gated) worst = Math.max(worst, med);
      console.log(
        `${name.padEnd(40)} median ${med.toFixed(0).padStart(5)} ms  min ${Math.min(...times).toFixed(0).padStart(5)} ms  output ${(bytes / 1e6).toFixed(1)} MB${gated ? `  (target ≤ ${TARGET_MS} ms)` : ''}`,
      );
    }
  } finally {
    await stopDaemon();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(worst <= TARGET_MS ? `OK: worst gated median ${worst.toFixed(0)} ms ≤ ${TARGET_MS} ms` : `OVER TARGET: worst gated median ${worst.toFixed(0)} ms > ${TARGET_MS} ms`);
  if (worst > TARGET_MS) process.exitCode = 1;
}

if (process.argv[2] === '--serve') await serve(process.argv[3] ?? '');
else await main();
