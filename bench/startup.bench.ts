// npm run bench:startup — how soon a restarted pban answers and protects, and how fast it
// answers while it works off a backlog (issue "Never silently unprotected", item 9).
// Root only: it builds one network namespace and runs `pban start` inside it with the nftables
// action; the host firewall is never touched.
//
// 1. Restart with 100,000 active bans in the store (70,000 IPv4 and 29,500 IPv6 addresses, 500
//    IPv6 /64 networks; made through the engine and committed as the daemon would, each address
//    after two failures, so the store also holds the failures of the window). The kernel starts
//    empty, as after `pban stop` or a reboot. Measured from the spawn of `pban start`:
//    - "socket answers": the first `status` request that gets a reply (polled every 10 ms);
//    - "bans in kernel": when pban's table appears (`nft -t list sets`, polled every 20 ms once the
//      socket answers; the re-apply is one nft transaction), checked by an `nft -j list table`
//      that must count all 100,000 elements (else full listings are polled, and the figure is
//      when the first one showing all of them ended).
// 2. A 1,000,000-line burst (bench/generate-log.ts, dated from now on so its failures count)
//    appended in one go to the followed log of the running daemon. Meanwhile a client sends
//    `status` back to back (10 ms apart) and times each reply: p50 / p99 / max, and the time to
//    work the burst off (lines per second).
// Each figure comes with pban's CPU time and the load average: on a shared machine the wall times
// say as much about the other work as about pban. Flags: --restarts-only, --burst-only,
// --dry-run (burst without firewall commands), --priority (pban at nice -10).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { requestRaw } from '../src/control/client.js';
import { parseReply } from '../src/control/protocol.js';
import type { DaemonStatus } from '../src/control/types.js';
import { Jail } from '../src/engine/index.js';
import type { Address, Family, Failure, Target } from '../src/events.js';
import { openStore } from '../src/store/index.js';
import { must, run } from '../test/helpers/netns.js';
import { requireCommands } from '../test/helpers/system.js';
import { generateLog } from '../test/helpers/generate-log.js';

const V4_ADDRESSES = 70_000;
const V6_ADDRESSES = 29_500;
const V6_NETWORKS = 500;
const TOTAL_BANS = V4_ADDRESSES + V6_ADDRESSES + V6_NETWORKS;
const RESTARTS = 3;
const BURST_LINES = 1_000_000;
const TARGET_SOCKET_MS = 2000;
const TARGET_KERNEL_MS = 3000;
const TARGET_STATUS_MS = 100;
const STATUS_GAP_MS = 10;

const here = path.dirname(fileURLToPath(import.meta.url));
const PBAN = path.resolve(here, '../src/cli/main.js');
const NS = `pban-startup-${process.pid}`;
const TABLE = 'pban-postfix';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ms = (x: number): string => `${x.toFixed(0)} ms`;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function config(dir: string, log: string, action: string): string {
  const file = path.join(dir, 'pban.toml');
  writeFileSync(
    file,
    `# written by bench/startup.bench.ts
[pban]
database = "pban.sqlite"
socket = "pban.sock"
loglevel = "info"
timezone = "system"   # the generator writes BSD dates in local time

[defaults]
findtime = "10m"
maxretry = 2
bantime = "1d"
ignoreip = ["127.0.0.0/8", "::1"]
action = ["${action}"]

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
logpath = ["${log}"]
`,
  );
  return file;
}

function v4(i: number): Address {
  // 198.18.0.0/15 (benchmarking range): room for 131,072 addresses.
  return `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` as Address;
}

function v6(i: number): Address {
  // RFC 5952 form, as the filters mint addresses: 2001:db8:1::1:0 ... 2001:db8:1::1:ffff, 2001:db8:1::2:0 ...
  return `2001:db8:1::${(1 + (i >> 16)).toString(16)}:${(i & 0xffff).toString(16)}` as Address;
}

