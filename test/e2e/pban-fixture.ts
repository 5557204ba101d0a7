// pban as the end-to-end scenarios run it: a real daemon in the lab's server namespace, a config
// with the nftables action and a postfix jail on the lab's maillog_file, and readers for the
// kernel set, the daemon's own log records and the failures its filter sees in the mail log.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inNs, run, runOk, type MailLab } from './harness.js';

/** The compiled CLI of the same build as this compiled file (<build>/test/e2e → <build>/src/cli/main.js). */
export const PBAN_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

/**
 * Where the nftables action keeps its bans: actions/nftables.toml says `table = "pban-{jail}"`,
 * with addresses in plain sets `host4`/`host6` (elements without a prefix) and networks in
 * interval sets `net4`/`net6`. bannedInKernel reads every set of the table, so only the table
 * name is a parameter here.
 */
export interface NftNames {
  family: string;
  table: (jail: string) => string;
}
export const NFT_NAMES: NftNames = { family: 'inet', table: (jail) => `pban-${jail}` };

export interface ScenarioConfig {
  maxretry: number;
  findtime?: string;
  bantime: string;
  subnet?: { maxretry: number; minAddresses: number; bantime: string };
  filter?: string;
  /** The daemon's log level (default "info"); "debug" adds a record per firewall command. */
  loglevel?: 'debug' | 'info';
}

/** Writes a pban config for the lab into `dir` and returns its path. */
export function writePbanConfig(lab: MailLab, dir: string, cfg: ScenarioConfig): string {
  const file = path.join(dir, 'pban.toml');
  const subnet = cfg.subnet;
  writeFileSync(
    file,
    `# pban e2e scenario config
[pban]
database = "${path.join(dir, 'pban.sqlite')}"
socket = "${path.join(dir, 'pban.sock')}"
loglevel = "${cfg.loglevel ?? 'info'}"
timezone = "system"

[defaults]
findtime = "${cfg.findtime ?? '10m'}"
maxretry = ${cfg.maxretry}
bantime = "${cfg.bantime}"
ignoreip = []
action = ["nftables"]

[defaults.bantime_increment]
enabled = false

[defaults.subnet]
enabled = ${subnet !== undefined}
ipv4_prefix = 24
ipv6_prefix = 64
maxretry = ${subnet?.maxretry ?? 20}
min_addresses = ${subnet?.minAddresses ?? 3}
bantime = "${subnet?.bantime ?? cfg.bantime}"

[jails.postfix]
filter = "${cfg.filter ?? 'postfix[mode=aggressive]'}"
logpath = ["${lab.logPath}"]
`,
  );
  return file;
}

export interface PbanRecord {
  msg: string;
  [key: string]: unknown;
}

/** One running `pban start` in the server namespace; its stderr (JSON records) goes to a file. */
export class PbanDaemon {
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly stderrFile: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts the daemon and waits for its `daemon.started` record (or fails with its stderr). */
  static async start(lab: MailLab, configFile: string, stderrFile: string, timeoutMs = 10_000): Promise<PbanDaemon> {
    const out = createWriteStream(stderrFile, { flags: 'a' });
    await new Promise((r) => out.once('open', r));
    const child = spawn('ip', ['netns', 'exec', lab.server, process.execPath, PBAN_MAIN, 'start', '-c', configFile], {
      stdio: ['ignore', out, out],
    });
    const d = new PbanDaemon(child, stderrFile);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (d.records().some((r) => r.msg === 'daemon.started')) return d;
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`pban start did not report daemon.started (exit ${child.exitCode ?? child.signalCode}): ${readFileSync(stderrFile, 'utf8').slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** `ip netns exec` execs node, so the child's PID is pban's own PID. */
  get pid(): number {
    return this.child.pid!;
  }

  /** The daemon's JSON log records so far (all runs that wrote to the same file). */
  records(): PbanRecord[] {
    if (!existsSync(this.stderrFile)) return [];
    return readFileSync(this.stderrFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as PbanRecord;
        } catch {
          return { msg: '(unparsable)', line: l };
        }
      });
  }

  async stop(sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(sig);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }
}

/**
 * Every element of every set of the jail's table, as CIDR strings ("198.51.100.16/32",
 * "2001:db8:1::/64"): a plain element (an address in host4/host6) is read as /32 or /128.
 */
export async function bannedInKernel(lab: MailLab, jail = 'postfix', names: NftNames = NFT_NAMES): Promise<Set<string>> {
  const r = await run(inNs(lab.server, ['nft', '-j', 'list', 'table', names.family, names.table(jail)]));
  if (r.code !== 0) return new Set(); // no table (yet): nothing banned
  const doc = JSON.parse(r.stdout) as { nftables: Array<{ set?: { elem?: unknown[] } }> };
  const out = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string') out.add(v.includes(':') ? `${v}/128` : `${v}/32`);
    else if (v && typeof v === 'object' && 'prefix' in v) {
      const p = (v as { prefix: { addr: string; len: number } }).prefix;
      out.add(`${p.addr}/${p.len}`);
    } else if (v && typeof v === 'object' && 'elem' in v) add((v as { elem: { val: unknown } }).elem.val);
    else if (v && typeof v === 'object' && 'range' in v) out.add(`range:${JSON.stringify((v as { range: unknown }).range)}`);
  };
  for (const item of doc.nftables) for (const e of item.set?.elem ?? []) add(e);
  return out;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How many failures pban's own filter finds per address in the current maillog_file (`pban test-filter --json`). */
export async function failuresPerAddress(lab: MailLab, filter = 'postfix[mode=aggressive]'): Promise<Map<string, number>> {
  const out = await runOk([process.execPath, PBAN_MAIN, 'test-filter', filter, lab.logPath, '--json']);
  const counts = new Map<string, number>();
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const ip = (JSON.parse(line) as { ip: string }).ip;
    counts.set(ip, (counts.get(ip) ?? 0) + 1);
  }
  return counts;
}

/** Removes the jail's table in the server namespace (between scenarios, or after a SIGKILL). */
export async function dropTable(lab: MailLab, jail = 'postfix', names: NftNames = NFT_NAMES): Promise<void> {
  await run(inNs(lab.server, ['nft', 'delete', 'table', names.family, names.table(jail)]));
}

export function removeScenarioDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
