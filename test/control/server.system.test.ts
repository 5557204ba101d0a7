import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeJson, request, requestRaw } from '../../src/control/client.js';
import { PassThrough } from 'node:stream';
import { MAX_REQUEST_BYTES, parseReply } from '../../src/control/protocol.js';
import { startControlServer } from '../../src/control/server.js';
import { BanJsonWriter, banToEntry } from '../../src/control/ban-json.js';
import type { BannedEntry, DaemonStatus, JailStatus } from '../../src/control/types.js';
import { ConfigError, ControlError } from '../../src/errors.js';
import { MemoryHandlers } from './memory-handlers.js';
import { JAILS, makeBan, sendRaw, startTestDaemon } from './test-daemon.js';
import { requireRoot } from '../helpers/system.js';

// The client talks only to a root-owned socket, and the tests chown sockets to other users.
before(() => requireRoot('the control client trusts only a root-owned socket'));

/** A child listens on the path and is killed with SIGKILL, so the socket file stays behind. */
async function leaveStaleSocket(socketPath: string): Promise<void> {
  const script = `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.stdout.write('up'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

test('the socket is 0600, its new directory 0700, both owned by the daemon user', async () => {
  const d = await startTestDaemon();
  try {
    const st = fs.lstatSync(d.socketPath);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, process.getuid!());
    const dir = fs.lstatSync(path.dirname(d.socketPath));
    assert.equal(dir.mode & 0o777, 0o700);
  } finally {
    await d.close();
  }
});

test('status, ban, banned, unban go through the socket and change the daemon state', async () => {
  const d = await startTestDaemon();
  try {
    const opts = { socketPath: d.socketPath };
    const now = d.clock.now();
    d.handlers.addBan(makeBan('192.0.2.1', 'postfix', 'address', now - 60_000, now + 3_000_000, 5, 1));
    d.handlers.addBan(makeBan('198.51.100.0/24', 'postfix', 'network', now - 30_000, null, 40, 2));
    d.handlers.recordFailures('postfix', 3, 17);

    const st = (await request(opts, 'status', {})) as DaemonStatus;
    assert.equal(st.jails.length, 2);
    const pf = st.jails.find((j) => j.name === 'postfix');
    assert.deepEqual(pf?.currentlyBanned, { addresses: 1, networks: 1 });
    assert.equal(pf?.currentlyFailing, 3);
    assert.equal(pf?.totalFailed, 17);

    const made = await request(opts, 'ban', { jail: 'postfix-sasl', target: '2001:db8::1', timeMs: 7_200_000 });
    assert.deepEqual(made.ban, {
      target: '2001:db8::1/128', jail: 'postfix-sasl', kind: 'manual', failures: 0, bannedAt: now, expiresAt: now + 7_200_000, banNumber: 1,
    });
    const all = await request(opts, 'banned', {});
    assert.deepEqual(all.map((b: BannedEntry) => b.target), ['192.0.2.1/32', '198.51.100.0/24', '2001:db8::1/128']);
    const sasl = await request(opts, 'banned', { jail: 'postfix-sasl' });
    assert.equal(sasl.length, 1);

    const js = (await request(opts, 'status', { jail: 'postfix' })) as JailStatus;
    assert.deepEqual(js.actions, { currentlyBanned: 2, totalBanned: 2, banned: ['192.0.2.1/32', '198.51.100.0/24'] });
    assert.deepEqual(js.filter, { name: 'postfix', currentlyFailed: 3, totalFailed: 17, sources: ['/var/log/mail.log'] });

    const un = await request(opts, 'unban', { targets: ['192.0.2.1/32', '203.0.113.5/32'] });
    assert.deepEqual(un.lifted.map((b) => b.target), ['192.0.2.1/32']);
    assert.deepEqual(un.notBanned, ['203.0.113.5/32']);
    assert.equal((await request(opts, 'banned', {})).length, 2);

    const again = await request(opts, 'ban', { jail: 'postfix-sasl', target: '2001:db8::1' });
    assert.equal(again.ban.banNumber, 2, 'a repeat ban counts up');
    assert.equal(again.ban.expiresAt, now + 86_400_000, "no time: the jail's bantime");

    const gone = await request(opts, 'unban', { all: true, jail: 'postfix' });
    assert.equal(gone.lifted.length, 1);
    assert.deepEqual((await request(opts, 'banned', {})).map((b) => b.target), ['2001:db8::1/128']);
  } finally {
    await d.close();
  }
});

async function pipeToString(socketPath: string, args: { jail?: string }): Promise<string> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  await pipeJson({ socketPath }, 'banned', args, sink);
  return Buffer.concat(chunks).toString('utf8');
}

test('banned --json data streams through unparsed, one ban per line, and is valid JSON', async () => {
  const d = await startTestDaemon();
  try {
    const now = d.clock.now();
    for (let i = 1; i <= 3000; i++) d.handlers.addBan(makeBan(`192.0.${i >> 8}.${i & 255}`, 'postfix', 'address', now, now + 1000, i, 1));
    const text = await pipeToString(d.socketPath, {});
    assert.ok(text.endsWith(']\n'));
    assert.equal(text.split('\n').length, 3003);
    const list = JSON.parse(text) as BannedEntry[];
    assert.equal(list.length, 3000);
    assert.deepEqual(list[2999], { target: '192.0.11.184/32', jail: 'postfix', kind: 'address', failures: 3000, bannedAt: now, expiresAt: now + 1000, banNumber: 1 });
    assert.equal(await pipeToString(d.socketPath, { jail: 'postfix-sasl' }), '[]\n');
    await assert.rejects(pipeToString(d.socketPath, { jail: 'nope' }), { code: 'jail.unknown' });
  } finally {
    await d.close();
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

test('errors from handlers become error replies: unknown jail, invalid target, invalid config', async () => {
  const d = await startTestDaemon();
  try {
    const opts = { socketPath: d.socketPath };
    await assert.rejects(request(opts, 'status', { jail: 'nope' }), (e: ControlError) => {
      assert.equal(e.code, 'jail.unknown');
      assert.equal(e.message, 'unknown jail "nope" (jails: postfix, postfix-sasl)');
      return true;
    });
    await assert.rejects(request(opts, 'ban', { jail: 'postfix', target: '192.0.2.999' }), { code: 'target.invalid' });
    await assert.rejects(request(opts, 'unban', { targets: ['192.0.2.1'], jail: 'nope' }), { code: 'jail.unknown' });

    d.handlers.nextConfig = new ConfigError('config.unknownKey', '/etc/pban/pban.toml', 14, 'unknown key "maxretries"');
    await assert.rejects(request(opts, 'reload', {}), { message: '/etc/pban/pban.toml:14: unknown key "maxretries"' });
    assert.equal((await request(opts, 'status', {}) as DaemonStatus).jails.length, 2, 'the old config keeps running');
  } finally {
    await d.close();
  }
});

test('reload drops a removed jail and lifts its bans', async () => {
  const d = await startTestDaemon();
  try {
    const opts = { socketPath: d.socketPath };
    await request(opts, 'ban', { jail: 'postfix-sasl', target: '203.0.113.7' });
    await request(opts, 'ban', { jail: 'postfix', target: '203.0.113.8' });
    d.handlers.nextConfig = [JAILS[0]!];
    const r = await request(opts, 'reload', {});
    assert.deepEqual(r, { jails: ['postfix'], added: [], removed: ['postfix-sasl'], lifted: 1 });
    assert.deepEqual((await request(opts, 'banned', {})).map((b) => b.target), ['203.0.113.8/32']);
  } finally {
    await d.close();
  }
});

test('a handler bug becomes an "internal" reply, is reported, and the server keeps serving', async () => {
  const d = await startTestDaemon();
  try {
    d.handlers.statusFault = new TypeError("Cannot read properties of undefined (reading 'size')");
    await assert.rejects(request({ socketPath: d.socketPath }, 'status', {}), (e: ControlError) => {
      assert.equal(e.code, 'internal');
      assert.match(e.message, /^internal error in status \(this is a bug, see the daemon log\): Cannot read/);
      return true;
    });
    assert.equal(d.errors.length, 1);
    d.handlers.statusFault = null;
    assert.ok(await request({ socketPath: d.socketPath }, 'status', {}));
  } finally {
    await d.close();
  }
});

test('garbage, oversized, empty and stalled requests get an error reply and the server survives', async () => {
  const d = await startTestDaemon();
  try {
    const code = (text: string): string => {
      const r = parseReply(text);
      return r.ok ? 'ok' : r.error.code;
    };
    assert.equal(code(await sendRaw(d.socketPath, 'GET / HTTP/1.0\r\n\r\n')), 'request.invalidJson');
    assert.equal(code(await sendRaw(d.socketPath, Buffer.from([0xff, 0x00, 0xfe, 0x0a]))), 'request.invalidJson');
    assert.equal(code(await sendRaw(d.socketPath, '{"v":1,"cmd":"status"')), 'request.invalidJson');
    assert.equal(code(await sendRaw(d.socketPath, '{"v":1,"cmd":"status"}')), 'ok', 'no newline, but half-closed: still read');
    assert.equal(code(await sendRaw(d.socketPath, '')), 'request.empty');
    assert.equal(code(await sendRaw(d.socketPath, 'x'.repeat(MAX_REQUEST_BYTES * 4))), 'request.tooLarge');
    assert.equal(code(await sendRaw(d.socketPath, '{"v":1,"cmd":"status"', { end: false })), 'request.timeout');
    assert.equal(code(await sendRaw(d.socketPath, '{"v":1,"cmd":"status"}\n{"v":1,"cmd":"stop"}\n')), 'ok');
    assert.equal(d.handlers.stopCalls, 0, 'only the first request of a connection runs');
    // A client that vanishes before its reply.
    await new Promise<void>((resolve) => {
      const s = net.createConnection(d.socketPath, () => {
        s.write('{"v":1,"cmd":"banned"}\n');
        s.destroy();
        resolve();
      });
    });
    assert.ok(await request({ socketPath: d.socketPath }, 'version', {}));
    assert.deepEqual(d.errors, []);
  } finally {
    await d.close();
  }
});

test('stop replies first, then calls the handler', async () => {
  const d = await startTestDaemon();
  try {
    assert.deepEqual(await request({ socketPath: d.socketPath }, 'stop', {}), { stopping: true });
    for (let i = 0; i < 50 && d.handlers.stopCalls === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(d.handlers.stopCalls, 1);
  } finally {
    await d.close();
  }
});

test('a stale socket is replaced; a live one or a regular file is refused', async () => {
  const d = await startTestDaemon();
  try {
    const h = new MemoryHandlers(d.clock, JAILS);
    await assert.rejects(startControlServer({ socketPath: d.socketPath, handlers: h }), { code: 'control.inUse' });

    const stalePath = path.join(d.dir, 'run', 'stale.sock');
    // A socket file nobody listens on: what a killed daemon leaves behind.
    await leaveStaleSocket(stalePath);
    assert.ok(fs.lstatSync(stalePath).isSocket(), 'a dead socket file exists');
    const again = await startControlServer({ socketPath: stalePath, handlers: h });
    assert.ok(await requestRaw({ socketPath: stalePath }, 'version', {}));
    await again.close();

    const filePath = path.join(d.dir, 'run', 'file.sock');
    fs.writeFileSync(filePath, 'not a socket');
    await assert.rejects(startControlServer({ socketPath: filePath, handlers: h }), { code: 'control.notSocket' });
    assert.equal(fs.readFileSync(filePath, 'utf8'), 'not a socket');
  } finally {
    await d.close();
  }
});

test('a directory others can write is refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-control-'));
  try {
    fs.chmodSync(dir, 0o777);
    const h = new MemoryHandlers({ now: () => 0 }, JAILS);
    await assert.rejects(startControlServer({ socketPath: path.join(dir, 'pban.sock'), handlers: h }), { code: 'control.unsafeDir' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the client: daemon down, stale socket, a socket owned by someone else', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-control-'));
  try {
    const missing = path.join(dir, 'pban.sock');
    await assert.rejects(request({ socketPath: missing }, 'status', {}), {
      code: 'control.notRunning',
      message: `pban is not running (no socket at ${missing})`,
    });

    const d = await startTestDaemon();
    try {
      fs.chownSync(d.socketPath, 65534, 65534); // nobody
      await assert.rejects(request({ socketPath: d.socketPath }, 'status', {}), {
        code: 'control.untrusted',
        message: `refusing to talk to ${d.socketPath}: it is owned by uid 65534, not root, so it may not be pban's`,
      });
    } finally {
      await d.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('pipeJson copes with a reply that arrives one byte at a time, and with one cut short', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-control-'));
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