/** Fills the store as a daemon under attack would have: two failures, then a ban, per address. */
function populate(configFile: string): void {
  const cfg = loadConfig(configFile);
  const jc = cfg.jails[0]!;
  const store = openStore(cfg.pban.database);
  // Subnet bans off while filling, so every address gets its own ban (the daemon has them on).
  const jail = new Jail({ ...jc.policy, subnet: { ...jc.policy.subnet, enabled: false } });
  const now = Date.now();
  const span = 20 * 60_000;
  const n = V4_ADDRESSES + V6_ADDRESSES;
  let failures = 0;
  for (let i = 0; i < n; i++) {
    const family: Family = i < V4_ADDRESSES ? 4 : 6;
    const ip = family === 4 ? v4(i) : v6(i - V4_ADDRESSES);
    const t = now - span + Math.floor((i * span) / n);
    for (let k = 0; k < 2; k++) {
      const f: Failure = { time: t + k, ip, family, filter: 'postfix', kind: 'sasl', fields: {} };
      jail.observe(f);
      failures++;
    }
    if (i % 10_000 === 9_999) store.commit({ jails: [jail.takeChanges()] });
  }
  for (let i = 0; i < V6_NETWORKS; i++) {
    const target: Target = { addr: `2001:db8:2:${i.toString(16)}::` as Address, prefix: 64, family: 6 };
    jail.ban(target, now, 86_400_000);
  }
  store.commit({ jails: [jail.takeChanges()] });
  const active = store.totals()[0]?.activeBans ?? 0;
  store.close();
  if (active !== TOTAL_BANS) throw new Error(`populate: ${active} active bans in the store, expected ${TOTAL_BANS}`);
  console.log(`store: ${TOTAL_BANS} active bans (${V4_ADDRESSES} IPv4, ${V6_ADDRESSES} IPv6 addresses, ${V6_NETWORKS} IPv6 /64), ${failures} failures recorded`);
}

/**
 * Elements in every set of our table, from one `nft -j list table` (JSON: half the CPU of the
 * text listing for 100,000 elements with timeouts); -1 when there is no table yet.
 */
function kernelElements(): number {
  const r = spawnSync('ip', ['netns', 'exec', NS, 'nft', '-j', 'list', 'table', 'inet', TABLE], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) return -1;
  const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
  let count = 0;
  for (const item of doc.nftables) count += item.set?.elem?.length ?? 0;
  return count;
}

interface Daemon {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/** The daemon started last: stopped in main's finally whatever happens. */
let daemon: Daemon | undefined;

function startDaemon(configFile: string, logFile: string): Daemon {
  const out = openSync(logFile, 'a');
  const child = spawn('ip', ['netns', 'exec', NS, process.execPath, ...(process.env['PBAN_BENCH_PROFILE'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['PBAN_BENCH_PROFILE']] : []), PBAN, 'start', '-c', configFile], { stdio: ['ignore', out, out] });
  closeSync(out);
  // --priority: pban (and the nft it starts, which inherits it) at nice -10, so that on a shared,
  // loaded machine the figure says more about pban than about the other work.
  if (process.argv.includes('--priority') && child.pid !== undefined) os.setPriority(child.pid, -10);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  daemon = { child, exited };
  return daemon;
}

async function stopDaemon(d: Daemon): Promise<void> {
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGTERM');
  const timer = setTimeout(() => d.child.kill('SIGKILL'), 30_000);
  await d.exited;
  clearTimeout(timer);
}

/** CPU seconds of a process: its own (user + system), and that of its waited-for children (firewall commands). */
function cpuOfProcess(pid: number): { self: number; children: number } {
  // /proc/PID/stat: the command may contain spaces, so count fields after its closing parenthesis.
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const tick = 100; // USER_HZ on Linux
  const n = (i: number): number => Number(f[i - 3]) / tick;
  return { self: n(14) + n(15), children: n(16) + n(17) };
}

/** pban's launcher (src/actions/launcher.ts): the child of the daemon that starts its commands. */
function launcherOf(pid: number): number | undefined {
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      if (/launcher/.test(readFileSync(`/proc/${c}/cmdline`, 'utf8'))) return Number(c);
    }
  }
  return undefined;
}

/**
 * CPU seconds of pban: the daemon's own plus its launcher's (`self`), and its firewall commands
 * (`children`: the launcher's waited-for children; the daemon's own, if it ran any itself).
 */
function cpuOf(pid: number): { self: number; children: number } {
  const d = cpuOfProcess(pid);
  const l = launcherOf(pid);
  const c = l === undefined ? { self: 0, children: 0 } : cpuOfProcess(l);
  return { self: d.self + c.self, children: d.children + c.children };
}

