// The real world for the end-to-end suite: network namespaces for a mail server, two attacker
// hosts and one benign client, a real Postfix (postscreen on 25, submission with Dovecot SASL on
// 587, plain smtpd on 2525) writing a maillog_file, and a teardown that leaves nothing behind.
//
// Layout: a bridge inside the server namespace, one veth per client namespace whose two ends are
// created directly inside the namespaces, so nothing ever appears in the root namespace. No
// namespace has a default route, so a packet to any other address fails locally and never leaves.
// Only documentation addresses are used. See ../shared/notes/real-components.md for the findings
// behind each choice (anvil-auth-penalty, nodad, maillog_file_prefixes, chroot n, ...).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, chmodSync, mkdirSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireCommands, requireRoot } from '../helpers/system.js';

export const NS_PREFIX_ROOT = 'pbane2e-';

export interface Host {
  ns: string;
  /** Source addresses configured on the host, all inside net4 / net6. */
  v4: string[];
  v6: string[];
  net4: string;
  net6: string;
  /** The server address this host talks to (on-link, same network). */
  server4: string;
  server6: string;
}

export interface Timings {
  [phase: string]: number;
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface LabOptions {
  /** Addresses per family on each attacker host (default 8). */
  addressesPerAttacker?: number;
  /** postscreen_greet_wait (default "1s"): every new client on port 25 waits this long. */
  greetWait?: string;
}

export const PORTS = { postscreen: 25, submission: 587, smtpd: 2525 } as const;
export const MAIL_DOMAIN = 'mail.pban.test';
export const GOOD_USER = { user: 'alice@pban.test', password: 'correct-horse' } as const;

/** Runs argv (never through a shell) and collects its output. Never rejects on a non-zero exit. */
export function run(argv: readonly string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('run: empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    let grace: NodeJS.Timeout | undefined;
    const finish = (code: number | null, sig: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      clearTimeout(grace);
      resolve({ code, signal: sig, stdout, stderr });
    };
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')}: ${e.message}`));
    });
    child.on('close', finish);
    // A daemon started by the command (postfix master, dovecot) inherits our pipes and keeps them
    // open, so 'close' never comes: after the command itself exits, stop waiting for its pipes.
    child.on('exit', (code, sig) => {
      grace = setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        finish(code, sig);
      }, 100);
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // a command that exits without reading its input
      child.stdin.end(opts.input);
    }
  });
}

