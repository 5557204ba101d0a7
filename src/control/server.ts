// The control socket: a UNIX stream socket on which each connection carries one request line
// and gets one reply, after which the server closes the connection.
//
// Who may talk to it. Node cannot read SO_PEERCRED, so the kernel's file permissions do the
// checking: the socket is created with mode 0600 by the daemon (root), inside a directory that
// the daemon owns and that nobody else can write (0700 when we create it). connect() on a UNIX
// socket needs write permission on the socket file, so only root can connect; and because no
// one else can write the directory, no one can swap in a socket of their own. The client adds
// the other half: it refuses a socket that root does not own (see client.ts).
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { ControlError, PbanError } from '../errors.js';
import type { Ban, Target } from '../events.js';
import { targetToString } from '../events.js';
import type { ControlHandlers } from './handlers.js';
import {
  MAX_REQUEST_BYTES,
  OK_PREFIX,
  OK_SUFFIX,
  encodeError,
  parseRequestLine,
  type CommandArgs,
  type Request,
} from './protocol.js';
import { parseTarget } from './target.js';
import type { JailStatus, UnbanReply } from './types.js';
import { BanJsonWriter, banToEntry } from './ban-json.js';

export interface ControlServerOptions {
  readonly socketPath: string;
  readonly handlers: ControlHandlers;
  /** Called with any non-PbanError a handler throws (a bug): log it. The client gets an "internal" reply. */
  readonly onError?: (err: unknown, cmd: string) => void;
  /** A client that has not sent its request line by then is answered with an error and dropped. */
  readonly requestTimeoutMs?: number;
  readonly maxConnections?: number;
}

export interface ControlServer {
  readonly socketPath: string;
  /** Stops listening, drops open connections and removes the socket file. */
  close(): Promise<void>;
}

/** Resolves when the socket can take more, or is gone. */
function drained(sock: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      sock.off('drain', done);
      sock.off('close', done);
      resolve();
    };
    sock.on('drain', done);
    sock.on('close', done);
  });
}

/** A reply too big to build in one go: written in slices, so the daemon keeps reading logs meanwhile. */
interface BanListReply {
  readonly bans: readonly Ban[];
}

type ReplyBody = string | BanListReply;

const BANS_PER_SLICE = 2000;
const ENTRY_SEPARATOR = ',\n';

/**
 * Writes a ban list, one entry per line (so `pban banned --json | grep` works too), slice by
 * slice: the client starts reading while we still serialise, and other work gets the event loop
 * between slices. The list was copied out of the handler's iterable at once, so a store cursor
 * never stays open across turns.
 */
async function writeBanList(sock: net.Socket, bans: readonly Ban[]): Promise<void> {
  if (bans.length === 0) {
    sock.write(OK_PREFIX + '[]');
    return;
  }
  const writer = new BanJsonWriter();
  sock.write(OK_PREFIX + '[\n');
  for (let i = 0; i < bans.length; i += BANS_PER_SLICE) {
    if (sock.destroyed) return;
    const slice = writer.encode(bans, i, Math.min(bans.length, i + BANS_PER_SLICE), ENTRY_SEPARATOR, i > 0);
    if (!sock.write(slice)) await drained(sock);
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }
  sock.write('\n]');
}

function okReply(dataJson: string): string {
  return OK_PREFIX + dataJson + OK_SUFFIX;
}

function requireTarget(text: string): Target {
  const r = parseTarget(text);
  if (!r.ok) throw new ControlError('target.invalid', r.error);
  return r.target;
}

/** Runs one validated request and returns the full reply text. Throws what the handler throws. */
async function dispatch(h: ControlHandlers, req: Request): Promise<ReplyBody> {
  switch (req.cmd) {
    case 'status': {
      const { jail } = req.args as CommandArgs['status'];
      if (jail === undefined) return okReply(JSON.stringify(await h.status()));
      const s = await h.jailStatus(jail);
      const data: JailStatus = {
        name: s.name,
        filter: { name: s.filter, currentlyFailed: s.currentlyFailed, totalFailed: s.totalFailed, sources: s.sources },
        actions: { currentlyBanned: s.banned.length, totalBanned: s.totalBanned, banned: s.banned.map(targetToString) },
      };
      return okReply(JSON.stringify(data));
    }
    case 'banned': {
      const { jail } = req.args as CommandArgs['banned'];
      return { bans: Array.from(await h.banned(jail)) };
    }
    case 'ban': {
      const a = req.args as CommandArgs['ban'];
      const ban = await h.ban(a.jail, requireTarget(a.target), a.timeMs);
      return okReply(JSON.stringify({ ban: banToEntry(ban) }));
    }
    case 'unban': {
      const a = req.args as CommandArgs['unban'];
      const targets = a.all ? null : (a.targets ?? []).map(requireTarget);
      const lifted = await h.unban(targets ? { targets } : { all: true }, a.jail);
      const liftedSet = new Set(lifted.map((b) => targetToString(b.target)));
      const data: UnbanReply = {
        lifted: lifted.map(banToEntry),
        notBanned: targets ? targets.map(targetToString).filter((t) => !liftedSet.has(t)) : [],
      };
      return okReply(JSON.stringify(data));
    }
    case 'reload':
      return okReply(JSON.stringify(await h.reload()));
    case 'stop':
      // The handler runs once this reply is flushed (see handleConnection).
      return okReply(JSON.stringify({ stopping: true }));
    case 'version':
      return okReply(JSON.stringify(await h.version()));
  }
}

