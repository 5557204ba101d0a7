// How long an admin waits for `pban status` and `pban banned --json` with 100,000 active bans,
// process start included: the CLI runs as a child process against the REAL daemon (`pban start`,
// dry-run action) whose store holds the bans. Target: 200 ms each.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Address, Failure, Target } from '../src/events.js';
import { Jail, type JailPolicy } from '../src/engine/index.js';
import { openStore } from '../src/store/index.js';

const BANS = Number(process.env['PBAN_BENCH_BANS'] ?? 100_000);
const RUNS = Number(process.env['PBAN_BENCH_RUNS'] ?? 7);
const TARGET_MS = 200;
const PBAN_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

const HOUR = 3_600_000;

function policy(name: string, maxretry: number): JailPolicy {
  return {
    name,
    findtime: 10 * 60_000,
    maxretry,
    bantime: HOUR,
    increment: { enabled: true, factor: 2, maxtime: 7 * 24 * HOUR, remember: 7 * 24 * HOUR },
    subnet: { enabled: false, ipv4Prefix: 24, ipv6Prefix: 64, maxretry: 20, minAddresses: 3, bantime: 6 * HOUR },
    ignore: [],
  };
}

/** Address i of the bench: mostly IPv4, a tenth IPv6, spread so no two collide. */
function addressOf(i: number): { addr: Address; family: 4 | 6 } {
  if (i % 10 === 0) return { addr: `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1` as Address, family: 6 };
  return { addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` as Address, family: 4 };
}

/**
 * Fills the store the daemon will open: BANS bans over two jails, made by the engine itself
 * (one failure each with maxretry 1, plus a twentieth as manual network bans).
 */
function prepareStore(file: string, now: number): void {
  const store = openStore(file, { synchronous: 'off' });
  const jails = [new Jail(policy('postfix', 1)), new Jail(policy('postfix-sasl', 1))];
  for (let i = 0; i < BANS; i++) {
    const jail = jails[i % 3 === 0 ? 1 : 0]!;
    if (i % 20 === 0) {
      const t: Target = { addr: `100.${(i >> 8) & 255}.${i & 255}.0` as Address, prefix: 24, family: 4 };
      jail.ban(t, now - 1000, 2 * HOUR);
      continue;
    }
    const { addr, family } = addressOf(i);
    const f: Failure = { time: now - 60_000 + (i % 50_000), ip: addr, family, filter: 'postfix', kind: 'sasl', fields: {} };
    jail.observe(f);
    if (i % 10_000 === 0) store.commit({ jails: jails.map((j) => j.takeChanges()) });
  }
  store.commit({ jails: jails.map((j) => j.takeChanges()) });
  store.close();
}

function writeConfig(dir: string): string {
  const config = path.join(dir, 'pban.toml');
  fs.writeFileSync(path.join(dir, 'mail.log'), '');
  fs.writeFileSync(
    config,
    `[pban]
database = "pban.sqlite"
socket = "pban.sock"
loglevel = "warn"
[defaults]
maxretry = 1
bantime = "1h"
action = ["dry-run"]
[defaults.bantime_increment]
enabled = true
[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ["mail.log"]
[jails.postfix-sasl]
filter = "postfix[mode=auth]"
logpath = ["mail.log"]
`,
  );
  return config;
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

/** Starts the real daemon and waits until its socket answers. */
async function startDaemon(config: string, socketPath: string): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, [PBAN_BIN, 'start', '-c', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pban start exited (${child.exitCode})`);
    if (Date.now() > deadline) throw new Error('pban start did not answer within 60 s');
    if (fs.existsSync(socketPath) && (await runCli(['version', '--socket', socketPath])).status === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return async () => {
    process.kill(child.pid!, 'SIGTERM');
    await exited;
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-bench-cli-'));
  const socketPath = path.join(dir, 'pban.sock');
  const t0 = performance.now();
  prepareStore(path.join(dir, 'pban.sqlite'), Date.now());
  const t1 = performance.now();
  const stopDaemon = await startDaemon(writeConfig(dir), socketPath);
  console.log(`pban CLI benchmark: ${BANS} active bans in the real daemon (store filled in ${((t1 - t0) / 1000).toFixed(1)} s, daemon up in ${((performance.now() - t1) / 1000).toFixed(1)} s), ${RUNS} runs each, node ${process.version}, ${os.cpus().length} CPUs`);
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

await main();
