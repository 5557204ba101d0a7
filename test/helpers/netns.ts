// Network namespaces for firewall tests: a server and two attackers on a bridge that lives in
// the server namespace, so nothing appears in the root namespace. Documentation addresses only,
// no default routes: no packet can leave. A test that cannot build this fails, it never skips.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { requireCommands, requireRoot } from './system.js';

export interface CommandOutput {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv (no shell) and returns its output; never throws for a non-zero exit. */
export function run(argv: readonly string[], stdin?: string): CommandOutput {
  const [file, ...args] = argv;
  try {
    const stdout = execFileSync(file ?? '', args, { input: stdin ?? '', stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    return { status: 0, stdout: stdout.toString(), stderr: '' };
  } catch (e) {
    const err = e as { status?: number | null; stdout?: Buffer; stderr?: Buffer; message: string };
    return { status: err.status ?? null, stdout: err.stdout?.toString() ?? '', stderr: err.stderr?.toString() ?? err.message };
  }
}

/** Like run, but throws with stderr on failure. */
export function must(argv: readonly string[], stdin?: string): string {
  const r = run(argv, stdin);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The root namespace's firewall state: must be identical before and after a suite. */
export function rootSnapshot(): string {
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '(absent)');
  return [
    '--- nft', must(['nft', 'list', 'ruleset']),
    '--- ipset', must(['ipset', 'list', '-n']),
    '--- ip_tables_names', read('/proc/net/ip_tables_names'),
    '--- ip6_tables_names', read('/proc/net/ip6_tables_names'),
  ].join('\n');
}

export const PROBE_PORT = 8080;

export interface Lab {
  readonly srv: string;
  readonly atk1: string;
  readonly atk2: string;
  /** Server addresses reachable from each attacker. */
  readonly server: { readonly v4a: string; readonly v4b: string; readonly v6a: string; readonly v6b: string };
  /** atk1 has two addresses per family inside one network; atk2 sits in other networks. */
  readonly a1: { readonly v4: string; readonly v4b: string; readonly v6: string; readonly v6b: string };
  readonly a2: { readonly v4: string; readonly v6: string };
  /** argv prefix that runs a command in the server namespace. */
  readonly inSrv: readonly string[];
  /** Runs argv inside the server namespace. */
  srvRun(argv: readonly string[], stdin?: string): CommandOutput;
  /** True when a TCP connection from `source` (inside `ns`) to the probe listener succeeds. */
  connects(ns: string, source: string, dest: string, timeoutMs?: number): Promise<boolean>;
  destroy(): Promise<void>;
}

function nsExists(name: string): boolean {
  return must(['ip', 'netns', 'list']).split('\n').some((l) => l.split(' ')[0] === name);
}

/**
 * Builds the namespaces and starts a dual-stack TCP listener (accepts and closes) on
 * PROBE_PORT in the server namespace. `tag` makes names unique: pbanact-srv-<tag>.
 */
export async function createLab(tag: string = String(process.pid)): Promise<Lab> {
  requireRoot('network namespaces');
  requireCommands(['ip', 'nft', 'iptables-nft', 'iptables-legacy', 'ipset', 'nc', 'timeout']);
  const srv = `pbanact-srv-${tag}`;
  const atk1 = `pbanact-a1-${tag}`;
  const atk2 = `pbanact-a2-${tag}`;
  for (const ns of [srv, atk1, atk2]) if (nsExists(ns)) must(['ip', 'netns', 'del', ns]);
  const server = { v4a: '198.51.100.1', v4b: '203.0.113.1', v6a: '2001:db8:1::1', v6b: '2001:db8:2::1' };
  const a1 = { v4: '198.51.100.11', v4b: '198.51.100.21', v6: '2001:db8:1::11', v6b: '2001:db8:1::21' };
  const a2 = { v4: '203.0.113.12', v6: '2001:db8:2::12' };
  let listener: ChildProcess | undefined;
  const destroy = async () => {
    if (listener?.pid !== undefined && listener.exitCode === null) {
      const exited = new Promise((r) => listener?.once('exit', r));
      listener.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    }
    for (const ns of [srv, atk1, atk2]) if (nsExists(ns)) run(['ip', 'netns', 'del', ns]);
  };
  try {
    for (const ns of [srv, atk1, atk2]) {
      must(['ip', 'netns', 'add', ns]);
      must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    must(['ip', '-n', srv, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    must(['ip', '-n', srv, 'link', 'set', 'br0', 'up']);
    for (const a of [`${server.v4a}/24`, `${server.v4b}/24`]) must(['ip', '-n', srv, 'addr', 'add', a, 'dev', 'br0']);
    for (const a of [`${server.v6a}/64`, `${server.v6b}/64`]) must(['ip', '-n', srv, 'addr', 'add', a, 'dev', 'br0', 'nodad']);
    const attackers: [string, string, string[], string[]][] = [
      [atk1, 'pa1', [`${a1.v4}/24`, `${a1.v4b}/24`], [`${a1.v6}/64`, `${a1.v6b}/64`]],
      [atk2, 'pa2', [`${a2.v4}/24`], [`${a2.v6}/64`]],
    ];
    for (const [ns, port, v4, v6] of attackers) {
      // both veth ends are born inside the namespaces: the root namespace never sees them
      must(['ip', 'link', 'add', port, 'netns', srv, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      must(['ip', '-n', srv, 'link', 'set', port, 'master', 'br0', 'up']);
      must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      for (const a of v4) must(['ip', '-n', ns, 'addr', 'add', a, 'dev', 'eth0']);
      for (const a of v6) must(['ip', '-n', ns, 'addr', 'add', a, 'dev', 'eth0', 'nodad']);
    }
    const script = `const s=require('net').createServer(c=>c.destroy());s.listen({port:${PROBE_PORT},host:'::',ipv6Only:false},()=>console.log('ready'));process.on('SIGTERM',()=>process.exit(0));`;
    const l = spawn('ip', ['netns', 'exec', srv, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    listener = l;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('probe listener did not start in 10 s')), 10_000);
      l.stdout?.on('data', (b: Buffer) => {
        if (b.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      l.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`probe listener exited with ${code}`));
      });
    });
  } catch (e) {
    await destroy();
    throw e;
  }
  const inSrv = ['ip', 'netns', 'exec', srv];
  return {
    srv, atk1, atk2, server, a1, a2, inSrv,
    srvRun: (argv, stdin) => run([...inSrv, ...argv], stdin),
    connects: (ns, source, dest, timeoutMs = 400) =>
      new Promise((resolve) => {
        // DROP makes a connect hang, so the probe is capped; REJECT fails it at once
        const p = spawn('ip', ['netns', 'exec', ns, 'timeout', String(timeoutMs / 1000), 'nc', '-z', '-w', '1', '-s', source, dest, String(PROBE_PORT)], { stdio: 'ignore' });
        p.once('exit', (code) => resolve(code === 0));
        p.once('error', () => resolve(false));
      }),
    destroy,
  };
}