function toErrorReply(err: unknown, cmd: string, onError: ControlServerOptions['onError']): string {
  if (err instanceof PbanError) return encodeError(err.code, err.message);
  onError?.(err, cmd);
  const msg = err instanceof Error ? err.message : String(err);
  return encodeError('internal', `internal error in ${cmd} (this is a bug, see the daemon log): ${msg.split('\n')[0] ?? ''}`);
}

function handleConnection(sock: net.Socket, opts: ControlServerOptions): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let answered = false;

  const respond = (text: string, after?: () => void): void => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    sock.end(text, after);
  };
  const timer = setTimeout(
    () => respond(encodeError('request.timeout', 'no complete request line received in time')),
    opts.requestTimeoutMs ?? 5000,
  );

  const handleLine = (line: string): void => {
    const req = parseRequestLine(line);
    if ('error' in req) return respond(encodeError(req.error.code, req.error.message));
    // One request per connection: stop reading, and stop the request timer (a reload may take a while).
    sock.removeAllListeners('data');
    clearTimeout(timer);
    void run(req);
  };

  // Never rejects: whatever goes wrong becomes an error reply or, once a reply is under way, a closed connection.
  const run = async (req: Request): Promise<void> => {
    let reply: ReplyBody;
    try {
      reply = await dispatch(opts.handlers, req);
    } catch (err) {
      return respond(toErrorReply(err, req.cmd, opts.onError));
    }
    if (typeof reply === 'string') {
      const after = req.cmd === 'stop' ? () => void Promise.resolve(opts.handlers.stop()).catch((e: unknown) => opts.onError?.(e, 'stop')) : undefined;
      return respond(reply, after);
    }
    answered = true;
    try {
      await writeBanList(sock, reply.bans);
      sock.end(OK_SUFFIX);
    } catch (err) {
      // Half a reply is out: the client sees a cut-short reply and says so.
      opts.onError?.(err, req.cmd);
      sock.destroy();
    }
  };

  sock.on('data', (chunk: Buffer) => {
    if (answered) return;
    const nl = chunk.indexOf(0x0a);
    const take = nl < 0 ? chunk.length : nl;
    size += take;
    if (size > MAX_REQUEST_BYTES) {
      return respond(encodeError('request.tooLarge', `request larger than ${MAX_REQUEST_BYTES} bytes`));
    }
    chunks.push(nl < 0 ? chunk : chunk.subarray(0, nl));
    if (nl >= 0) handleLine(Buffer.concat(chunks).toString('utf8'));
  });
  // A client that half-closes without a newline still gets its request read.
  sock.on('end', () => {
    if (!answered && sock.listenerCount('data') > 0) {
      if (size === 0) respond(encodeError('request.empty', 'empty request'));
      else handleLine(Buffer.concat(chunks).toString('utf8'));
    }
  });
  // A client that goes away mid-reply is not our problem; never let it surface as an uncaught error.
  sock.on('error', () => {
    clearTimeout(timer);
  });
  sock.on('close', () => clearTimeout(timer));
}

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Creates the socket's directory (0700) or checks that nobody but us can write the existing one. */
function prepareDirectory(dir: string): void {
  const created = fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) fs.chmodSync(dir, 0o700);
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.() ?? 0;
  if (!st.isDirectory()) throw new ControlError('control.unsafeDir', `${dir}: not a directory`);
  if (st.uid !== uid) throw new ControlError('control.unsafeDir', `${dir}: owned by uid ${st.uid}, not by pban (uid ${uid}); refusing to put the control socket there`);
  if ((st.mode & 0o022) !== 0) {
    throw new ControlError('control.unsafeDir', `${dir}: writable by group or others (mode ${(st.mode & 0o777).toString(8)}); refusing to put the control socket there`);
  }
}

function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.createConnection(socketPath);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Removes a socket left by a daemon that died; refuses if a daemon still answers or the path is not a socket. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socketPath);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw e;
  }
  if (!st.isSocket()) throw new ControlError('control.notSocket', `${socketPath} exists and is not a socket; refusing to replace it`);
  if (await canConnect(socketPath)) throw new ControlError('control.inUse', `another pban is already listening on ${socketPath}`);
  fs.unlinkSync(socketPath);
}

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const socketPath = path.resolve(opts.socketPath);
  prepareDirectory(path.dirname(socketPath));
  await removeStaleSocket(socketPath);

  const sockets = new Set<net.Socket>();
  // allowHalfOpen: a client may send its request and shut down its side (`nc -N`) and still
  // read the reply; we always end the connection ourselves after replying.
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    handleConnection(sock, opts);
  });
  server.maxConnections = opts.maxConnections ?? 64;

  // The umask closes the window between bind() and chmod() in which the socket would have the default mode.
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldMask);
  }
  fs.chmodSync(socketPath, 0o600);
  const ino = fs.lstatSync(socketPath).ino;
  server.on('error', (e) => opts.onError?.(e, 'listen'));

  return {
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          // Remove the file only if it is still ours (a new daemon may have replaced it).
          try {
            if (fs.lstatSync(socketPath).ino === ino) fs.unlinkSync(socketPath);
          } catch {
            // already gone
          }
          resolve();
        });
      }),
  };
}
