// SMTP attack clients (and one benign client) for the end-to-end suite.
//
// A Node process cannot switch network namespace, so the clients run in a small runner script
// (attack-runner.ts) that the test starts with `ip netns exec <attacker-ns> node attack-runner.js`.
// Every socket has its own timeouts, and every result says what happened to the TCP connection,
// because "the next connection fails" is how the pban scenarios see a ban in the kernel.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export type AttackKind =
  | 'sasl-login' // AUTH LOGIN with a wrong password (587)
  | 'sasl-plain' // AUTH PLAIN with an unknown user (587)
  | 'unknown-user' // RCPT to users that do not exist (2525 or 25)
  | 'relay' // RCPT to a foreign domain without auth (2525 or 25)
  | 'pregreet' // talk before the banner on the postscreen port (25)
  | 'pipelining' // EHLO + MAIL before the banner on a plain smtpd port (2525)
  | 'benign' // a real message to alice@, optionally with correct SASL credentials
  | 'probe'; // connect, read the greeting, QUIT: no failure line, just "can I connect?"

export interface AttackSpec {
  kind: AttackKind;
  /** Source address; must be configured in the namespace the runner runs in. */
  source: string;
  server: string;
  port: number;
  /** Failures per connection where the protocol allows several (RCPT, AUTH). Default 1. */
  count?: number;
  /** Milliseconds to wait for the TCP handshake. A DROP rule shows as a timeout. Default 1500. */
  connectTimeoutMs?: number;
  /** Milliseconds to wait for each server reply. Default 6000 (postscreen's greet wait and Dovecot's ~1 s failure flush). */
  replyTimeoutMs?: number;
  /** benign only: authenticate first with these credentials (submission). */
  auth?: { user: string; password: string };
}

/** What happened to the TCP connection itself. */
export type ConnectOutcome = 'accepted' | 'refused' | 'timeout' | 'unreachable' | 'error';

export interface AttackResult {
  spec: AttackSpec;
  connect: ConnectOutcome;
  /** The whole dialogue ran to its end (QUIT answered or the server closed as expected). */
  completed: boolean;
  /** Every server reply, as received (multi-line replies joined with \n). */
  replies: string[];
  /** benign only: the queue id from "250 2.0.0 Ok: queued as ID". */
  queueId?: string;
  error?: string;
  ms: number;
}

export const DEFAULTS = { connectTimeoutMs: 1500, replyTimeoutMs: 6000 } as const;

const CRLF = '\r\n';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** A reader of complete SMTP replies ("250-a\r\n250 b\r\n") over one socket, each with a deadline. */
class SmtpConnection {
  private buffer = '';
  private closed = false;
  private waiter: (() => void) | undefined;
  readonly replies: string[] = [];

