// Starts the real `pban start` daemon as a child process and talks to it through the real CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PBAN_BIN, runPban, type CliResult } from './run-cli.js';
import { requireRoot } from './system.js';

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly socket: string;
  /** Everything the daemon logged so far. */
  output(): string;
  /** Resolves with the exit code once the process ended. */
  readonly exited: Promise<number | null>;
}

export async function startDaemon(config: string, socket: string, extraArgs: readonly string[] = [], wrapper: readonly string[] = []): Promise<DaemonProcess> {
  requireRoot('the CLI talks only to a root-owned control socket');
  const argv = [...wrapper, process.execPath, PBAN_BIN, 'start', '-c', config, ...extraArgs];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PBAN_LOG_LEVEL: 'debug' } });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  while (!existsSync(socket) || !out.includes('daemon.started')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      // not handed to the caller, so nobody else would end it
      child.kill('SIGKILL');
      throw new Error(`daemon did not start (exit ${child.exitCode}):\n${out}`);
    }
    await sleep(25);
  }
  return { child, socket, output: () => out, exited };
}

export function cli(socket: string, args: readonly string[]): CliResult {
  return runPban([...args, '--socket', socket]);
}

export function cliJson<T>(socket: string, args: readonly string[]): T {
  const r = cli(socket, [...args, '--json']);
  if (r.status !== 0) throw new Error(`pban ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Polls until `probe` returns a value, or throws after `ms`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function stopDaemon(d: DaemonProcess): Promise<number | null> {
  if (d.child.exitCode === null) d.child.kill('SIGTERM');
  return d.exited;
}

/** A Postfix SASL failure of `ip`, the line the daemon tests feed: the shipped postfix filter counts it. */
export const saslLine = (ip: string, ms = Date.now()): string =>
  `${new Date(ms).toISOString()} mail postfix/submission/smtpd[77]: warning: unknown[${ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=bob`;
