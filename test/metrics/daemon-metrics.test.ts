// The metrics module on its own: what each call adds, lag arithmetic, the listen address, and
// that the endpoint binds exactly the configured address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DaemonMetrics, lagBytes, parseListenAddress, type ListenAddress } from '../../src/metrics/index.js';
import { ManualClock } from '../../src/clock.js';
import { target } from '../../src/cidr.js';
import { ConfigError } from '../../src/errors.js';
import type { Ban } from '../../src/events.js';
import { parseProm, value } from './prom-text.js';

const ban = (t: string, kind: Ban['kind'] = 'address'): Ban => ({ target: target(t), jail: 'postfix', kind, created: 0, until: null, failures: 3, banNumber: 1 });

function fresh(clock = new ManualClock(1_000_000), active = { a: 0, n: 0 }, healthy = true): DaemonMetrics {
  return new DaemonMetrics({
    clock,
    view: { jails: () => [{ name: 'postfix', bannedAddresses: active.a, bannedNetworks: active.n, actions: [{ name: 'nftables', healthy }] }] },
  });
}

test('each call adds to its series; scrape-time gauges read the view', async () => {
  const active = { a: 0, n: 0 };
  const m = fresh(undefined, active, false);
  const pos = { sourceId: 'journal:x', path: 'journal', inode: 0, offset: 0, firstLineHash: 'cursor' };
  m.batch('/var/log/mail.log', 10, 4, pos);
  m.batch('/var/log/mail.log', 5, 0, pos);
  for (let i = 0; i < 3; i++) m.failure('postfix', 'sasl');
  m.failure('postfix', 'rbl');
  m.banned(ban('198.51.100.7'));
  m.banned(ban('203.0.113.0/24', 'network'));
  m.banned(ban('2001:db8::/64', 'manual'));
  m.lifted(ban('198.51.100.7'), 'expired');
  m.actionFailed('postfix', 'nftables', 'repair');
  active.a = 1;
  active.n = 2;
  const s = parseProm(await m.text());
  assert.equal(value(s, 'pban_source_lines_read_total', { source: '/var/log/mail.log' }), 15);
  assert.equal(value(s, 'pban_source_lines_matched_total', { source: '/var/log/mail.log' }), 4);
  assert.equal(value(s, 'pban_failures_total', { jail: 'postfix', kind: 'sasl' }), 3);
  assert.equal(value(s, 'pban_failures_total', { jail: 'postfix', kind: 'rbl' }), 1);
  assert.equal(value(s, 'pban_bans_total', { jail: 'postfix', kind: 'address', origin: 'jail' }), 1);
  assert.equal(value(s, 'pban_bans_total', { jail: 'postfix', kind: 'network', origin: 'jail' }), 1);
  assert.equal(value(s, 'pban_bans_total', { jail: 'postfix', kind: 'network', origin: 'manual' }), 1);
  assert.equal(value(s, 'pban_unbans_total', { jail: 'postfix', kind: 'address', reason: 'expired' }), 1);
  assert.equal(value(s, 'pban_active_bans', { jail: 'postfix', kind: 'address' }), 1);
  assert.equal(value(s, 'pban_active_bans', { jail: 'postfix', kind: 'network' }), 2);
  assert.equal(value(s, 'pban_action_healthy', { jail: 'postfix', action: 'nftables' }), 0);
  assert.equal(value(s, 'pban_action_failures_total', { jail: 'postfix', action: 'nftables', op: 'repair' }), 1);
  // A journal position has no file behind it: no lag series.
  assert.ok(![...s.keys()].some((k) => k.startsWith('pban_source_lag_bytes')));
  // Process metrics only once served.
  assert.ok(![...s.keys()].some((k) => k.startsWith('process_')));
});

