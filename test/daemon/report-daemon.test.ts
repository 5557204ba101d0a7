// `pban report --daemon` against the real daemon (dry-run action): it asks the daemon over the
// control socket where its store is and reads that store read only, while the daemon runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saslLine, cli, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import { runPban } from '../helpers/run-cli.js';
import type { BannedEntry } from '../../src/control/types.js';
import type { Report } from '../../src/report/model.js';

let dir: string;
let daemon: DaemonProcess | undefined;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pban-report-daemon-'));
});
after(async () => {
  if (daemon) await stopDaemon(daemon);
  rmSync(dir, { recursive: true, force: true });
});

test('--daemon and --store report the running daemon\'s bans and who is near one', async () => {
  const config = path.join(dir, 'pban.toml');
  const socket = path.join(dir, 'pban.sock');
  const log = path.join(dir, 'mail.log');
  writeFileSync(log, '');
  writeFileSync(config, `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[defaults]
findtime = "10m"
maxretry = 3
bantime = "1h"
ignoreself = false
action = ["dry-run"]
[jails.postfix]
filter = "postfix"
logpath = ["mail.log"]
`);
  daemon = await startDaemon(config, socket);
  // Two failures of one address (near its threshold of 3), then three of another (a ban).
  appendFileSync(log, [saslLine('203.0.113.9'), saslLine('203.0.113.9'), saslLine('198.51.100.7'), saslLine('198.51.100.7'), saslLine('198.51.100.7')].join('\n') + '\n');
  await waitFor('the ban', () => cliJson<BannedEntry[]>(socket, ['banned']).some((b) => b.target === '198.51.100.7/32'), 30_000);

  const r = runPban(['report', '-c', config, '--daemon', '--socket', socket, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as Report;
  assert.equal(rep.source.kind, 'daemon');
  assert.equal(rep.source.database, path.join(dir, 'pban.sqlite'));
  assert.deepEqual(rep.totals.bans, { address: 1, network: 0, manual: 0 });
  assert.equal(rep.totals.failures, 5);
  assert.deepEqual(rep.addresses.map((a) => [a.address, a.failures, a.bans]), [['198.51.100.7', 3, 1], ['203.0.113.9', 2, 0]]);
  assert.deepEqual(rep.nearThreshold.addresses.map((x) => [x.target, x.failures, x.missing]), [['203.0.113.9/32', 2, 1]]);
  assert.equal(rep.traffic.connections, null);

  // --store reads the same file by the config's path, while the daemon keeps running.
  const s = runPban(['report', '-c', config, '--store', '--json']);
  assert.equal(s.status, 0, s.stderr);
  const st = JSON.parse(s.stdout) as Report;
  assert.deepEqual({ ...st, source: null, generatedAt: 0 }, { ...rep, source: null, generatedAt: 0 });

  // The daemon is undisturbed: it still answers and still bans.
  assert.equal(cli(socket, ['status']).status, 0);
  appendFileSync(log, saslLine('203.0.113.9') + '\n');
  await waitFor('the second ban', () => cliJson<BannedEntry[]>(socket, ['banned']).some((b) => b.target === '203.0.113.9/32'), 30_000);
});

test('--daemon without a daemon is one clear line', () => {
  const config = path.join(dir, 'none.toml');
  writeFileSync(config, `[pban]\ndatabase = "x.sqlite"\nsocket = "none.sock"\n[jails.postfix]\nfilter = "postfix"\nlogpath = ["mail.log"]\naction = ["dry-run"]\n`);
  const r = runPban(['report', '-c', config, '--daemon']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^pban: pban is not running \(no socket at .*none\.sock\)\n$/);
});
