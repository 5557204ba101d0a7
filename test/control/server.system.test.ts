// The control socket's mechanics, with the real daemon wherever a daemon is involved: the
// socket's file modes, refusing a second daemon or an unsafe path, replacing a stale socket,
// streaming a large ban list. (The reply shapes and errors of each command: contract.test.ts.)
import { before, test } from 'node:test';
import { requireRoot } from '../helpers/system.js';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeJson, request } from '../../src/control/client.js';
import { startControlServer } from '../../src/control/server.js';
import type { ControlHandlers } from '../../src/control/handlers.js';
import { BanJsonWriter, banToEntry } from '../../src/control/ban-json.js';
import { parseTarget } from '../../src/control/target.js';
import type { BannedEntry } from '../../src/control/types.js';
import type { ControlError } from '../../src/errors.js';
import type { Ban, BanKind } from '../../src/events.js';
import { startDaemon, stopDaemon } from '../helpers/daemon-process.js';
import { runPbanAsync } from '../cli/run-pban-async.js';
import { configText, saslLine, startRealDaemon } from './daemon-fixture.js';

before(() => requireRoot('the CLI talks only to a root-owned control socket'));

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pban-control-'));
}

function makeBan(target: string, jail: string, kind: BanKind, created: number, until: number | null, failures = 5, banNumber = 1): Ban {
  const t = parseTarget(target);
  if (!t.ok) throw new Error(t.error);
  return { target: t.target, jail, kind, created, until, failures, banNumber };
}

/** A config in `dir` (dry-run action) whose socket is `socket` (written as given). */
function writeConfig(dir: string, socket: string): string {
  const file = path.join(dir, 'pban.toml');
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'mail.log'), '');
  fs.writeFileSync(file, configText().replace('socket = "run/pban.sock"', `socket = ${JSON.stringify(socket)}`));
  return file;
}

test('the socket is 0600 and its new directory 0700, both owned by the daemon user', async () => {
  const d = await startRealDaemon();
  try {
    const st = fs.lstatSync(d.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, process.getuid!());
    const dir = fs.lstatSync(path.dirname(d.socket));
    assert.equal(dir.mode & 0o777, 0o700);
  } finally {
    await d.stop();
  }
});

test('a second daemon on the same socket is refused (exit 1, one line); the first serves on', async () => {
  const d = await startRealDaemon();
  try {
    // The same state would be refused by its lock first: its own database, the same socket.
    const other = path.join(path.dirname(d.config), 'other.toml');
    fs.writeFileSync(other, fs.readFileSync(d.config, 'utf8').replace('database = "state/pban.sqlite"', 'database = "other/pban.sqlite"'));
    const second = await runPbanAsync(['start', '-c', other]);
    assert.equal(second.status, 1);
    assert.match(second.stderr, new RegExp(`^pban: another pban is already listening on ${d.socket}\\n$`, 'm'));
    const same = await runPbanAsync(['start', '-c', d.config]);
    assert.equal(same.status, 1);
    assert.match(same.stderr, /^pban: another pban is running with the state in /m);
    assert.equal((await d.pban('status')).status, 0);
  } finally {
    await d.stop();
  }
});

