// The real `pban start` (dry-run action) with `[pban] metrics` on a loopback port: /metrics is
// scraped during a ban and its counters must say what happened.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { saslLine, cli, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import { runPban } from '../helpers/run-cli.js';
import type { BannedEntry } from '../../src/control/types.js';
import { parseProm, value, type Samples } from './prom-text.js';

let root: string;
const running: DaemonProcess[] = [];

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-metrics-test-'));
});
after(async () => {
  for (const d of running) await stopDaemon(d);
  rmSync(root, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const noise = (): string => `${new Date().toISOString()} mail postfix/smtpd[77]: connect from unknown[192.0.2.9]`;

function setup(name: string, metrics: string): { dir: string; config: string; socket: string; log: string } {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'pban.toml');
  const log = path.join(dir, 'mail.log');
  writeFileSync(log, '');
  writeFileSync(
    config,
    `[pban]
database = "pban.sqlite"
socket = "pban.sock"
metrics = "${metrics}"
[defaults]
findtime = "10m"
maxretry = 3
bantime = "1h"
action = ["dry-run"]
[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ["mail.log"]
`,
  );
  return { dir, config, socket: path.join(dir, 'pban.sock'), log };
}

/** Scrapes until `ready` holds (the action's promise settles after the ban is visible), or fails after 10 s. */
async function scrapeUntil(port: number, what: string, ready: (m: Samples) => boolean): Promise<Samples> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const m = await scrape(port);
    if (ready(m)) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function scrape(port: number): Promise<Samples> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(r.status, 200);
  return parseProm(await r.text());
}

test('/metrics of the real daemon counts lines, failures, bans, active bans, action runs and commits', async () => {
  const port = await freePort();
  const s = setup('scrape', `127.0.0.1:${port}`);
  const d = await startDaemon(s.config, s.socket);
  running.push(d);
  assert.match(d.output(), /metrics\.listening/);

  // 2 failures of one address (below maxretry), then 3 of another (a ban), between 4 unmatched lines.
  appendFileSync(s.log, [noise(), saslLine('198.51.100.20'), saslLine('198.51.100.20'), noise()].join('\n') + '\n');
  appendFileSync(s.log, [saslLine('198.51.100.7'), noise(), saslLine('198.51.100.7'), saslLine('198.51.100.7'), noise()].join('\n') + '\n');
  await waitFor('the ban', () => cliJson<BannedEntry[]>(s.socket, ['banned']).length === 1);
  const jail = { jail: 'postfix' };
  const run = { jail: 'postfix', action: 'dry-run', op: 'ban' };
  const m = await scrapeUntil(port, 'the ban action to complete', (x) => x.get('pban_action_latency_seconds_count{action="dry-run",jail="postfix",op="ban"}') === 1);
  const source = { source: s.log };
  assert.equal(value(m, 'pban_source_lines_read_total', source), 9);
  assert.equal(value(m, 'pban_source_lines_matched_total', source), 5);
  assert.equal(value(m, 'pban_source_lag_bytes', source), 0);
  assert.equal(value(m, 'pban_failures_total', { ...jail, kind: 'sasl' }), 5);
  assert.equal(value(m, 'pban_bans_total', { ...jail, kind: 'address', origin: 'jail' }), 1);
  assert.equal(value(m, 'pban_active_bans', { ...jail, kind: 'address' }), 1);
  assert.equal(value(m, 'pban_active_bans', { ...jail, kind: 'network' }), 0);
  assert.equal(value(m, 'pban_action_runs_total', run), 1);
  assert.equal(value(m, 'pban_action_healthy', { jail: 'postfix', action: 'dry-run' }), 1);
  assert.ok(value(m, 'pban_action_latency_seconds_sum', run) < 5);
  assert.ok(value(m, 'pban_store_commit_seconds_count') >= 2, 'one commit per batch at least');
  assert.ok(value(m, 'process_resident_memory_bytes') > 0);
  assert.ok(m.has('nodejs_eventloop_lag_seconds'));

  // Prometheus's own linter passes every pban metric (prom-client's nodejs_active_*_total gauges
  // are its known complaint, outside pban's names).
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), encoding: 'utf8' });
  assert.equal(lint.error, undefined, 'promtool must be installed (scripts/setup-test-env.sh installs the prometheus package)');
  const problems = (lint.stdout + lint.stderr).split('\n').filter((l) => l.trim() !== '');
  assert.deepEqual(problems.filter((l) => !/^nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/.test(l)), []);

  // A manual network ban and its unban show up with their own labels.
  assert.equal(cli(s.socket, ['ban', 'postfix', '203.0.113.0/24']).status, 0);
  assert.equal(cli(s.socket, ['unban', '198.51.100.7']).status, 0);
  const m2 = await scrapeUntil(port, 'the unban action to complete', (x) => x.get('pban_action_latency_seconds_count{action="dry-run",jail="postfix",op="unban"}') === 1);
  assert.equal(value(m2, 'pban_bans_total', { ...jail, kind: 'network', origin: 'manual' }), 1);
  assert.equal(value(m2, 'pban_unbans_total', { ...jail, kind: 'address', reason: 'manual' }), 1);
  assert.equal(value(m2, 'pban_active_bans', { ...jail, kind: 'address' }), 0);
  assert.equal(value(m2, 'pban_active_bans', { ...jail, kind: 'network' }), 1);
  assert.equal(value(m2, 'pban_action_runs_total', run), 2);

  // A reload with another address moves the endpoint; the counters go on.
  const port2 = await freePort();
  writeFileSync(s.config, readFileSync(s.config, 'utf8').replace(`127.0.0.1:${port}`, `127.0.0.1:${port2}`));
  assert.equal(cli(s.socket, ['reload']).status, 0);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`));
  assert.equal(value(await scrape(port2), 'pban_failures_total', { ...jail, kind: 'sasl' }), 5);
  assert.equal(await stopDaemon(d), 0);
});

test('a bad metrics address is one line naming the file and line, from check and from start', () => {
  const s = setup('bad', 'localhost:9464');
  for (const cmd of [['check', '-c', s.config], ['start', '-c', s.config]]) {
    const r = runPban(cmd);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `pban: ${s.config}:4: pban.metrics: invalid listen address "localhost:9464": host names are not accepted, write an address or CIDR network\n`);
  }
});

test('a metrics port already in use stops the start with one line naming the config line', async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as { port: number }).port;
  try {
    const s = setup('busy', `127.0.0.1:${port}`);
    const r = runPban(['start', '-c', s.config]);
    assert.equal(r.status, 1, r.stderr);
    // The daemon logs its stop (it had opened the store and the socket), then the one error line.
    assert.equal(r.stderr.split('\n').at(-2), `pban: ${s.config}:4: pban.metrics: cannot listen on 127.0.0.1:${port}: address already in use`);
  } finally {
    await new Promise((r) => busy.close(r));
  }
});