test('action latency runs from the decision to the settled promise, on the daemon clock', async () => {
  const clock = new ManualClock(1_000_000);
  const m = fresh(clock);
  let finish!: (ok: boolean) => void;
  m.action('postfix', 'nftables', 'ban', clock.now(), new Promise<boolean>((r) => (finish = r)));
  m.action('postfix', 'nftables', 'unban', clock.now(), Promise.reject(new Error('boom')));
  clock.advance(40);
  finish(false);
  await new Promise((r) => setImmediate(r));
  const s = parseProm(await m.text());
  const ban = { jail: 'postfix', action: 'nftables', op: 'ban' };
  assert.equal(value(s, 'pban_action_runs_total', ban), 1);
  assert.equal(value(s, 'pban_action_latency_seconds_count', ban), 1);
  assert.equal(value(s, 'pban_action_latency_seconds_sum', ban), 0.04);
  assert.equal(value(s, 'pban_action_latency_seconds_bucket', { ...ban, le: '0.025' }), 0);
  assert.equal(value(s, 'pban_action_latency_seconds_bucket', { ...ban, le: '0.05' }), 1);
  assert.equal(value(s, 'pban_action_latency_seconds_count', { ...ban, op: 'unban' }), 1);
});

test('store commits are timed and their result or error passes through', async () => {
  const m = fresh();
  assert.equal(m.commit(() => 42), 42);
  assert.throws(() => m.commit(() => { throw new Error('disk full'); }), /disk full/);
  assert.equal(value(parseProm(await m.text()), 'pban_store_commit_seconds_count'), 2);
});

test('lag is file size minus the committed position, per source, from the real file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-lag-'));
  try {
    const file = path.join(dir, 'mail.log');
    writeFileSync(file, 'a line\n');
    const m = fresh();
    const st = statSync(file);
    m.batch(file, 1, 0, { sourceId: `file:${file}`, path: file, inode: st.ino, offset: st.size, firstLineHash: 'h' });
    assert.equal(value(parseProm(await m.text()), 'pban_source_lag_bytes', { source: file }), 0);
    appendFileSync(file, 'x'.repeat(99) + '\n');
    assert.equal(value(parseProm(await m.text()), 'pban_source_lag_bytes', { source: file }), 100);
    m.sourcesStopped();
    assert.ok(![...parseProm(await m.text()).keys()].some((k) => k.startsWith('pban_source_lag_bytes')));
    // A restart: the stored position says what is still unread before the follower reports.
    m.sourceStarted(file, [{ sourceId: `file:${file}`, path: file, inode: st.ino, offset: st.size, firstLineHash: 'h' }]);
    assert.equal(value(parseProm(await m.text()), 'pban_source_lag_bytes', { source: file }), 100);
    m.sourceStarted('/var/log/none.log', []);
    assert.equal(value(parseProm(await m.text()), 'pban_source_lag_bytes', { source: '/var/log/none.log' }), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lagBytes: same file, rotated file, missing file', () => {
  const pos = { sourceId: 'file:x', path: '/x', inode: 7, offset: 100, firstLineHash: 'h' };
  assert.equal(lagBytes(pos, { ino: 7, size: 160 }), 60);
  assert.equal(lagBytes(pos, { ino: 7, size: 50 }), 0); // truncated: the follower starts over
  assert.equal(lagBytes(pos, { ino: 8, size: 30 }), 30); // rotated: the new file is all unread
  assert.equal(lagBytes(pos, null), 0);
});