test('a socket path that is a regular file, or in a directory others can write, is refused: exit 1, nothing replaced', async () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'file.sock');
    fs.writeFileSync(file, 'not a socket');
    const r1 = await runPbanAsync(['start', '-c', writeConfig(dir, 'file.sock')]);
    assert.equal(r1.status, 1);
    assert.match(r1.stderr, new RegExp(`^pban: ${file} exists and is not a socket; refusing to replace it\\n$`, 'm'));
    assert.equal(fs.readFileSync(file, 'utf8'), 'not a socket');

    const open = path.join(dir, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    const r2 = await runPbanAsync(['start', '-c', writeConfig(dir, 'open/pban.sock')]);
    assert.equal(r2.status, 1);
    assert.match(r2.stderr, /^pban: .*open: writable by group or others \(mode 777\); refusing to put the control socket there\n$/m);
    assert.deepEqual(fs.readdirSync(open), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 leaves a stale socket behind; the next start replaces it', async () => {
  const dir = tempDir();
  try {
    const config = writeConfig(dir, 'run/pban.sock');
    const socket = path.join(dir, 'run', 'pban.sock');
    const first = await startDaemon(config, socket);
    process.kill(first.child.pid!, 'SIGKILL');
    await first.exited;
    assert.ok(fs.lstatSync(socket).isSocket(), 'a dead socket file stays');
    await assert.rejects(request({ socketPath: socket }, 'status', {}), { code: 'control.notRunning', message: `pban is not running (stale socket at ${socket})` });
    const second = await startDaemon(config, socket);
    assert.equal((await request({ socketPath: socket }, 'version', {})).pid, second.child.pid);
    assert.equal(await stopDaemon(second), 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function pipeToString(socketPath: string, args: { jail?: string }): Promise<string> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  await pipeJson({ socketPath }, 'banned', args, sink);
  return Buffer.concat(chunks).toString('utf8');
}

test('banned --json streams through unparsed, one ban per line, valid JSON (2,500 bans: two slices)', async () => {
  const d = await startRealDaemon();
  try {
    const lines: string[] = [];
    for (let i = 0; i < 2500; i++) for (let k = 0; k < 3; k++) lines.push(saslLine(`198.18.${i >> 8}.${i & 255}`));
    await d.append(lines);
    const text = await pipeToString(d.socket, { jail: 'postfix' });
    assert.ok(text.endsWith('\n]\n'));
    assert.equal(text.split('\n').length, 2503);
    const list = JSON.parse(text) as BannedEntry[];
    assert.equal(list.length, 2500);
    assert.deepEqual(
      list.map((b) => b.target),
      Array.from({ length: 2500 }, (_, i) => `198.18.${i >> 8}.${i & 255}/32`),
    );
    assert.equal((JSON.parse(await pipeToString(d.socket, {})) as BannedEntry[]).length, 5000);
    await assert.rejects(pipeToString(d.socket, { jail: 'nope' }), { code: 'jail.unknown' });
  } finally {
    await d.stop();
  }
});

test('the hand-written ban JSON equals JSON.stringify, odd jail names and numbers included', () => {
  const bans = [
    makeBan('192.0.2.1', 'postfix', 'address', 1, 2, 5, 1),
    makeBan('2001:db8::/64', 'we"ird\\jail\u2028é', 'network', 1_700_000_000_000, null, 0, 12),
    makeBan('198.51.100.0/24', 'p', 'manual', 0, 9_007_199_254_740_991, 0, 1),
    { ...makeBan('203.0.113.9', 'p', 'address', -5, 1.5, Number.NaN, 10), until: Number.POSITIVE_INFINITY },
    makeBan('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'postfix', 'address', 1e15, 1e15 + 1, 1_000_000, 99),
  ];
  const sep = ',\n';
  const got = new BanJsonWriter().encode(bans, 0, bans.length, sep, false);
  assert.equal(got, bans.map((b) => JSON.stringify(banToEntry(b))).join(',\n'));
  assert.equal(new BanJsonWriter().encode(bans, 1, 2, sep, true), ',\n' + JSON.stringify(banToEntry(bans[1]!)));
});

test('a handler that throws something unexpected becomes an "internal" reply, is reported, and the server serves on', async () => {
  // Server mechanics only: no daemon has such a bug on purpose, so one handler is made to throw.
  const dir = tempDir();
  const errors: unknown[] = [];
  let fail = true;
  const handlers = {
    status: () => {
      if (fail) throw new TypeError("Cannot read properties of undefined (reading 'size')");
      return { ok: true };
    },
  } as unknown as ControlHandlers;
  const socketPath = path.join(dir, 'run', 'pban.sock');
  const server = await startControlServer({ socketPath, handlers, onError: (e) => errors.push(e) });
  try {
    await assert.rejects(request({ socketPath }, 'status', {}), (e: ControlError) => {
      assert.equal(e.code, 'internal');
      assert.match(e.message, /^internal error in status \(this is a bug, see the daemon log\): Cannot read/);
      return true;
    });
    assert.equal(errors.length, 1);
    fail = false;
    assert.deepEqual(await request({ socketPath }, 'status', {}), { ok: true });
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the client: daemon down, a socket owned by someone else', async () => {
  const dir = tempDir();
  try {
    const missing = path.join(dir, 'pban.sock');
    await assert.rejects(request({ socketPath: missing }, 'status', {}), {
      code: 'control.notRunning',
      message: `pban is not running (no socket at ${missing})`,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const d = await startRealDaemon();
  try {
    fs.chownSync(d.socket, 65534, 65534); // nobody
    await assert.rejects(request({ socketPath: d.socket }, 'status', {}), {
      code: 'control.untrusted',
      message: `refusing to talk to ${d.socket}: it is owned by uid 65534, not root, so it may not be pban's`,
    });
    const r = await d.pban('status');
    assert.deepEqual([r.status, r.stderr], [1, `pban: refusing to talk to ${d.socket}: it is owned by uid 65534, not root, so it may not be pban's\n`]);
  } finally {
    await d.stop();
  }
});

test('pipeJson copes with a reply that arrives one byte at a time, and with one cut short', async () => {
  // A peer that misbehaves on purpose (the daemon never sends byte by byte or stops half way).
  const dir = tempDir();
  try {
    const reply = '{"v":1,"ok":true,"data":[\n{"target":"192.0.2.1/32"}\n]}\n';
    const serve = (text: string) =>
      net.createServer({ allowHalfOpen: true }, (s) => {
        s.once('data', async () => {
          for (const ch of text) {
            s.write(ch);
            await new Promise((r) => setImmediate(r));
          }
          s.end();
        });
      });
    const whole = serve(reply);
    const p1 = path.join(dir, 'a.sock');
    await new Promise<void>((r) => whole.listen(p1, r));
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    await pipeJson({ socketPath: p1 }, 'banned', {}, sink);
    assert.equal(Buffer.concat(chunks).toString('utf8'), '[\n{"target":"192.0.2.1/32"}\n]\n');
    await new Promise<void>((r) => whole.close(() => r()));

    const cut = serve(reply.slice(0, 40));
    const p2 = path.join(dir, 'b.sock');
    await new Promise<void>((r) => cut.listen(p2, r));
    await assert.rejects(pipeJson({ socketPath: p2 }, 'banned', {}, new PassThrough()), { code: 'control.truncated' });
    await new Promise<void>((r) => cut.close(() => r()));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