  constructor(private readonly socket: net.Socket, private readonly replyTimeoutMs: number) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.waiter?.();
    });
    const end = (): void => {
      this.closed = true;
      this.waiter?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  send(line: string): void {
    if (!this.closed) this.socket.write(line + CRLF);
  }

  sendRaw(data: string): void {
    if (!this.closed) this.socket.write(data);
  }

  /** Next complete reply; rejects on timeout or when the server closes before replying. */
  async reply(): Promise<string> {
    const deadline = Date.now() + this.replyTimeoutMs;
    for (;;) {
      const reply = this.takeReply();
      if (reply !== undefined) {
        this.replies.push(reply);
        return reply;
      }
      if (this.closed) throw new Error(`server closed the connection (after ${this.replies.length} replies)`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${this.replyTimeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Sends a command and returns the reply's three-digit code with the reply. */
  async command(line: string): Promise<{ code: number; text: string }> {
    this.send(line);
    const text = await this.reply();
    return { code: Number(text.slice(0, 3)), text };
  }

  close(): void {
    this.socket.destroy();
  }

  private takeReply(): string | undefined {
    const lines: string[] = [];
    let pos = 0;
    for (;;) {
      const eol = this.buffer.indexOf('\n', pos);
      if (eol < 0) return undefined;
      const line = this.buffer.slice(pos, eol).replace(/\r$/, '');
      // postscreen answers a pregreeting client's EHLO right after its unfinished "220-" banner:
      // a change of code ends the previous reply.
      if (lines.length > 0 && line.slice(0, 3) !== lines[0]!.slice(0, 3)) {
        this.buffer = this.buffer.slice(pos);
        return lines.join('\n');
      }
      lines.push(line);
      pos = eol + 1;
      // The last line of a reply has a space (or nothing) after the code, not a dash.
      if (line.length < 4 || line[3] !== '-') {
        this.buffer = this.buffer.slice(pos);
        return lines.join('\n');
      }
    }
  }
}

function classifyConnectError(err: NodeJS.ErrnoException): ConnectOutcome {
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return 'refused';
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return 'unreachable';
    default:
      return 'error';
  }
}

async function connect(spec: AttackSpec): Promise<{ outcome: ConnectOutcome; socket?: net.Socket; error?: string }> {
  const timeoutMs = spec.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  return new Promise((resolve) => {
    const socket = net.connect({ host: spec.server, port: spec.port, localAddress: spec.source });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ outcome: 'timeout', error: `no TCP handshake within ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve({ outcome: 'accepted', socket });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ outcome: classifyConnectError(err), error: `${err.code ?? 'error'}: ${err.message}` });
    });
  });
}

async function quit(c: SmtpConnection): Promise<void> {
  const r = await c.command('QUIT');
  if (r.code !== 221) throw new Error(`QUIT answered ${r.text}`);
}

/** The dialogue of each kind, run on an accepted connection. Returns the queue id for benign. */
async function converse(spec: AttackSpec, c: SmtpConnection): Promise<string | undefined> {
  const count = spec.count ?? 1;
  switch (spec.kind) {
    case 'pregreet': {
      // Talk before the banner. postscreen (greet_action=enforce) logs PREGREET, plays along and
      // rejects the RCPT with "550 5.5.1 Protocol error".
      c.send('EHLO pregreet.example');
      await c.reply(); // the banner
      await c.reply(); // the EHLO answer
      await c.command('MAIL FROM:<a@example.net>');
      await c.command('RCPT TO:<alice@mail.pban.test>');
      await quit(c);
      return undefined;
    }
    case 'pipelining': {
      // Two commands before the banner: smtpd logs "improper command pipelining after CONNECT"
      // (or "after EHLO", depending on timing) and answers both.
      c.sendRaw(`EHLO pipeliner.example${CRLF}MAIL FROM:<a@example.net>${CRLF}`);
      await c.reply(); // banner
      await c.reply(); // EHLO
      await c.reply(); // MAIL
      await quit(c);
      return undefined;
    }
    default:
      break;
  }
  const banner = await c.reply();
  if (!banner.startsWith('220')) throw new Error(`unexpected banner ${banner}`);
  if (spec.kind === 'probe') {
    await quit(c);
    return undefined;
  }
  const ehlo = await c.command(spec.kind === 'benign' ? 'EHLO good.example' : 'EHLO attacker.example');
  if (ehlo.code !== 250) throw new Error(`EHLO answered ${ehlo.text}`);
  switch (spec.kind) {
    case 'sasl-login':
      for (let i = 0; i < count; i++) {
        await c.command('AUTH LOGIN');
        await c.command(b64('alice@pban.test'));
        const r = await c.command(b64(`wrong-${i}`));
        if (r.code !== 535) throw new Error(`AUTH LOGIN with a wrong password answered ${r.text}`);
      }
      break;
    case 'sasl-plain':
      for (let i = 0; i < count; i++) {
        const r = await c.command(`AUTH PLAIN ${b64(`\0admin${i}@pban.test\x00123456`)}`);
        if (r.code !== 535) throw new Error(`AUTH PLAIN for an unknown user answered ${r.text}`);
      }
      break;
    case 'unknown-user':
    case 'relay': {
      await c.command('MAIL FROM:<spammer@example.net>');
      for (let i = 0; i < count; i++) {
        const rcpt = spec.kind === 'relay' ? `victim${i}@example.com` : `nosuchuser${i}@mail.pban.test`;
        const r = await c.command(`RCPT TO:<${rcpt}>`);
        if (r.code < 400) throw new Error(`RCPT ${rcpt} was accepted: ${r.text}`);
      }
      break;
    }
    case 'benign': {
      if (spec.auth) {
        const r = await c.command(`AUTH PLAIN ${b64(`\0${spec.auth.user}\0${spec.auth.password}`)}`);
        if (r.code !== 235) throw new Error(`AUTH with correct credentials answered ${r.text}`);
      }
      for (const cmd of ['MAIL FROM:<good@example.net>', 'RCPT TO:<alice@mail.pban.test>']) {
        const r = await c.command(cmd);
        if (r.code !== 250) throw new Error(`${cmd} answered ${r.text}`);
      }
      const data = await c.command('DATA');
      if (data.code !== 354) throw new Error(`DATA answered ${data.text}`);
      c.sendRaw(
        `From: <good@example.net>${CRLF}To: <alice@mail.pban.test>${CRLF}Subject: pban e2e${CRLF}${CRLF}` +
          `a message that must arrive${CRLF}.${CRLF}`,
      );
      const queued = await c.reply();
      const id = /^250 .*queued as ([0-9A-Za-z]+)/.exec(queued)?.[1];
      if (id === undefined) throw new Error(`message not queued: ${queued}`);
      await quit(c);
      return id;
    }
    default:
      throw new Error(`unknown attack kind ${String(spec.kind)}`);
  }
  await quit(c);
  return undefined;
}

/** Runs one client in the current network namespace. Never throws: failures are in the result. */
export async function runAttack(spec: AttackSpec): Promise<AttackResult> {
  const started = Date.now();
  const conn = await connect(spec);
  if (conn.socket === undefined) {
    return { spec, connect: conn.outcome, completed: false, replies: [], error: conn.error, ms: Date.now() - started };
  }
  const c = new SmtpConnection(conn.socket, spec.replyTimeoutMs ?? DEFAULTS.replyTimeoutMs);
  try {
    const queueId = await converse(spec, c);
    return { spec, connect: 'accepted', completed: true, replies: c.replies, ...(queueId ? { queueId } : {}), ms: Date.now() - started };
  } catch (err) {
    return { spec, connect: 'accepted', completed: false, replies: c.replies, error: (err as Error).message, ms: Date.now() - started };
  } finally {
    c.close();
  }
}

/** The compiled runner script next to this compiled module. */
export const RUNNER_JS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'attack-runner.js');

/**
 * Runs the clients inside network namespace `ns`, all at the same time, and returns one result per spec
 * in the same order. The specs travel as one JSON argument (no shell anywhere).
 */
export async function runAttacksIn(ns: string, specs: readonly AttackSpec[], timeoutMs = 60_000): Promise<AttackResult[]> {
  if (specs.length === 0) return [];
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, RUNNER_JS, JSON.stringify(specs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`attack runner in ${ns} exited ${code ?? signal}: ${err.trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as AttackResult[]);
      } catch {
        reject(new Error(`attack runner in ${ns} printed no JSON: ${out.slice(0, 500)} ${err.trim()}`));
      }
    });
  });
}

/** A connection attempt that a firewall ban stops (DROP → timeout, REJECT → refused). */
export function isBlocked(r: AttackResult): boolean {
  return r.connect === 'timeout' || r.connect === 'refused';
}