test('listen addresses: IPv4, bracketed IPv6, and one clear reason for each mistake', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464, text: '127.0.0.1:9464' });
  assert.deepEqual(parseListenAddress(' [::1]:9464 '), { host: '::1', port: 9464, text: '[::1]:9464' });
  assert.deepEqual(parseListenAddress('0.0.0.0:1'), { host: '0.0.0.0', port: 1, text: '0.0.0.0:1' });
  assert.deepEqual(parseListenAddress('[2001:DB8::1]:65535'), { host: '2001:db8::1', port: 65535, text: '[2001:db8::1]:65535' });
  const err = (s: string): string => {
    const r = parseListenAddress(s);
    assert.ok('error' in r, `${s} must be refused`);
    return r.error;
  };
  assert.match(err('localhost:9464'), /host names are not accepted/);
  assert.match(err('::1:9464'), /IPv6 address in brackets/);
  assert.match(err('[127.0.0.1]:9464'), /only IPv6 addresses go in brackets/);
  assert.match(err(':9464'), /missing address/);
  assert.match(err('127.0.0.1'), /expected ADDRESS:PORT/);
  assert.match(err('127.0.0.1:0'), /port must be a number 1-65535/);
  assert.match(err('127.0.0.1:65536'), /port must be a number 1-65535/);
  assert.match(err('127.0.0.1:09464'), /port must be a number 1-65535/);
  assert.match(err('10.0.0.0/8:9464'), /not a network/);
  assert.match(err('256.1.1.1:9464'), /IPv4 must be four decimal numbers/);
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = connect({ host, port }, () => {
      c.destroy();
      resolve('connected');
    });
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

test('the endpoint listens on the configured address only, serves /metrics only, and rebinds on a new address', async () => {
  const m = fresh();
  const port = await freePort();
  const listen = parseListenAddress(`127.0.0.1:${port}`) as ListenAddress;
  try {
    await m.serve({ listen, file: '/etc/pban/pban.toml', line: 4 });
    const r = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const s = parseProm(await r.text());
    assert.equal(value(s, 'pban_build_info', { version: (await import('../../src/version.js')).VERSION }), 1);
    assert.ok([...s.keys()].some((k) => k.startsWith('process_cpu_user_seconds_total')), 'process metrics once served');
    assert.ok([...s.keys()].some((k) => k.startsWith('nodejs_eventloop_lag_seconds')), 'event loop lag once served');
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 405);
    // 127.0.0.2 is this host too (all of 127/8 is loopback), yet nothing listens there.
    assert.equal(await tryConnect('127.0.0.2', port), 'ECONNREFUSED');
    // The same address again is a no-op; another one moves the endpoint.
    await m.serve({ listen, file: '/etc/pban/pban.toml', line: 4 });
    const port2 = await freePort();
    await m.serve({ listen: parseListenAddress(`127.0.0.1:${port2}`) as ListenAddress, file: '/etc/pban/pban.toml', line: 4 });
    assert.equal(await tryConnect('127.0.0.1', port), 'ECONNREFUSED');
    assert.equal((await fetch(`http://127.0.0.1:${port2}/metrics`)).status, 200);
    await m.serve(null);
    assert.equal(await tryConnect('127.0.0.1', port2), 'ECONNREFUSED');
  } finally {
    await m.close();
  }
});

test('a port in use is a config error naming the file and line; the old endpoint stays', async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const busyPort = (busy.address() as { port: number }).port;
  const m = fresh();
  const port = await freePort();
  try {
    await m.serve({ listen: parseListenAddress(`127.0.0.1:${port}`) as ListenAddress, file: '/etc/pban/pban.toml', line: 4 });
    await assert.rejects(
      m.serve({ listen: parseListenAddress(`127.0.0.1:${busyPort}`) as ListenAddress, file: '/etc/pban/pban.toml', line: 7 }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.message, `/etc/pban/pban.toml:7: pban.metrics: cannot listen on 127.0.0.1:${busyPort}: address already in use`);
        return true;
      },
    );
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 200);
    // An address this host does not have.
    await assert.rejects(
      m.serve({ listen: parseListenAddress(`192.0.2.1:${port}`) as ListenAddress, file: '/etc/pban/pban.toml', line: 7 }),
      /pban\.toml:7: pban\.metrics: cannot listen on 192\.0\.2\.1:\d+: no interface of this host has that address/,
    );
  } finally {
    await m.close();
    await new Promise((r) => busy.close(r));
  }
});
