// The real daemon for the control-socket contract tests: `pban start` as a child process with
// the dry-run action, two jails on one log file, the socket given in the config as a relative
// path (so every CLI call below, made with -c, also checks that the CLI and the daemon resolve
// it alike). No fake: every reply comes from the code that runs in production.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, stopDaemon, type DaemonProcess } from '../helpers/daemon-process.js';
import type { CliResult } from '../helpers/run-cli.js';
import { runPbanAsync } from '../cli/run-pban-async.js';
import type { BannedEntry, DaemonStatus } from '../../src/control/types.js';
import { request } from '../../src/control/client.js';

export const JAILS = ['postfix', 'postfix-sasl'] as const;

export interface RealDaemon {
  readonly dir: string;
  readonly config: string;
  readonly socket: string;
  readonly log: string;
  readonly process: DaemonProcess;
  /** Runs the CLI with `-c CONFIG` (the socket path comes from the config). */
  pban(...args: string[]): Promise<CliResult>;
  /** The parsed `--json` output of a command that must succeed. */
  json<T>(...args: string[]): Promise<T>;
  /** Appends lines to the followed log and waits until the daemon has read them. */
  append(lines: readonly string[]): Promise<void>;
  stop(): Promise<number | null>;
}

export const configText = (extra = ''): string => `[pban]
database = "state/pban.sqlite"
socket = "run/pban.sock"

[defaults]
findtime = "10m"
maxretry = 3
bantime = "1h"
ignoreip = ["192.0.2.250"]
action = ["dry-run"]

[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ["mail.log"]

[jails.postfix-sasl]
filter = "postfix[mode=auth]"
logpath = ["mail.log"]
bantime = "1d"
${extra}`;

/** A SASL failure of `ip` as Postfix logs it: both jails count it. */
export { saslLine } from '../helpers/daemon-process.js';

/** A rejected RCPT: only the aggressive postfix jail counts it. */
export const rejectLine = (ip: string, ms = Date.now()): string =>
  `${new Date(ms).toISOString()} mail postfix/smtpd[78]: NOQUEUE: reject: RCPT from unknown[${ip}]: 554 5.7.1 <x@pban.test>: Relay access denied; from=<a@example.net> to=<x@pban.test> proto=ESMTP helo=<x>`;

export async function startRealDaemon(configExtra = ''): Promise<RealDaemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-contract-'));
  const config = path.join(dir, 'pban.toml');
  const log = path.join(dir, 'mail.log');
  const socket = path.join(dir, 'run', 'pban.sock');
  mkdirSync(path.join(dir, 'state'));
  writeFileSync(log, '');
  writeFileSync(config, configText(configExtra));
  const proc = await startDaemon(config, socket);
  const pban = (...args: string[]): Promise<CliResult> => runPbanAsync([...args, '-c', config]);
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await pban(...args, '--json');
    if (r.status !== 0) throw new Error(`pban ${args.join(' ')} --json: exit ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  let expected = 0;
  return {
    dir,
    config,
    socket,
    log,
    process: proc,
    pban,
    json,
    append: async (lines) => {
      appendFileSync(log, lines.map((l) => l + '\n').join(''));
      expected += lines.length;
      const deadline = Date.now() + 15_000;
      while (((await request({ socketPath: socket }, 'status', {})) as DaemonStatus).linesRead < expected) {
        if (Date.now() > deadline) throw new Error(`the daemon did not read ${expected} lines in 15 s`);
        await sleep(50);
      }
    },
    stop: async () => {
      const code = await stopDaemon(proc);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Sends bytes as they are and returns everything the daemon answers before it closes. */
export function sendRaw(socketPath: string, data: string | Buffer, opts: { end?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath);
    const chunks: Buffer[] = [];
    s.on('connect', () => {
      // A flood may be cut off by the daemon's early reply: that is the point, not an error.
      s.write(data, () => undefined);
      if (opts.end !== false) s.end();
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

export type { BannedEntry };
