// The CLI's end of the control socket: checks that the socket is root's, sends one request,
// reads the whole reply, and turns every failure into a one-line ControlError.
import net from 'node:net';
import fs from 'node:fs';
import { ControlError } from '../errors.js';
import { OK_PREFIX, OK_SUFFIX, encodeRequest, parseReply, type CommandArgs, type CommandName } from './protocol.js';
import type { CommandReplies } from './types.js';

export interface ClientOptions {
  readonly socketPath: string;
  /** Whole exchange, connect to last byte. */
  readonly timeoutMs?: number;
}

const MAX_REPLY_BYTES = 1024 * 1024 * 1024;

/**
 * Refuses a socket that root does not own: anyone who could create it could read what we send
 * and answer with lies (an empty ban list, a fake "unbanned"). Root, who runs the daemon, is the
 * only owner we trust.
 */
function checkSocket(socketPath: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(socketPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ControlError('control.notRunning', `pban is not running (no socket at ${socketPath})`);
    if (code === 'EACCES') throw new ControlError('control.denied', `permission denied on ${socketPath}: the control socket is for root only (try sudo)`);
    throw new ControlError('control.socket', `${socketPath}: ${(e as Error).message}`);
  }
  if (!st.isSocket()) throw new ControlError('control.notSocket', `${socketPath} is not a socket (is the socket path right?)`);
  if (st.uid !== 0) {
    throw new ControlError('control.untrusted', `refusing to talk to ${socketPath}: it is owned by uid ${st.uid}, not root, so it may not be pban's`);
  }
}

function connectError(e: NodeJS.ErrnoException, socketPath: string): ControlError {
  switch (e.code) {
    case 'ENOENT':
      return new ControlError('control.notRunning', `pban is not running (no socket at ${socketPath})`);
    case 'ECONNREFUSED':
      return new ControlError('control.notRunning', `pban is not running (stale socket at ${socketPath})`);
    case 'EACCES':
    case 'EPERM':
      return new ControlError('control.denied', `permission denied on ${socketPath}: the control socket is for root only (try sudo)`);
    default:
      return new ControlError('control.io', `talking to pban at ${socketPath}: ${e.message}`);
  }
}

/** Sends one request and resolves with the raw reply text. */
export async function requestRaw<K extends CommandName>(opts: ClientOptions, cmd: K, args: CommandArgs[K]): Promise<string> {
  const { socketPath } = opts;
  checkSocket(socketPath);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: ControlError | null, text?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(text ?? '');
    };
    const sock = net.createConnection(socketPath);
    const timer = setTimeout(
      () => finish(new ControlError('control.timeout', `no reply from pban within ${Math.round(timeoutMs / 1000)}s (socket ${socketPath})`)),
      timeoutMs,
    );
    sock.on('connect', () => sock.write(encodeRequest(cmd, args)));
    sock.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REPLY_BYTES) return finish(new ControlError('control.replyTooLarge', `the reply from pban is larger than ${MAX_REPLY_BYTES} bytes`));
      chunks.push(c);
    });
    sock.on('end', () => {
      if (size === 0) return finish(new ControlError('control.noReply', `pban closed the connection without replying (socket ${socketPath})`));
      finish(null, Buffer.concat(chunks, size).toString('utf8'));
    });
    sock.on('error', (e: NodeJS.ErrnoException) => finish(connectError(e, socketPath)));
  });
}

/** Sends one request and returns the reply's data; an error reply becomes a ControlError. */
export async function request<K extends CommandName>(opts: ClientOptions, cmd: K, args: CommandArgs[K]): Promise<CommandReplies[K]> {
  const reply = parseReply(await requestRaw(opts, cmd, args));
  if (!reply.ok) throw new ControlError(reply.error.code, reply.error.message);
  return reply.data as CommandReplies[K];
}

/**
 * Writes the reply's data as JSON to `out`, streaming it through as it arrives when the reply
 * has the standard success shape: `pban banned --json` with 100,000 bans never parses, copies
 * or re-encodes the 14 MB. Any other reply is parsed; an error reply becomes a ControlError.
 * Ends what it writes with a newline.
 */
export async function pipeJson<K extends CommandName>(
  opts: ClientOptions,
  cmd: K,
  args: CommandArgs[K],
  out: NodeJS.WritableStream,
): Promise<void> {
  const { socketPath } = opts;
  checkSocket(socketPath);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const prefix = Buffer.from(OK_PREFIX);
  const suffix = Buffer.from(OK_SUFFIX);
  return new Promise<void>((resolve, reject) => {
    let head: Buffer[] = [];
    let headSize = 0;
    let mode: 'undecided' | 'pipe' | 'buffer' = 'undecided';
    /** The last bytes seen while piping: they may be the closing `}\n`, which is not data. */
    let tail = Buffer.alloc(0);
    let settled = false;
    const finish = (err: ControlError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    const write = (b: Buffer): void => {
      if (b.length > 0 && !out.write(b)) {
        sock.pause();
        out.once('drain', () => sock.resume());
      }
    };
    // Holds back the last bytes of what arrived, without copying the bulk of each chunk.
    const emit = (chunk: Buffer): void => {
      if (chunk.length >= suffix.length) {
        write(tail);
        write(chunk.subarray(0, chunk.length - suffix.length));
        tail = Buffer.from(chunk.subarray(chunk.length - suffix.length));
        return;
      }
      const all = Buffer.concat([tail, chunk]);
      const keep = Math.min(suffix.length, all.length);
      write(all.subarray(0, all.length - keep));
      tail = Buffer.from(all.subarray(all.length - keep));
    };
    const sock = net.createConnection(socketPath);
    const timer = setTimeout(
      () => finish(new ControlError('control.timeout', `no reply from pban within ${Math.round(timeoutMs / 1000)}s (socket ${socketPath})`)),
      timeoutMs,
    );
    sock.on('connect', () => sock.write(encodeRequest(cmd, args)));
    sock.on('data', (c: Buffer) => {
      if (mode === 'pipe') return emit(c);
      head.push(c);
      headSize += c.length;
      if (mode === 'buffer') {
        if (headSize > MAX_REPLY_BYTES) finish(new ControlError('control.replyTooLarge', `the reply from pban is larger than ${MAX_REPLY_BYTES} bytes`));
        return;
      }
      if (headSize < prefix.length) return;
      const first = Buffer.concat(head, headSize);
      if (first.subarray(0, prefix.length).equals(prefix)) {
        mode = 'pipe';
        head = [];
        emit(first.subarray(prefix.length));
      } else {
        mode = 'buffer';
      }
    });
    sock.on('end', () => {
      if (mode === 'pipe') {
        if (!tail.equals(suffix)) return finish(new ControlError('control.truncated', `the reply from pban at ${socketPath} was cut short`));
        out.write('\n');
        return finish(null);
      }
      if (headSize === 0) return finish(new ControlError('control.noReply', `pban closed the connection without replying (socket ${socketPath})`));
      const reply = parseReply(Buffer.concat(head, headSize).toString('utf8'));
      if (!reply.ok) return finish(new ControlError(reply.error.code, reply.error.message));
      out.write(JSON.stringify(reply.data) + '\n');
      finish(null);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => finish(connectError(e, socketPath)));
  });
}