/** One `status` round trip; null when the daemon does not answer (yet). */
async function status(socketPath: string, timeoutMs: number): Promise<DaemonStatus | null> {
  try {
    const reply = parseReply(await requestRaw({ socketPath, timeoutMs }, 'status', {}));
    return reply.ok ? (reply.data as DaemonStatus) : null;
  } catch {
    return null;
  }
}

interface Restart {
  socketMs: number;
  kernelMs: number;
  listMs: number;
  /** pban's own CPU seconds (user + system) from its spawn until its table appeared. */
  cpuS: number;
  /** The 1-minute load average when the table appeared (other work on the machine). */
  load: number;
}

async function restart(configFile: string, socketPath: string, logFile: string, expected = TOTAL_BANS): Promise<Restart> {
  run(['ip', 'netns', 'exec', NS, 'nft', 'delete', 'table', 'inet', TABLE]);
  const t0 = performance.now();
  const d = startDaemon(configFile, logFile);
  let socketMs = NaN;
  for (;;) {
    if (d.child.exitCode !== null) throw new Error(`pban start exited: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    if ((await status(socketPath, 1000)) !== null) {
      socketMs = performance.now() - t0;
      break;
    }
    if (performance.now() - t0 > 120_000) throw new Error('the daemon did not answer within 120 s');
    await sleep(10);
  }
  // pban re-applies in one `nft -f` transaction: its table appears with every element at once.
  // So a cheap listing is polled for the moment, and one full listing then checks the
  // count (listing 100,000 elements takes seconds on a busy machine, and back-to-back listings
  // would slow the transaction they wait for). If the count is short, full listings go on.
  let tableMs = NaN;
  // Terse set names, not `nft list tables`: nft 1.0.6 fetches every set element into its cache
  // for that one, so once the table held 100,000 elements the poll that saw it took 0.4 s to
  // return, and the figure included it. `-t list sets` fetches no element (10 ms either way).
  while (!(spawnSync('ip', ['netns', 'exec', NS, 'nft', '-t', 'list', 'sets'], { encoding: 'utf8' }).stdout ?? '').includes(`table inet ${TABLE} `)) {
    if (performance.now() - t0 > 120_000) throw new Error(`no table after 120 s; pban said:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    await sleep(20);
  }
  tableMs = performance.now() - t0;
  const cpuS = cpuOf(d.child.pid!).self;
  const load = os.loadavg()[0]!;
  let kernelMs = NaN;
  let listMs = NaN;
  for (let first = true; ; first = false) {
    const l0 = performance.now();
    const n = kernelElements();
    const l1 = performance.now();
    if (n === expected) {
      kernelMs = first ? tableMs : l1 - t0;
      listMs = l1 - l0;
      break;
    }
    if (n > expected) throw new Error(`${n} elements in the kernel, expected ${expected}`);
    if (l1 - t0 > 120_000) throw new Error(`only ${n} of ${expected} bans in the kernel after 120 s; pban said:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    await sleep(20);
  }
  return { socketMs, kernelMs, listMs, cpuS, load };
}

/**
 * Appends in another process, as a real log writer does: an in-process pipe of 136 MB shared the
 * bench's own event loop with the status client, so its 4 MB chunks showed up in the replies'
 * latency as if pban had been slow.
 */
async function appendFile(from: string, to: string): Promise<void> {
  const child = spawn('dd', [`if=${from}`, `of=${to}`, 'oflag=append', 'conv=notrunc', 'bs=4M', 'status=none'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`dd exited ${code}`);
}

async function burst(socketPath: string, burstFile: string, followed: string, pid: number): Promise<void> {
  const before = await status(socketPath, 5000);
  if (before === null) throw new Error('no status before the burst');
  const cpu0 = cpuOf(pid);
  const goal = before.linesRead + BURST_LINES;
  const latencies: number[] = [];
  let failedReplies = 0;
  const t0 = performance.now();
  let appendedMs = NaN;
  const appending = appendFile(burstFile, followed).then(() => (appendedMs = performance.now() - t0));
  let doneMs = NaN;
  let last = before;
  for (;;) {
    const s0 = performance.now();
    const s = await status(socketPath, 30_000);
    const s1 = performance.now();
    if (s === null) failedReplies++;
    else {
      latencies.push(s1 - s0);
      last = s;
      if (s.linesRead >= goal) {
        doneMs = s1 - t0;
        break;
      }
    }
    if (s1 - t0 > 300_000) throw new Error(`burst not worked off after 300 s: ${last.linesRead - before.linesRead} of ${BURST_LINES} lines`);
    await sleep(STATUS_GAP_MS);
  }
  await appending;
  const cpu1 = cpuOf(pid);
  const cpuSelf = cpu1.self - cpu0.self;
  const sorted = [...latencies].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const max = sorted[sorted.length - 1] ?? NaN;
  const banned = last.jails[0]?.currentlyBanned;
  console.log(`\n== status during a ${BURST_LINES.toLocaleString('en')}-line burst`);
  console.log(`appended in ${ms(appendedMs)}; worked off in ${ms(doneMs)} (${Math.round(BURST_LINES / (doneMs / 1000)).toLocaleString('en')} lines/s)`);
  console.log(
    `pban CPU: ${cpuSelf.toFixed(2)} s (${Math.round(BURST_LINES / cpuSelf).toLocaleString('en')} lines per CPU-second); ` +
      `its firewall commands: ${(cpu1.children - cpu0.children).toFixed(2)} s`,
  );
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`status replies: ${latencies.length} (${failedReplies} failed); latency p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms  (target: every reply < ${TARGET_STATUS_MS} ms: ${max < TARGET_STATUS_MS ? 'met' : 'MISSED'})`);
  console.log(`bans now: ${banned?.addresses ?? '?'} addresses, ${banned?.networks ?? '?'} networks`);
}

async function main(): Promise<void> {
  requireCommands(['ip', 'nft']);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-startup-'));
  const followed = path.join(dir, 'mail.log');
  writeFileSync(followed, '');
  // --dry-run: the burst without firewall commands (to tell the daemon's own cost from the firewall's).
  const dryRun = process.argv.includes('--dry-run');
  const configFile = config(dir, followed, dryRun ? 'dry-run' : 'nftables');
  const socketPath = path.join(dir, 'pban.sock');
  const logFile = path.join(dir, 'pban.stderr');
  run(['ip', 'netns', 'del', NS]);
  must(['ip', 'netns', 'add', NS]);
  try {
    must(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
    console.log(`node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    // --burst-only: an empty store and one start, then the burst (for quick runs while tuning).
    const burstOnly = process.argv.includes('--burst-only') || dryRun;
    if (burstOnly) await restart(configFile, socketPath, logFile, dryRun ? -1 : 0);
    else await restarts(configFile, socketPath, logFile);
    // --restarts-only: the restarts without the burst (for quick runs while tuning the start).
    if (process.argv.includes('--restarts-only')) return;
    const burstFile = path.join(dir, 'burst.log');
    const g = await generateLog({ lines: BURST_LINES, seed: 1, out: burstFile, start: new Date(Math.ceil(Date.now() / 1000) * 1000) });
    console.log(`\nburst log: ${g.lines} lines, ${(g.bytes / 1e6).toFixed(0)} MB`);
    await burst(socketPath, burstFile, followed, daemon!.child.pid!);
  } finally {
    if (daemon) await stopDaemon(daemon);
    run(['ip', 'netns', 'del', NS]);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function restarts(configFile: string, socketPath: string, logFile: string): Promise<void> {
  populate(configFile);

  console.log(`\n== restart with ${TOTAL_BANS.toLocaleString('en')} active bans (nftables, kernel empty at start), ${RESTARTS} runs`);
  const runs: Restart[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    if (daemon) await stopDaemon(daemon);
    const r = await restart(configFile, socketPath, logFile);
    runs.push(r);
    console.log(`run ${i + 1}: socket answers ${ms(r.socketMs)}, all bans in the kernel ${ms(r.kernelMs)} (the listing that counted them took ${ms(r.listMs)}); pban CPU until then ${r.cpuS.toFixed(2)} s, load ${r.load.toFixed(2)}`);
  }
  const med = (k: keyof Restart): number => [...runs.map((r) => r[k])].sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  console.log(
    `median: socket answers ${ms(med('socketMs'))} (target < ${TARGET_SOCKET_MS} ms: ${med('socketMs') < TARGET_SOCKET_MS ? 'met' : 'MISSED'}), ` +
      `all bans in the kernel ${ms(med('kernelMs'))} (target < ${TARGET_KERNEL_MS} ms: ${med('kernelMs') < TARGET_KERNEL_MS ? 'met' : 'MISSED'}); ` +
      `pban CPU until its table appeared ${med('cpuS').toFixed(2)} s`,
  );
}

await main();
