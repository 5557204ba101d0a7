// A control server with in-memory handlers on a socket in a fresh temp dir, plus a raw socket
// client for sending what the real client never would.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { startControlServer, type ControlServer } from '../../src/control/server.js';
import { parseTarget } from '../../src/control/target.js';
import type { Ban, BanKind } from '../../src/events.js';
import { MemoryHandlers, type JailSetup } from './memory-handlers.js';

export const JAILS: readonly JailSetup[] = [
  {
    name: 'postfix',
    filter: 'postfix',
    sources: ['/var/log/mail.log'],
    bantime: 3_600_000,
    actions: [{ name: 'nftables', ok: true, lastError: null, lastErrorAt: null }],
  },
  {
    name: 'postfix-sasl',
    filter: 'postfix-sasl',
    sources: ['/var/log/mail.log', '/var/log/mail.err'],
    bantime: 86_400_000,
    actions: [{ name: 'nftables', ok: false, lastError: 'nft: exit 1: Error: Could not process rule', lastErrorAt: 0 }],
  },
];

export interface TestDaemon {
  readonly dir: string;
  readonly socketPath: string;
  readonly handlers: MemoryHandlers;
  readonly clock: ManualClock;
  readonly server: ControlServer;
  readonly errors: unknown[];
  close(): Promise<void>;
}

export async function startTestDaemon(jails: readonly JailSetup[] = JAILS): Promise<TestDaemon> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-control-'));
  const socketPath = path.join(dir, 'run', 'pban.sock');
  const clock = new ManualClock(Date.now());
  const handlers = new MemoryHandlers(clock, jails);
  const errors: unknown[] = [];
  const server = await startControlServer({ socketPath, handlers, onError: (e) => errors.push(e), requestTimeoutMs: 2000 });
  return {
    dir,
    socketPath,
    handlers,
    clock,
    server,
    errors,
    close: async () => {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function makeBan(target: string, jail: string, kind: BanKind, created: number, until: number | null, failures = 5, banNumber = 1): Ban {
  const t = parseTarget(target);
  if (!t.ok) throw new Error(t.error);
  return { target: t.target, jail, kind, created, until, failures, banNumber };
}

/** Sends bytes as they are and returns everything the server answers before closing. */
export function sendRaw(socketPath: string, data: string | Buffer, opts: { end?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath);
    const chunks: Buffer[] = [];
    s.on('connect', () => {
      // A flood may be cut off by the server's early reply: that is the point, not an error.
      s.write(data, () => undefined);
      if (opts.end !== false) s.end();
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