/** Like run(), but a non-zero exit is an error that quotes the command and its stderr. */
export async function runOk(argv: readonly string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code ?? r.signal}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export const inNs = (ns: string, argv: readonly string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Prerequisites

/** Throws unless root and every program the lab drives is installed (never installs: see helpers/system.ts). */
export function checkPrerequisites(): void {
  requireRoot('network namespaces, Postfix');
  requireCommands(['postfix', 'dovecot', 'nft', 'ip', 'ss', 'nc']);
}

// ---------------------------------------------------------------------------------------------
// Root namespace snapshot

/**
 * Everything of the root namespace that a leak would change. Only listed, never modified (no
 * iptables here: iptables-nft can create tables even when it only lists). Namespaces are limited
 * to this suite's prefix because other suites may create and remove their own concurrently.
 */
export async function snapshotRootNamespace(): Promise<string> {
  const [ruleset, ipsets, links, netns] = await Promise.all([
    runOk(['nft', 'list', 'ruleset']),
    run(['ipset', 'list', '-n']).then((r) => (r.code === 0 ? r.stdout : `(ipset unavailable: ${r.code})`)),
    runOk(['ip', '-o', 'link', 'show']),
    runOk(['ip', 'netns', 'list']),
  ]);
  const tables = ['/proc/net/ip_tables_names', '/proc/net/ip6_tables_names']
    .map((f) => `${f}: ${existsSync(f) ? readFileSync(f, 'utf8').trim() : '(absent)'}`)
    .join('\n');
  const linkNames = links
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
  // Only this process's labs: a benchmark or another test run may own other pbane2e-* namespaces meanwhile.
  const mine = `${NS_PREFIX_ROOT}${process.pid}-`;
  const ours = netns
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(mine))
    .sort();
  return [
    '--- nft ruleset', ruleset.trim(),
    '--- ipsets', ipsets.trim(),
    '--- iptables tables', tables,
    '--- links', linkNames.join(' '),
    `--- netns ${mine}*`, ours.join(' '),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Processes inside a namespace

function netnsExists(ns: string): boolean {
  return existsSync(path.join('/run/netns', ns)) || existsSync(path.join('/var/run/netns', ns));
}

async function netnsPids(ns: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', ns]);
  if (r.code !== 0) return [];
  return r.stdout.split(/\s+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0);
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/**
 * Waits until no process runs in `ns`; after `termAfterMs` sends SIGTERM to exactly the PIDs
 * still there, after `killAfterMs` SIGKILL. Every process in our namespaces was started by us.
 */
export async function drainNamespace(ns: string, termAfterMs = 2000, killAfterMs = 4000, giveUpMs = 8000): Promise<void> {
  const start = Date.now();
  let termed = false;
  let killed = false;
  for (;;) {
    const pids = await netnsPids(ns);
    if (pids.length === 0) return;
    const waited = Date.now() - start;
    if (!termed && waited >= termAfterMs) {
      signal(pids, 'SIGTERM');
      termed = true;
    } else if (!killed && waited >= killAfterMs) {
      signal(pids, 'SIGKILL');
      killed = true;
    } else if (waited >= giveUpMs) {
      throw new Error(`processes left in namespace ${ns}: ${pids.join(' ')}`);
    }
    await sleep(40);
  }
}

/** PIDs of live (non-zombie) processes whose command line or environment mentions `needle`. */
export function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z /s.test(stat)) continue; // a zombie is waiting for its reaper, it runs nothing
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (cmdline.includes(needle) || environ.includes(needle)) found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Removes namespaces and temp dirs that an aborted earlier run of this suite left behind (its PID is dead). */
export async function removeStaleLabs(): Promise<string[]> {
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  const removed: string[] = [];
  const list = await runOk(['ip', 'netns', 'list']);
  for (const line of list.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${NS_PREFIX_ROOT}(\\d+)-`).exec(ns);
    if (!m || alive(Number(m[1]))) continue;
    await drainNamespace(ns, 0, 1000);
    await run(['ip', 'netns', 'del', ns]);
    removed.push(ns);
  }
  for (const entry of readdirSync(os.tmpdir())) {
    const m = new RegExp(`^${NS_PREFIX_ROOT}(\\d+)-`).exec(entry);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// Configuration files

function mainCf(dir: string, greetWait: string): string {
  return `# pban e2e: a Postfix that only ever talks to the test's own namespaces
compatibility_level = 3.6
queue_directory = ${dir}/spool
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = ${MAIL_DOMAIN}
mydomain = pban.test
myorigin = $myhostname
mydestination = $myhostname, localhost
inet_interfaces = all
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
local_recipient_maps = texthash:$config_directory/local_recipients
alias_maps =
alias_database =
# never deliver anything anywhere
local_transport = discard:pban-test
default_transport = error:outbound delivery disabled in pban test
relay_transport = error:outbound delivery disabled in pban test
# no DNS: clients are logged as unknown[IP]
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtpd_banner = $myhostname ESMTP
biff = no
maillog_file = ${dir}/log/postfix.log
maillog_file_prefixes = /var, /dev/stdout, ${dir}
postscreen_greet_action = enforce
postscreen_greet_wait = ${greetWait}
postscreen_cache_map = btree:$data_directory/postscreen_cache
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/dovecot-auth
smtpd_tls_auth_only = no
smtpd_error_sleep_time = 0s
smtpd_soft_error_limit = 3
smtpd_hard_error_limit = 5
`;
}

// chroot n everywhere: Debian's stock master.cf chroots smtpd, which would need /etc copied into the spool.
const MASTER_CF = `# service  type  private unpriv chroot wakeup maxproc command
25         inet  n       -      n      -      1       postscreen
smtpd      pass  -       -      n      -      -       smtpd
dnsblog    unix  -       -      n      -      0       dnsblog
tlsproxy   unix  -       -      n      -      0       tlsproxy
2525       inet  n       -      n      -      -       smtpd
587        inet  n       -      n      -      -       smtpd
  -o syslog_name=postfix/submission
pickup     unix  n       -      n      60     1       pickup
cleanup    unix  n       -      n      -      0       cleanup
qmgr       unix  n       -      n      300    1       qmgr
rewrite    unix  -       -      n      -      -       trivial-rewrite
bounce     unix  -       -      n      -      0       bounce
defer      unix  -       -      n      -      0       bounce
trace      unix  -       -      n      -      0       bounce
verify     unix  -       -      n      -      1       verify
proxymap   unix  -       -      n      -      -       proxymap
error      unix  -       -      n      -      -       error
retry      unix  -       -      n      -      -       error
discard    unix  -       -      n      -      -       discard
anvil      unix  -       -      n      -      1       anvil
scache     unix  -       -      n      -      1       scache
postlog    unix-dgram n  -      n      -      1       postlogd
`;

function dovecotConf(dir: string, instance: string): string {
  return `# pban e2e: Dovecot as a SASL authenticator only
base_dir = ${dir}/dovecot/run
state_dir = ${dir}/dovecot/state
instance_name = ${instance}
protocols =
ssl = no
log_path = ${dir}/log/dovecot.log
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
disable_plaintext_auth = no
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/dovecot/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener ${dir}/spool/private/dovecot-auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
# An anvil-auth-penalty listener nobody may open disables Dovecot's per-IP auth penalty
# (2-15 s after each failure, shared per /48 for IPv6), which would make attacks crawl.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;
}

// ---------------------------------------------------------------------------------------------
// The lab

export class MailLab {
  readonly timings: Timings = {};
  private postfixStarted = false;
  private torn = false;

  private constructor(
    readonly prefix: string,
    readonly dir: string,
    readonly server: string,
    readonly attackers: readonly [Host, Host],
    readonly benign: Host,
  ) {}

  get namespaces(): string[] {
    return [this.server, ...this.attackers.map((h) => h.ns), this.benign.ns];
  }
  get logPath(): string {
    return path.join(this.dir, 'log', 'postfix.log');
  }
  get dovecotLogPath(): string {
    return path.join(this.dir, 'log', 'dovecot.log');
  }
  get postfixConfigDir(): string {
    return path.join(this.dir, 'postfix');
  }

  /**
   * Builds the namespaces and starts Postfix and Dovecot. On any failure it tears down what it
   * built and rethrows, so a failed before() leaves nothing behind either.
   */
  static async start(opts: LabOptions = {}): Promise<MailLab> {
    const t0 = Date.now();
    checkPrerequisites();
    await removeStaleLabs();
    const prefix = `${NS_PREFIX_ROOT}${process.pid}-${Math.random().toString(36).slice(2, 6)}-`;
    const n = opts.addressesPerAttacker ?? 8;
    const hostAddrs = (net4: string, net6: string, count: number, first: number): Pick<Host, 'v4' | 'v6'> => ({
      v4: Array.from({ length: count }, (_, i) => `${net4}.${first + i}`),
      v6: Array.from({ length: count }, (_, i) => `${net6}::${(first + i).toString(16)}`),
    });
    const attackers: [Host, Host] = [
      { ns: `${prefix}atk1`, ...hostAddrs('198.51.100', '2001:db8:1', n, 16), net4: '198.51.100.0/24', net6: '2001:db8:1::/64', server4: '198.51.100.1', server6: '2001:db8:1::1' },
      { ns: `${prefix}atk2`, ...hostAddrs('203.0.113', '2001:db8:2', n, 16), net4: '203.0.113.0/24', net6: '2001:db8:2::/64', server4: '203.0.113.1', server6: '2001:db8:2::1' },
    ];
    const benign: Host = { ns: `${prefix}good`, ...hostAddrs('192.0.2', '2001:db8:3', 1, 16), net4: '192.0.2.0/24', net6: '2001:db8:3::/64', server4: '192.0.2.1', server6: '2001:db8:3::1' };
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    const lab = new MailLab(prefix, dir, `${prefix}srv`, attackers, benign);
    try {
      await lab.buildNetwork();
      lab.timings.network = Date.now() - t0;
      await lab.startMailServer(opts.greetWait ?? '1s');
      lab.timings.setup = Date.now() - t0;
      return lab;
    } catch (err) {
      await lab.teardown().catch(() => undefined);
      throw err;
    }
  }

  private async buildNetwork(): Promise<void> {
    const clients = [...this.attackers, this.benign];
    // One `ip -batch` per namespace: a few processes instead of ~60.
    const root = [
      `netns add ${this.server}`,
      ...clients.map((h) => `netns add ${h.ns}`),
      // both veth ends are created directly inside the namespaces: nothing appears in the root namespace
      ...clients.map((h, i) => `link add to-host${i} netns ${this.server} type veth peer name eth0 netns ${h.ns}`),
    ];
    await runOk(['ip', '-batch', '-'], { input: root.join('\n') + '\n' });
    const srv = [
      'link set lo up',
      'link add br0 type bridge stp_state 0 forward_delay 0',
      'link set br0 up',
      ...clients.flatMap((_, i) => [`link set to-host${i} master br0`, `link set to-host${i} up`]),
      ...clients.flatMap((h) => [`addr add ${h.server4}/24 dev br0`, `addr add ${h.server6}/64 dev br0 nodad`]),
    ];
    const batches = [
      runOk(['ip', '-n', this.server, '-batch', '-'], { input: srv.join('\n') + '\n' }),
      ...clients.map((h) =>
        runOk(['ip', '-n', h.ns, '-batch', '-'], {
          input:
            [
              'link set lo up',
              'link set eth0 up',
              // nodad: an IPv6 address is usable at once instead of "tentative" (bind would fail)
              ...h.v4.map((a) => `addr add ${a}/24 dev eth0`),
              ...h.v6.map((a) => `addr add ${a}/64 dev eth0 nodad`),
            ].join('\n') + '\n',
        }),
      ),
    ];
    await Promise.all(batches);
  }

  private async startMailServer(greetWait: string): Promise<void> {
    const d = this.dir;
    chmodSync(d, 0o755); // mkdtemp gives 0700: the postfix and dovecot users must traverse it
    for (const sub of ['postfix', 'spool', 'log', 'dovecot']) mkdirSync(path.join(d, sub));
    // Do not create data_directory: as root it would be "not owned by postfix". postfix start makes it.
    writeFileSync(path.join(d, 'postfix', 'main.cf'), mainCf(d, greetWait));
    writeFileSync(path.join(d, 'postfix', 'master.cf'), MASTER_CF);
    writeFileSync(path.join(d, 'postfix', 'local_recipients'), 'alice OK\npostmaster OK\n');
    writeFileSync(path.join(d, 'dovecot', 'dovecot.conf'), dovecotConf(d, `${this.prefix}dovecot`));
    writeFileSync(path.join(d, 'dovecot', 'passwd'), `${GOOD_USER.user}:{PLAIN}${GOOD_USER.password}\n`);

    let t = Date.now();
    // Postfix first: the Dovecot auth socket lives in its spool (smtpd connects to it lazily).
    const pf = await run(inNs(this.server, ['postfix', '-c', this.postfixConfigDir, 'start']), { timeoutMs: 60_000 });
    this.postfixStarted = true;
    // postfix -c errors go to the maillog_file, not to stderr: quote it.
    if (pf.code !== 0) throw new Error(`postfix start exited ${pf.code}: ${pf.stderr.trim()} ${this.logTail(10)}`);
    this.timings.postfixStart = Date.now() - t;
    t = Date.now();
    await runOk(inNs(this.server, ['dovecot', '-c', path.join(d, 'dovecot', 'dovecot.conf')]));
    this.timings.dovecotStart = Date.now() - t;
    t = Date.now();
    const authSocket = path.join(d, 'spool', 'private', 'dovecot-auth');
    for (let i = 0; ; i++) {
      const listening = await runOk(inNs(this.server, ['ss', '-Hltn']));
      const ports = new Set(listening.split('\n').map((l) => /:(\d+)\s/.exec(l)?.[1]).filter(Boolean));
      if (existsSync(authSocket) && [25, 587, 2525].every((p) => ports.has(String(p)))) break;
      if (i >= 100) throw new Error(`mail server not ready after 5 s: listening ${[...ports].join(',')}, auth socket ${existsSync(authSocket)} ${this.logTail(10)}`);
      await sleep(50);
    }
    this.timings.ready = Date.now() - t;
  }

  // -------------------------------------------------------------------------------------------
  // The log

  /** Current size of the maillog_file: remember it before an action, read from it after. */
  logSize(): number {
    try {
      return statSync(this.logPath).size;
    } catch {
      return 0;
    }
  }

  readLog(from = 0): string {
    let fd: number;
    try {
      fd = openSync(this.logPath, 'r');
    } catch {
      return '';
    }
    try {
      const size = statSync(this.logPath).size;
      if (size <= from) return '';
      const buf = Buffer.alloc(size - from);
      readSync(fd, buf, 0, buf.length, from);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  logTail(lines: number): string {
    const all = this.readLog().trimEnd().split('\n');
    return `\n--- last ${lines} lines of ${this.logPath}:\n${all.slice(-lines).join('\n')}`;
  }

  /**
   * Waits until every pattern matches some log line written after byte `from` (postlogd writes
   * asynchronously). Returns the lines matched by each pattern; throws naming the missing ones.
   */
  async waitForLog(patterns: readonly RegExp[], from: number, timeoutMs = 5000): Promise<string[][]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.readLog(from).split('\n');
      const hits = patterns.map((p) => lines.filter((l) => p.test(l)));
      if (hits.every((h) => h.length > 0)) return hits;
      if (Date.now() >= deadline) {
        const missing = patterns.filter((_, i) => hits[i]?.length === 0).map(String);
        throw new Error(`log lines not seen within ${timeoutMs} ms: ${missing.join(', ')}${this.logTail(30)}`);
      }
      await sleep(50);
    }
  }

  /** Rotates the maillog_file the Postfix way (rename + gzip, postlogd reopens a fresh file). */
  async rotateLog(): Promise<void> {
    await runOk(inNs(this.server, ['postfix', '-c', this.postfixConfigDir, 'logrotate']));
  }

  // -------------------------------------------------------------------------------------------
  // Teardown

  /**
   * Stops Postfix, then Dovecot (its children stay while smtpd holds auth connections), waits until
   * no process is left in any namespace (TERM, then KILL, only those PIDs), deletes the
   * namespaces and the temp dir. Safe to call twice and after a partial start.
   */
  async teardown(): Promise<Timings> {
    if (this.torn) return this.timings;
    this.torn = true;
    const t0 = Date.now();
    const srvUp = netnsExists(this.server);
    if (srvUp && this.postfixStarted) {
      await run(inNs(this.server, ['postfix', '-c', this.postfixConfigDir, 'stop']), { timeoutMs: 15_000 });
    }
    const pidFile = path.join(this.dir, 'dovecot', 'run', 'master.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && (await netnsPids(this.server)).includes(pid)) signal([pid], 'SIGTERM');
    }
    this.timings.teardownServices = Date.now() - t0;
    const errors: string[] = [];
    for (const ns of this.namespaces) {
      if (!(netnsExists(ns))) continue;
      try {
        await drainNamespace(ns);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    this.timings.teardownDrain = Date.now() - t0 - this.timings.teardownServices;
    const del = await Promise.all(this.namespaces.map(async (ns) => ((netnsExists(ns)) ? run(['ip', 'netns', 'del', ns]) : undefined)));
    for (const r of del) if (r && r.code !== 0) errors.push(`ip netns del: ${r.stderr.trim()}`);
    if (this.dir.startsWith(path.join(os.tmpdir(), NS_PREFIX_ROOT))) rmSync(this.dir, { recursive: true, force: true });
    this.timings.teardown = Date.now() - t0;
    if (errors.length > 0) throw new Error(`teardown: ${errors.join('; ')}`);
    return this.timings;
  }
}
